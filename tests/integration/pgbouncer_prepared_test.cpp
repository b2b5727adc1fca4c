// SPDX-License-Identifier: MIT
// connect_options::pooler = pooler_mode::transaction_prepared through a real PgBouncer >= 1.21
// in transaction mode with max_prepared_statements: pgorm's statement cache is kept, each
// statement is prepared once per pgorm connection, and PgBouncer prepares it again on every
// server session that runs it.
//
// The PgBouncer is the one that goes with the server under test: the installed program for the
// native server (Debian 12: 1.18, too old, so these tests skip there), the image's for
// PGORM_TEST_SERVER=container:<major> (PostgreSQL 17's image has Debian 13's PgBouncer 1.24:
// the CI step of that container runs them; the 15 image has 1.18 and skips).
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "pgorm/connection.hpp"
#include "pgorm/error.hpp"
#include "pgorm/listener.hpp"
#include "pgorm/migrate.hpp"
#include "pgorm/pool.hpp"
#include "pgorm/query.hpp"
#include "pgorm/testing/pgbouncer.hpp"
#include "pgorm/testing/server.hpp"
#include "support/schema.hpp"
#include "support/test_database.hpp"

namespace {

namespace fs = std::filesystem;
using pgorm::testing::pgbouncer;
using pgorm::testing::pgbouncer_options;

constexpr int server_sessions = 2;  // PgBouncer's default_pool_size

pgorm::connect_options through_pooler() {
  pgorm::connect_options o;
  o.pooler = pgorm::pooler_mode::transaction_prepared;
  return o;
}

// PgBouncer's SHOW STATS counters of one database (1.21 added the parse and bind counts).
std::map<std::string, std::int64_t> stats_of(const pgbouncer& bouncer, const std::string& db) {
  pgorm::connect_options o;
  o.prepare = false;  // the admin console takes no Parse of named statements
  pgorm::connection admin{bouncer.conninfo("pgbouncer"), o};
  const auto stats = admin.exec("show stats");
  std::map<std::string, std::int64_t> out;
  for (int row = 0; row < stats.rows(); ++row) {
    if (stats.value(row, 0) != db) continue;
    for (int col = 1; col < stats.columns(); ++col) {
      out[std::string(stats.column_name(col))] = std::stoll(std::string(stats.value(row, col)));
    }
  }
  return out;
}

class prepared_through_pgbouncer : public ::testing::Test {
 protected:
  void SetUp() override {
    // Where the fixture server listens: PgBouncer goes in front of it.
    pgorm::connection direct{pgorm::test::server_conninfo()};
    const auto where = direct.exec(
        "select coalesce(host(inet_server_addr()), ''), current_setting('port'), "
        "split_part(current_setting('unix_socket_directories'), ',', 1)");
    std::string host(where.value(0, 0));
    if (host.empty()) host = std::string(where.value(0, 2));
    const auto port = static_cast<std::uint16_t>(std::stoi(std::string(where.value(0, 1))));

    const char* spec_text = std::getenv("PGORM_TEST_SERVER");
    const auto spec = pgorm::testing::parse_server_spec(spec_text == nullptr ? "" : spec_text);
    pgbouncer_options options{.pool_size = server_sessions,
                              .settings = {{"max_prepared_statements", "100"}},
                              .container_version = spec.version};
    std::string version;
    try {
      version = pgorm::testing::pgbouncer_version(options);
    } catch (const pgorm::testing::server_error& e) {
      // In a container step the image's PgBouncer must run: there the error fails the test.
      if (spec.container) throw;
      GTEST_SKIP() << "no PgBouncer installed to test prepared statements through: " << e.what();
    }
    if (!pgorm::testing::pgbouncer_keeps_prepared_statements(version)) {
      GTEST_SKIP() << "PgBouncer " << version
                   << (spec.container ? " of the PostgreSQL " + spec.version + " image"
                                      : std::string(" (installed)"))
                   << " does not keep prepared statements in transaction mode: "
                      "max_prepared_statements needs PgBouncer >= 1.21 (Debian 12 has 1.18); "
                      "PGORM_TEST_SERVER=container:17 runs these tests with Debian 13's 1.24";
    }
    db_ = pgorm::test::unique_name("pgb_prepared");
    direct.exec("create database " + db_);
    bouncer_.emplace(host, port, options);
    EXPECT_EQ(bouncer_->version(), version);
    pgorm::connection setup{bouncer_->conninfo(db_), through_pooler()};
    setup.exec(qt::ddl);
    setup.exec(
        "insert into \"user\" (email, name, age) "
        "select 'u' || i || '@example.com', 'name-' || i, i from generate_series(1, 200) i");
  }

