// SPDX-License-Identifier: MIT
// The C++ blocks of docs/testing.md that need no GoogleTest, compiled (never run); those that
// need it are in testing_gtest_snippets.cpp. Each region between `doc-begin(name)` and
// `doc-end(name)` appears verbatim (dedented) in the page; check with tools/check_docs.py.

// doc-begin(server)
#include <pgorm/connection.hpp>
#include <pgorm/testing/server.hpp>

void scratch_database() {
  pgorm::testing::server pg;              // initdb + start: about 0.7 s
  pgorm::connection conn{pg.conninfo()};  // superuser "postgres", over a private Unix socket
  conn.exec("create table t (id int)");
}  // ~server(): stops the server and deletes its directory
// doc-end(server)

void container_database() {
  // doc-begin(testing_container)
  pgorm::testing::container_server pg{{.version = "15"}};  // ~3 s with the image present
  pgorm::connection conn{pg.conninfo()};  // host=127.0.0.1 port=<free port> user=postgres
  pg.restart();                           // pg_ctl inside the container, which keeps running
  // doc-end(testing_container)
}

// doc-begin(testing_replica)
#include <pgorm/testing/replica.hpp>

void read_from_a_replica() {
  pgorm::testing::server primary;
  auto standby = pgorm::testing::start_replica(primary);  // pg_basebackup -R, then start
  pgorm::connection{primary.conninfo()}.exec("create table t (id int)");
  pgorm::testing::wait_for_replay(primary, standby, std::chrono::seconds(10));
  pgorm::connection replica{standby.conninfo()};  // read-only: t is there
  primary.stop(pgorm::testing::shutdown_mode::immediate);
  pgorm::testing::promote(standby);  // pg_ctl promote: writable now
}
// doc-end(testing_replica)

// doc-begin(testing_pgbouncer)
#include <pgorm/testing/pgbouncer.hpp>

void through_pgbouncer() {
  pgorm::testing::server pg;
  pgorm::testing::pgbouncer bouncer{pg};  // pool_mode = transaction, private socket and port
  pgorm::connect_options options;
  options.pooler = pgorm::pooler_mode::transaction;
  pgorm::connection conn{bouncer.conninfo(), options};
  conn.exec("select 1");
  pgorm::connection app{bouncer.conninfo("postgres", "app_role"), options};  // any role
}
// doc-end(testing_pgbouncer)

// doc-begin(testing_pgbouncer_prepared)
void prepared_through_pgbouncer_1_24() {
  pgorm::testing::container_server pg{{.version = "17"}};
  pgorm::testing::pgbouncer_options o;
  o.container_version = "17";  // Debian 13's PgBouncer 1.24, from the same image
  o.settings = {{"max_prepared_statements", "200"}};
  pgorm::testing::pgbouncer bouncer{"127.0.0.1", pg.port(), o};
  pgorm::connect_options options;
  options.pooler = pgorm::pooler_mode::transaction_prepared;
  pgorm::connection conn{bouncer.conninfo(), options};
  conn.exec("select $1::int", {pgorm::param::text("1")});  // prepared once, for any session
}
// doc-end(testing_pgbouncer_prepared)

// doc-begin(testing_pgbouncer_version)
bool installed_pgbouncer_keeps_prepared_statements() {
  const std::string v = pgorm::testing::pgbouncer_version();  // "1.18.0" on Debian 12
  return pgorm::testing::pgbouncer_keeps_prepared_statements(v);
}
// doc-end(testing_pgbouncer_version)

// doc-begin(testing_any_server)
void against_whichever_server() {
  // Native, or the container that PGORM_TEST_SERVER=container:<major> names.
  pgorm::testing::any_server pg{{.tcp = true}};
  pgorm::connection conn{pg.conninfo()};
  pg.restart();  // pg_ctl natively, inside the container otherwise
}
// doc-end(testing_any_server)

// The blocks of docs/scaling.md.

// doc-begin(scaling_pooler)
#include <pgorm/pool.hpp>

pgorm::pool pool_behind_pgbouncer(const std::string& pgbouncer_url) {
  pgorm::pool_options options;
  options.max_size = 20;
  options.connection.pooler = pgorm::pooler_mode::transaction;
  options.connection.statement_timeout = std::chrono::seconds(5);  // enforced per statement
  return pgorm::pool{pgbouncer_url, options};
}
// doc-end(scaling_pooler)

// doc-begin(scaling_pooler_prepared)
pgorm::pool pool_behind_pgbouncer_with_prepare(const std::string& pgbouncer_url) {
  // pgbouncer.ini: pool_mode = transaction, max_prepared_statements = 200 (PgBouncer >= 1.21)
  pgorm::pool_options options;
  options.max_size = 20;
  options.connection.pooler = pgorm::pooler_mode::transaction_prepared;
  return pgorm::pool{pgbouncer_url, options};
}
// doc-end(scaling_pooler_prepared)

void listen_behind_pgbouncer(pgorm::connection& conn) {
  // doc-begin(scaling_refused)
  try {
    conn.exec("listen jobs");
  } catch (const pgorm::pooler_unsupported& e) {
    // "pgorm: LISTEN is not possible through a transaction-mode pooler ...": listen on a
    // direct connection to the server instead.
  }
  // doc-end(scaling_refused)
}
