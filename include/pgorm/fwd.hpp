// SPDX-License-Identifier: MIT
#pragma once

/// \file
/// Forward declarations of pgorm's main types, for users' own headers.

#include <cstdint>

struct pg_conn;    // libpq's PGconn
struct pg_result;  // libpq's PGresult
struct pg_cancel;  // libpq's PGcancel

namespace pgorm {

/// A PostgreSQL type OID (pg_type.oid), e.g. 23 for int4.
using oid = std::uint32_t;

class error;
class connection_error;
class usage_error;
class conversion_error;
class unexpected_null;
class sql_error;

class param;
class observer;
class result;
class connection;
struct connect_options;
struct transaction_options;
class transaction;
class pool;
class lease;
struct pool_options;

template <class T>
struct pg_type;
template <class T>
struct table_traits;

}  // namespace pgorm
