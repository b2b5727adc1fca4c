// SPDX-License-Identifier: MIT
// connect_options::pooler = pooler_mode::transaction through a real PgBouncer in transaction
// mode (pgorm::testing::pgbouncer, Debian's package): what works, and what is refused with
// pooler_unsupported. Each test starts its own server and PgBouncer.
#include <chrono>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include "pgorm/connection.hpp"
#include "pgorm/error.hpp"
#include "pgorm/migrate.hpp"
#include "pgorm/pool.hpp"
#include "pgorm/testing/pgbouncer.hpp"
#include "pgorm/testing/server.hpp"
#include "pgorm/transaction.hpp"

namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using pgorm::testing::pgbouncer;
using pgorm::testing::server;
using ::testing::HasSubstr;

pgorm::connect_options behind_pooler() {
  pgorm::connect_options o;
  o.pooler = pgorm::pooler_mode::transaction;
  return o;
}

std::string one(pgorm::connection& conn, const std::string& sql) {
  return std::string(conn.exec(sql).value(0, 0));
}

class pooler_test : public ::testing::Test {
 protected:
  server pg;
  pgbouncer bouncer{pg, {.pool_size = 2}};
};

TEST_F(pooler_test, parameterized_statements_work_whichever_server_session_runs_them) {
  pgorm::connection a{bouncer.conninfo(), behind_pooler()};
  pgorm::connection b{bouncer.conninfo(), behind_pooler()};
  a.exec("create table t (id int)");
  std::set<std::string> backends;
  for (int i = 0; i < 6; ++i) {
    // While `a` holds one server session in a transaction, `b` runs on the other one; after
    // the commit PgBouncer hands `b` the most recently freed session: b's statements move
    // between two server sessions, and unnamed statements do not care.
    a.exec("begin");
    a.exec("insert into t values ($1::int)", {pgorm::param::text(std::to_string(i))});
    backends.insert(std::string(b.exec("select pg_backend_pid()::text").value(0, 0)));
    EXPECT_EQ(b.exec("select $1::int + 1", {pgorm::param::text(std::to_string(i))}).value(0, 0),
              std::to_string(i + 1));
    a.exec("commit");
    backends.insert(std::string(b.exec("select pg_backend_pid()::text").value(0, 0)));
    EXPECT_EQ(b.exec("select count(*) from t where id <= $1::int",
                     {pgorm::param::text(std::to_string(i))})
                  .value(0, 0),
              std::to_string(i + 1));
  }
  EXPECT_EQ(backends.size(), 2U) << "b should have run on both server sessions";
  EXPECT_EQ(a.prepared_statements(), 0U);
  EXPECT_EQ(b.prepared_statements(), 0U);
}

TEST_F(pooler_test, statement_timeout_is_enforced_per_statement_without_session_state) {
  auto o = behind_pooler();
  o.statement_timeout = 200ms;
  pgorm::connection c{bouncer.conninfo(), o};        // no "options" startup parameter: accepted
  EXPECT_EQ(one(c, "show statement_timeout"), "0");  // the server session keeps its default
  const auto started = std::chrono::steady_clock::now();
  EXPECT_THROW(c.exec("select pg_sleep(10)"), pgorm::query_canceled);
  // Generous bound: cancelled within 5 s of a 200 ms deadline, not after the 10 s sleep.
  EXPECT_LT(std::chrono::steady_clock::now() - started, 5s);
  EXPECT_EQ(one(c, "select 1"), "1");  // the connection stays usable
}

TEST_F(pooler_test, without_the_option_the_startup_settings_are_refused_by_pgbouncer) {
  pgorm::connect_options o;
  o.statement_timeout = 200ms;  // sent as the startup parameter "options"
  try {
    pgorm::connection c{bouncer.conninfo(), o};
    FAIL() << "PgBouncer 1.18 accepted the startup parameter options";
  } catch (const pgorm::connection_error& e) {
    EXPECT_THAT(e.what(), HasSubstr("unsupported startup parameter"));
  }
}

TEST_F(pooler_test, listen_is_refused_before_anything_is_sent) {
  pgorm::connection c{bouncer.conninfo(), behind_pooler()};
  try {
    c.exec("  /* worker */ LISTEN jobs");
    FAIL() << "LISTEN was sent through a transaction pooler";
  } catch (const pgorm::pooler_unsupported& e) {
    EXPECT_THAT(e.what(), HasSubstr("LISTEN"));
    EXPECT_THAT(e.what(), HasSubstr("direct connection"));
  }
  EXPECT_EQ(one(c, "select 1"), "1");
  // NOTIFY only needs a transaction: it works.
  c.exec("notify jobs, 'x'");
}

TEST_F(pooler_test, migrations_refuse_to_run_through_the_pooler) {
  const fs::path dir =
      fs::temp_directory_path() / ("pgorm-pooler-migrations-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  std::ofstream(dir / "0001_create.sql") << "create table migrated (id int);\n";
  pgorm::connection c{bouncer.conninfo(), behind_pooler()};
  try {
    (void)pgorm::migrate::apply(c, dir);
    FAIL() << "migrations ran through a transaction pooler";
  } catch (const pgorm::pooler_unsupported& e) {
    EXPECT_THAT(e.what(), HasSubstr("migrations"));
    EXPECT_THAT(e.what(), HasSubstr("advisory lock"));
  }
  fs::remove_all(dir);
  pgorm::connection direct{pg.conninfo()};
  EXPECT_EQ(one(direct, "select count(*) from pg_class where relname = 'migrated'"), "0");
}

TEST_F(pooler_test, a_pool_behind_pgbouncer_runs_transactions_without_a_discard_all_reset) {
  pgorm::pool_options po;
  po.max_size = 4;
  po.connection = behind_pooler();
  pgorm::pool p{bouncer.conninfo(), po};
  p.exec("create table t (id int primary key)", {});
  for (int i = 0; i < 20; ++i) {
    p.transaction([&](pgorm::transaction& tx) {
      tx.exec("insert into t values ($1::int)", {pgorm::param::text(std::to_string(i))});
    });
  }
  EXPECT_EQ(std::string(p.exec("select count(*) from t", {}).value(0, 0)), "20");
  // No DISCARD ALL went through PgBouncer: the server saw none.
  pgorm::connection direct{pg.conninfo()};
  EXPECT_EQ(one(direct, "select count(*) from pg_stat_activity where query ilike 'discard%'"), "0");
}

}  // namespace
