// SPDX-License-Identifier: MIT
#pragma once

/// \file
/// Where integration tests find their PostgreSQL server, and small helpers around it. Most
/// tests never call these directly: they derive from pgorm::test::db_test (db_test.hpp).

#include <string>
#include <string_view>

namespace pgorm::test {

/// libpq connection string (URL or key=value) of the server this test run uses, as a
/// superuser-capable role on an existing database. Chosen once per process, first match wins:
/// 1. env PGORM_TEST_DATABASE_URL;
/// 2. env DATABASE_URL;
/// 3. env PGORM_TEST_POOLER_STATE: the server behind that PgBouncer (its `upstream` file);
/// 4. env PGORM_TEST_SERVER_STATE: the state directory of `pgorm-test-server start` (ctest
///    sets it); throws pgorm::error when the directory holds no conninfo;
/// 5. otherwise a server started by this process on first use and stopped at exit (so a test
///    binary also runs on its own, outside ctest): a pgorm::testing::container_server when env
///    PGORM_TEST_SERVER is `container:<major>`, else a pgorm::testing::server.
/// Thread-safe. Throws pgorm::error (pgorm::testing::server_error) when no server can be had.
const std::string& server_conninfo();

/// The key=value conninfo of the PgBouncer (transaction pooling) that this run's tests go
/// through: env PGORM_TEST_POOLER_STATE names the state directory of `pgorm-test-server
/// pgbouncer` (ctest sets it for the tests labelled "pgbouncer"). Empty when tests connect to
/// the server directly. server_conninfo() stays the server behind it.
const std::string& pooler_conninfo();

/// True when the tests go through a transaction-mode PgBouncer (pooler_conninfo() is set):
/// db_test then gives each test a role of its own whose search_path is its schema, and
/// test_options() sets connect_options::pooler.
bool behind_pooler();

/// `conninfo` with every session's search_path set to `schema` (libpq's `options` parameter,
/// `-c search_path=<schema>`), for key=value strings and postgresql:// URLs alike. `schema`
/// must be a plain lower-case identifier ([a-z0-9_]), as unique_name() makes.
/// Example: `with_search_path("host=/tmp dbname=x", "s1")` is
/// `host=/tmp dbname=x options='-c search_path=s1'`.
std::string with_search_path(std::string_view conninfo, std::string_view schema);

/// A name unique within the test run's server: `t_<hint>_<pid>_<counter>`, reduced to
/// [a-z0-9_] and at most 63 bytes (PostgreSQL's NAMEDATALEN - 1), so it needs no quoting.
/// Thread-safe. Example: `unique_name("orders")` may give "t_orders_4242_7".
std::string unique_name(std::string_view hint);

/// `name` as a quoted SQL identifier: "a""b" for a"b.
std::string quote_ident(std::string_view name);

/// Stops the process-local server of server_conninfo() step 5, if one was started. Called by
/// the test main() after the last test; safe to call more than once.
void stop_local_server() noexcept;

}  // namespace pgorm::test
