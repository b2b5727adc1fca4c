// SPDX-License-Identifier: MIT
// pgorm::testing::pgbouncer: a real PgBouncer (Debian's package) in front of a throwaway
// server. Each test starts its own server and PgBouncer.
#include <chrono>
#include <filesystem>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "pgorm/connection.hpp"
#include "pgorm/error.hpp"
#include "pgorm/testing/pgbouncer.hpp"
#include "pgorm/testing/server.hpp"

namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using pgorm::testing::pgbouncer;
using pgorm::testing::server;
using pgorm::testing::server_error;
using ::testing::HasSubstr;

std::string one(pgorm::connection& conn, const std::string& sql) {
  return std::string(conn.exec(sql).value(0, 0));
}

pgorm::connect_options unnamed() {
  pgorm::connect_options o;
  o.prepare = false;
  return o;
}

TEST(pgbouncer, passes_queries_to_the_server_in_transaction_mode) {
  server pg;
  pgbouncer bouncer{pg, {.pool_size = 1}};
  EXPECT_TRUE(bouncer.running());
  EXPECT_NE(bouncer.port(), pg.port());
  EXPECT_THAT(bouncer.conninfo(), HasSubstr(bouncer.socket_dir().string()));

  pgorm::connection a{bouncer.conninfo(), unnamed()};
  pgorm::connection b{bouncer.conninfo(), unnamed()};
  // Two clients, one server connection (pool_size 1): transaction pooling hands the same
  // backend to both, one transaction at a time.
  EXPECT_EQ(one(a, "select pg_backend_pid()"), one(b, "select pg_backend_pid()"));
  a.exec("create table t (id int)");
  b.exec("insert into t values (1)");
  pgorm::connection direct{pg.conninfo()};
  EXPECT_EQ(one(direct, "select count(*) from t"), "1");

  // The admin console answers as PgBouncer 1.x, and shows the pool mode it was given.
  pgorm::connection admin{bouncer.conninfo("pgbouncer"), unnamed()};
  const auto config = admin.exec("show config");
  bool found = false;
  for (int row = 0; row < config.rows(); ++row) {
    if (config.value(row, 0) == "pool_mode") {
      EXPECT_EQ(config.value(row, 1), "transaction");
      found = true;
    }
  }
  EXPECT_TRUE(found);
}

TEST(pgbouncer, any_role_of_the_server_logs_in_through_it) {
  server pg;
  pgbouncer bouncer{pg};
  {
    pgorm::connection direct{pg.conninfo()};
    direct.exec("create role app login");
    direct.exec("alter role app set search_path = app_schema");
  }
  pgorm::connection app{bouncer.conninfo("postgres", "app"), unnamed()};
  EXPECT_EQ(one(app, "select current_user"), "app");
  EXPECT_EQ(one(app, "show search_path"), "app_schema");
}

TEST(pgbouncer, session_mode_keeps_a_server_connection_per_client) {
  server pg;
  pgbouncer bouncer{pg, {.pool_mode = "session", .pool_size = 2}};
  pgorm::connection a{bouncer.conninfo(), unnamed()};
  pgorm::connection b{bouncer.conninfo(), unnamed()};
  EXPECT_NE(one(a, "select pg_backend_pid()"), one(b, "select pg_backend_pid()"));
}

TEST(pgbouncer, stop_start_and_destruction) {
  server pg;
  fs::path dir;
  {
    pgbouncer bouncer{pg};
    dir = bouncer.dir();
    const int pid = bouncer.pid();
    EXPECT_GT(pid, 0);
    bouncer.stop();
    EXPECT_FALSE(bouncer.running());
    pgorm::connect_options o = unnamed();
    o.connect_timeout = 2s;
    EXPECT_THROW(pgorm::connection(bouncer.conninfo(), o), pgorm::connection_error);
    bouncer.start();
    pgorm::connection c{bouncer.conninfo(), unnamed()};
    EXPECT_EQ(one(c, "select 1"), "1");
  }
  EXPECT_FALSE(fs::exists(dir));
}

TEST(pgbouncer, detach_and_attach_hand_over_ownership) {
  server pg;
  fs::path dir;
  int pid = 0;
  {
    pgbouncer bouncer{pg};
    dir = bouncer.dir();
    pid = bouncer.pid();
    bouncer.detach();
  }
  ASSERT_TRUE(fs::exists(dir));
  {
    auto again = pgbouncer::attach(dir);
    EXPECT_EQ(again.pid(), pid);
    pgorm::connection c{again.conninfo(), unnamed()};
    EXPECT_EQ(one(c, "select 1"), "1");
  }
  EXPECT_FALSE(fs::exists(dir));
}

TEST(pgbouncer, a_bad_setting_fails_with_pgbouncers_own_message) {
  server pg;
  try {
    pgbouncer bouncer{pg, {.settings = {{"pool_mode", "banana"}}}};
    FAIL() << "pgbouncer started with pool_mode = banana";
  } catch (const server_error& e) {
    EXPECT_THAT(e.what(), HasSubstr("banana"));
  }
}

TEST(pgbouncer, attach_refuses_a_directory_that_is_not_one) {
  EXPECT_THROW((void)pgbouncer::attach(fs::temp_directory_path()), server_error);
}

}  // namespace
