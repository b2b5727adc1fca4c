// SPDX-License-Identifier: MIT
// Private to src/: the parts of opening a connection that the synchronous constructor
// (connection.cpp) and the asynchronous connect (src/async/) share, so that both build the same
// conninfo (defaults, keepalives, session settings, pooler mode) and describe it the same way.
#pragma once

#include <chrono>
#include <string>

#include <libpq-fe.h>

#include "pgorm/connection.hpp"

namespace pgorm::detail {

/// Applies `options`' pooler mode to it, then starts a non-blocking connection attempt
/// (PQconnectStartParams) to the one host of `conninfo`, with pgorm's defaults (keepalives,
/// tcp_user_timeout) and `options`' session settings in the startup packet. The caller owns
/// the result (PQfinish) and drives PQconnectPoll; check PQstatus() for CONNECTION_BAD first.
/// Throws usage_error for bad settings, connection_error when libpq cannot allocate.
PGconn* start_connect(const std::string& conninfo, connect_options& options);

/// The deadline libpq itself would apply to `conn`'s attempt: connect_timeout from the
/// conninfo or PGCONNECT_TIMEOUT; zero for none.
std::chrono::milliseconds libpq_connect_timeout(PGconn* conn);

/// "host=... port=... dbname=... user=..." of a connected `conn`: safe to log.
std::string describe_connection(PGconn* conn);

}  // namespace pgorm::detail
