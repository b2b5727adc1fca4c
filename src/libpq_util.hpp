// SPDX-License-Identifier: MIT
// Private to src/: helpers shared by everything that talks to libpq.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <libpq-fe.h>

#include "pgorm/connection.hpp"

namespace pgorm::detail {

/// Maps a failed PGresult to its exception and throws it: the one place where SQLSTATEs
/// become exception types. A result without SQLSTATE, or a connection that is no longer OK
/// after the error, becomes connection_error. `params` only serve to redact values the
/// server quoted back; they are never copied into the exception.
[[noreturn]] void throw_result_error(const PGresult* res, const PGconn* conn, std::string_view sql,
                                     std::span<const param> params,
                                     const std::vector<std::string>& secrets);

/// Throws connection_error with libpq's current error message for `conn`, prefixed by
/// `context`, with the secrets scrubbed.
[[noreturn]] void throw_connection_error(const PGconn* conn, std::string_view context,
                                         const std::vector<std::string>& secrets);

/// Throws usage_error: SQL text with a NUL byte would be cut short by libpq.
[[noreturn]] void throw_nul_in_sql(std::string_view sql);

/// Trims the trailing newline libpq puts at the end of its messages.
std::string trim_message(std::string_view message);

}  // namespace pgorm::detail