  void TearDown() override {
    bouncer_.reset();  // its server sessions hold the database
    if (db_.empty()) return;
    try {
      pgorm::connection direct{pgorm::test::server_conninfo()};
      direct.exec("drop database if exists " + db_ + " with (force)");
    } catch (const pgorm::error&) {  // NOLINT(bugprone-empty-catch): a throwaway server's
    }
  }

  std::string db_;
  std::optional<pgbouncer> bouncer_;
};

std::string backend_of(pgorm::connection& c) {
  return std::string(c.exec("select pg_backend_pid()::text").value(0, 0));
}

TEST_F(prepared_through_pgbouncer, one_prepare_per_connection_reused_on_every_server_session) {
  const auto before = stats_of(*bouncer_, db_);
  constexpr std::size_t clients = 8;
  constexpr int rounds = 50;
  constexpr const char* point = "select name, pg_backend_pid()::text from \"user\" where id = $1";
  std::vector<std::set<std::string>> backends(clients);
  std::vector<std::size_t> prepared(clients);
  std::vector<int> wrong(clients);
  std::vector<std::string> errors(clients);
  {
    std::vector<std::jthread> threads;
    for (std::size_t t = 0; t < clients; ++t) {
      threads.emplace_back([&, t] {
        try {
          pgorm::connection c{bouncer_->conninfo(db_), through_pooler()};
          for (int i = 0; i < rounds; ++i) {
            const int id = (static_cast<int>(t) * 37 + i * 13) % 200 + 1;
            const bool in_transaction = i % 5 == 0;
            if (in_transaction) c.exec("begin");
            const auto r = c.exec(point, {pgorm::param::text(std::to_string(id))});
            if (in_transaction) c.exec("commit");
            if (r.rows() != 1 || r.value(0, 0) != "name-" + std::to_string(id)) ++wrong[t];
            backends[t].insert(std::string(r.value(0, 1)));
          }
          prepared[t] = c.prepared_statements();
        } catch (const std::exception& e) {
          errors[t] = e.what();
        }
      });
    }
  }
  std::set<std::string> all_backends;
  for (std::size_t t = 0; t < clients; ++t) {
    EXPECT_EQ(errors[t], "") << "client " << t;
    EXPECT_EQ(wrong[t], 0) << "client " << t << " read rows of other ids";
    EXPECT_EQ(prepared[t], 1U) << "client " << t;
    all_backends.insert(backends[t].begin(), backends[t].end());
  }
  EXPECT_LE(all_backends.size(), static_cast<std::size_t>(server_sessions));

  // PgBouncer's own counts: each client prepared once, every execution bound the prepared
  // statement, and the server sessions (at most two) parsed it at most once each.
  const auto after = stats_of(*bouncer_, db_);
  const auto delta = [&](const std::string& name) {
    return after.at(name) - (before.count(name) != 0 ? before.at(name) : 0);
  };
  EXPECT_EQ(delta("total_client_parse_count"), static_cast<std::int64_t>(clients));
  EXPECT_EQ(delta("total_bind_count"), static_cast<std::int64_t>(clients) * rounds);
  EXPECT_GE(delta("total_server_parse_count"), 1);
  EXPECT_LE(delta("total_server_parse_count"), server_sessions);
}

TEST_F(prepared_through_pgbouncer, a_statement_moves_to_another_server_session_transparently) {
  pgorm::connection b{bouncer_->conninfo(db_), through_pooler()};
  pgorm::connection holder{bouncer_->conninfo(db_), through_pooler()};
  constexpr const char* point = "select name, pg_backend_pid()::text from \"user\" where id = $1";
  const auto first = b.exec(point, {pgorm::param::text("7")});
  ASSERT_EQ(first.value(0, 0), "name-7");
  const std::string p1(first.value(0, 1));
  // Occupy the session b's statement ran on, so that its next execution must go to the other
  // one, where PgBouncer has to prepare it again.
  bool held = false;
  for (int attempt = 0; attempt < 20 && !held; ++attempt) {
    holder.exec("begin");
    held = backend_of(holder) == p1;
    if (!held) holder.exec("commit");
  }
  ASSERT_TRUE(held) << "could not get hold of server session " << p1;
  const auto second = b.exec(point, {pgorm::param::text("8")});
  EXPECT_EQ(second.value(0, 0), "name-8");
  EXPECT_NE(std::string(second.value(0, 1)), p1);
  holder.exec("commit");
  EXPECT_EQ(b.prepared_statements(), 1U);  // prepared once by pgorm, on two server sessions
}

TEST_F(prepared_through_pgbouncer, the_bench_point_select_runs_prepared_through_a_pool) {
  pgorm::pool_options po;
  po.max_size = 4;
  po.connection = through_pooler();
  pgorm::pool db{bouncer_->conninfo(db_), po};
  const auto before = stats_of(*bouncer_, db_);
  constexpr std::size_t threads = 4;
  constexpr int rounds = 50;
  std::vector<int> wrong(threads);
  {
    std::vector<std::jthread> workers;
    for (std::size_t t = 0; t < threads; ++t) {
      workers.emplace_back([&, t] {
        for (int i = 0; i < rounds; ++i) {
          const std::int64_t id = (static_cast<std::int64_t>(t) * 50 + i) % 200 + 1;
          // What bench/peer_pgorm.cpp's point_select runs.
          const std::optional<qt::User> u = pgorm::find<qt::User>(db, id);
          if (!u || u->id != id || u->age != id) ++wrong[t];
        }
      });
    }
  }
  for (std::size_t t = 0; t < threads; ++t) EXPECT_EQ(wrong[t], 0) << "thread " << t;
  const auto after = stats_of(*bouncer_, db_);
  const auto parses = after.at("total_client_parse_count") - before.at("total_client_parse_count");
  // At most one Parse per pooled connection; every find bound the prepared statement.
  EXPECT_GE(parses, 1);
  EXPECT_LE(parses, 4);
  EXPECT_EQ(after.at("total_bind_count") - before.at("total_bind_count"),
            static_cast<std::int64_t>(threads) * rounds);
}

TEST_F(prepared_through_pgbouncer, cache_eviction_inside_a_transaction_does_not_abort_it) {
  // A statement evicted from a full cache is forgotten, not DEALLOCATEd: through PgBouncer an
  // SQL DEALLOCATE reaches a server session that does not know the name, fails, and would abort
  // the transaction.
  auto o = through_pooler();
  o.statement_cache_size = 2;
  pgorm::connection c{bouncer_->conninfo(db_), o};
  c.exec("begin");
  for (int i = 1; i <= 5; ++i) {
    const auto sql = "select age + " + std::to_string(i) + " from \"user\" where id = $1";
    EXPECT_EQ(c.exec(sql, {pgorm::param::text("10")}).value(0, 0), std::to_string(10 + i));
  }
  c.exec("update \"user\" set age = age + 1000 where id = $1", {pgorm::param::text("10")});
  c.exec("commit");
  EXPECT_EQ(c.prepared_statements(), 2U);
  EXPECT_EQ(
      c.exec("select age from \"user\" where id = $1", {pgorm::param::text("10")}).value(0, 0),
      "1010");
}

TEST_F(prepared_through_pgbouncer, what_needs_a_session_is_refused_and_the_pool_keeps_its_cache) {
  pgorm::connection c{bouncer_->conninfo(db_), through_pooler()};
  EXPECT_THROW(c.exec("listen jobs"), pgorm::pooler_unsupported);
  pgorm::listener_options lo;
  lo.connection = through_pooler();
  EXPECT_THROW(pgorm::listener(bouncer_->conninfo(db_), lo), pgorm::pooler_unsupported);
  const fs::path dir = fs::temp_directory_path() / (db_ + "_migrations");
  fs::create_directories(dir);
  std::ofstream(dir / "0001_create.sql") << "create table migrated (id int);\n";
  EXPECT_THROW((void)pgorm::migrate::apply(c, dir), pgorm::pooler_unsupported);
  fs::remove_all(dir);

  // A lease that ran raw SQL comes back without DISCARD ALL (which would also have emptied
  // pgorm's statement cache): the next borrower finds the statement still prepared.
  pgorm::pool_options po;
  po.max_size = 1;
  po.connection = through_pooler();
  pgorm::pool db{bouncer_->conninfo(db_), po};
  {
    auto lease = db.acquire();
    EXPECT_EQ(lease->exec("select age from \"user\" where id = $1", {pgorm::param::text("3")})
                  .value(0, 0),
              "3");
  }
  auto lease = db.acquire();
  EXPECT_EQ(lease->prepared_statements(), 1U);
  EXPECT_EQ(
      lease->exec("select age from \"user\" where id = $1", {pgorm::param::text("4")}).value(0, 0),
      "4");
}

}  // namespace
