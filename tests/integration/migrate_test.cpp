// SPDX-License-Identifier: MIT
// migrate.hpp against a real server: apply in order, idempotent re-apply, checksum drift,
// failure (rolled back, recorded, stops, retried; file, line, column, message, hint and what
// the run applied before), progress as it goes, the lock timeout, no-transaction files (recorded
// only when every statement succeeded; INVALID indexes of failed concurrent builds detected),
// E'' strings and BEGIN ATOMIC bodies, baseline, resolve, status, checksums identical to the
// server's sha256, embedded sets (cmake/pgorm_embed_migrations.cmake) identical to their files,
// and 4 processes applying at once (each migration runs exactly once).
#include "pgorm/migrate.hpp"

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pgorm/connection.hpp"
#include "pgorm/transaction.hpp"
#include "support/db_test.hpp"
#include "support/test_database.hpp"

#if defined(PGORM_TEST_EMBEDDED_MIGRATIONS)
#include "pgorm_test_embedded_migrations.hpp"
#endif

namespace migrate_it {

using pgorm::migrate::state;

class migrate_test : public pgorm::test::db_test {
 protected:
  void SetUp() override {
    db_test::SetUp();
    dir_ = std::filesystem::temp_directory_path() / pgorm::test::unique_name("migrations");
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override {
    std::filesystem::remove_all(dir_);
    db_test::TearDown();
  }
  void write(const std::string& file, const std::string& sql) const {
    std::ofstream(dir_ / file, std::ios::trunc) << sql;
  }
  std::string scalar(const std::string& sql) { return std::string(conn().exec(sql).value(0, 0)); }

  std::filesystem::path dir_;
};

TEST_F(migrate_test, applies_in_version_order_and_records_each_once) {
  write("0002_add_name.sql", "alter table people add column name text;");
  write("0001_people.sql", "create table people (id int primary key);");
  write("0010_seed.sql", "insert into people (id, name) values (1, 'a'), (2, 'b');");
  const auto ran = pgorm::migrate::apply(conn(), dir_);
  ASSERT_EQ(ran.size(), 3U);
  EXPECT_EQ(ran[0].file, "0001_people.sql");
  EXPECT_EQ(ran[1].file, "0002_add_name.sql");
  EXPECT_EQ(ran[2].file, "0010_seed.sql");
  EXPECT_EQ(scalar("select count(*) from people"), "2");
  EXPECT_EQ(scalar("select string_agg(version || ':' || name || ':' || success, ',' order by "
                   "version) from pgorm_migrations"),
            "0001:people:true,0002:add_name:true,0010:seed:true");
  // The checksum is the file's sha256.
  EXPECT_EQ(scalar("select checksum = encode(sha256(convert_to('create table people (id int "
                   "primary key);', 'UTF8')), 'hex') from pgorm_migrations where version = "
                   "'0001'"),
            "t");
  EXPECT_EQ(scalar("select bool_and(duration_ms >= 0 and applied_at <= now() + interval '1 "
                   "minute') from pgorm_migrations"),
            "t");

  // Idempotent: nothing pending, nothing runs.
  EXPECT_TRUE(pgorm::migrate::apply(conn(), dir_).empty());
  EXPECT_EQ(scalar("select count(*) from people"), "2");

  write("0011_more.sql", "insert into people (id) values (3);");
  const auto more = pgorm::migrate::apply(conn(), dir_);
  ASSERT_EQ(more.size(), 1U);
  EXPECT_EQ(more[0].version, "0011");
  const auto st = pgorm::migrate::status(conn(), dir_);
  ASSERT_EQ(st.size(), 4U);
  for (const auto& s : st) EXPECT_EQ(s.state, state::applied) << s.file;
}

TEST_F(migrate_test, changed_file_is_an_error_naming_it) {
  write("0001_people.sql", "create table people (id int primary key);");
  write("0002_more.sql", "create table more (id int);");
  pgorm::migrate::apply(conn(), dir_);
  write("0001_people.sql", "create table people (id bigint primary key);");
  write("0003_new.sql", "create table newer (id int);");
  try {
    pgorm::migrate::apply(conn(), dir_);
    FAIL() << "expected migration_error";
  } catch (const pgorm::migration_error& e) {
    EXPECT_EQ(e.file(), "0001_people.sql");
    EXPECT_NE(std::string(e.what()).find("0001_people.sql was changed"), std::string::npos)
        << e.what();
  }
  // Nothing ran: the check comes before any migration.
  EXPECT_EQ(scalar("select to_regclass('newer') is null"), "t");
  const auto st = pgorm::migrate::status(conn(), dir_);
  ASSERT_EQ(st.size(), 3U);
  EXPECT_EQ(st[0].state, state::changed);
  EXPECT_NE(st[0].checksum, st[0].recorded_checksum);
  EXPECT_EQ(st[1].state, state::applied);
  EXPECT_EQ(st[2].state, state::pending);
}

TEST_F(migrate_test, failing_migration_rolls_back_is_recorded_stops_and_is_retried) {
  write("0001_ok.sql", "create table ok (id int);");
  write("0002_bad.sql", "create table half (id int);\ninsert into ok values (1);\nselect 1/0;");
  write("0003_later.sql", "create table later (id int);");
  try {
    pgorm::migrate::apply(conn(), dir_);
    FAIL() << "expected migration_error";
  } catch (const pgorm::migration_error& e) {
    EXPECT_EQ(e.file(), "0002_bad.sql");
    EXPECT_EQ(e.version(), "0002");
    EXPECT_EQ(e.sqlstate(), "22012");  // division_by_zero
    EXPECT_NE(std::string(e.what()).find("rolled back"), std::string::npos) << e.what();
  }
  EXPECT_EQ(conn().status(), pgorm::transaction_status::idle);
  EXPECT_EQ(scalar("select to_regclass('half') is null"), "t");  // rolled back
  EXPECT_EQ(scalar("select count(*) from ok"), "0");
  EXPECT_EQ(scalar("select to_regclass('later') is null"), "t");  // stopped
  EXPECT_EQ(scalar("select success from pgorm_migrations where version = '0002'"), "f");
  auto st = pgorm::migrate::status(conn(), dir_);
  ASSERT_EQ(st.size(), 3U);
  EXPECT_EQ(st[0].state, state::applied);
  EXPECT_EQ(st[1].state, state::failed);
  EXPECT_EQ(st[2].state, state::pending);

  // Fixed, the next run retries it and goes on.
  write("0002_bad.sql", "create table half (id int);\ninsert into ok values (1);");
  const auto ran = pgorm::migrate::apply(conn(), dir_);
  ASSERT_EQ(ran.size(), 2U);
  EXPECT_EQ(ran[0].file, "0002_bad.sql");
  EXPECT_EQ(scalar("select count(*) from ok"), "1");
  EXPECT_EQ(scalar("select bool_and(success) from pgorm_migrations"), "t");
}

TEST_F(migrate_test, no_transaction_migration_runs_statement_by_statement) {
  write("0001_big.sql", "create table big (a int, b text);");
  write("0002_index.sql",
        "-- pgorm: no-transaction\n"
        "create index concurrently big_a on big (a);\n"
        "create index concurrently big_b on big (b); -- a comment; with a semicolon\n");
  const auto ran = pgorm::migrate::apply(conn(), dir_);
  EXPECT_EQ(ran.size(), 2U);
  EXPECT_EQ(scalar("select count(*) from pg_indexes where tablename = 'big' and schemaname = "
                   "current_schema()"),
            "2");

  // Without the marker CREATE INDEX CONCURRENTLY cannot run (it is inside a transaction).
  write("0003_plain.sql", "create index concurrently big_ab on big (a, b);");
  try {
    pgorm::migrate::apply(conn(), dir_);
    FAIL() << "expected migration_error";
  } catch (const pgorm::migration_error& e) {
    EXPECT_EQ(e.file(), "0003_plain.sql");
    EXPECT_EQ(e.sqlstate(), "25001");  // active_sql_transaction
  }
}

TEST_F(migrate_test, apply_inside_a_transaction_is_a_usage_error_and_commits_nothing_early) {
  write("0001_people.sql", "create table people (id int primary key);");
  conn().exec("create table marker (v int)");
  pgorm::connection other = connect();
  const auto marker_rows = [&] {
    return std::string(other.exec("select count(*) from marker").value(0, 0));
  };
  conn().transaction([&](pgorm::transaction& tx) {
    tx.exec("insert into marker values (1)");
    try {
      pgorm::migrate::apply(tx.conn(), dir_);
      ADD_FAILURE() << "migrate::apply inside a transaction was accepted";
    } catch (const pgorm::usage_error& e) {
      EXPECT_NE(std::string(e.what()).find("already in a transaction"), std::string::npos)
          << e.what();
    }
    EXPECT_EQ(marker_rows(), "0");  // the caller's work was not committed early
    EXPECT_EQ(tx.conn().status(), pgorm::transaction_status::in_transaction);
  });
  EXPECT_EQ(marker_rows(), "1");
  EXPECT_EQ(scalar("select to_regclass('people') is null"), "t");  // nothing was applied

  // The same inside a transaction begun with raw SQL.
  conn().exec("begin");
  conn().exec("insert into marker values (2)");
  EXPECT_THROW(pgorm::migrate::apply(conn(), dir_), pgorm::usage_error);
  EXPECT_EQ(marker_rows(), "1");
  conn().exec("rollback");
  EXPECT_EQ(scalar("select count(*) from marker"), "1");

  // Outside a transaction it applies.
  EXPECT_EQ(pgorm::migrate::apply(conn(), dir_).size(), 1U);
  EXPECT_EQ(scalar("select to_regclass('people') is null"), "f");
}

// A migration may run longer than the connection's per-call deadline (query_timeout): it has
// none of its own unless options::timeout says so; nor has the wait for another runner's lock.
TEST_F(migrate_test, migrations_and_the_lock_wait_are_not_cut_by_the_query_timeout) {
  write("0001_slow.sql", "select pg_sleep(0.6);\ncreate table slow_done (id int);");
  pgorm::connection quick{conninfo(), {.query_timeout = std::chrono::milliseconds(200)}};
  // Another runner holds the lock for a while (the same key apply() computes).
  pgorm::connection other = connect();
  other.exec(
      "select pg_advisory_lock(hashtextextended('pgorm_migrations:' || current_schema() || "
      "'.pgorm_migrations', 0))");
  std::thread release([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(600));
    other.exec(
        "select pg_advisory_unlock(hashtextextended('pgorm_migrations:' || current_schema() || "
        "'.pgorm_migrations', 0))");
  });
  std::vector<pgorm::migrate::applied_migration> ran;
  try {
    ran = pgorm::migrate::apply(quick, dir_);
  } catch (const std::exception& e) {
    ADD_FAILURE() << e.what();
  }
  release.join();
  ASSERT_EQ(ran.size(), 1U);
  EXPECT_EQ(scalar("select to_regclass('slow_done') is null"), "f");

  // With options::timeout, a migration that outlives it fails, is rolled back and recorded.
  write("0002_stuck.sql", "create table stuck (id int);\nselect pg_sleep(30);");
  const auto start = std::chrono::steady_clock::now();
  try {
    pgorm::migrate::apply(conn(), dir_, {.timeout = std::chrono::milliseconds(300)});
    ADD_FAILURE() << "the migration outlived its timeout";
  } catch (const pgorm::migration_error& e) {
    EXPECT_EQ(e.file(), "0002_stuck.sql");
    EXPECT_EQ(e.sqlstate(), "57014");
  }
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10));
  EXPECT_EQ(scalar("select to_regclass('stuck') is null"), "t");
  EXPECT_EQ(scalar("select success from pgorm_migrations where version = '0002'"), "f");
  EXPECT_EQ(conn().status(), pgorm::transaction_status::idle);
}

TEST_F(migrate_test, baseline_marks_without_running) {
  write("0001_a.sql", "create table a (id int);");
  write("0002_b.sql", "create table b (id int);");
  write("0003_c.sql", "create table c (id int);");
  const auto marked = pgorm::migrate::baseline(conn(), dir_, "0002");
  ASSERT_EQ(marked.size(), 2U);
  EXPECT_EQ(marked[1].file, "0002_b.sql");
  EXPECT_EQ(scalar("select to_regclass('a') is null and to_regclass('b') is null"), "t");
  const auto ran = pgorm::migrate::apply(conn(), dir_);
  ASSERT_EQ(ran.size(), 1U);
  EXPECT_EQ(ran[0].file, "0003_c.sql");
  EXPECT_TRUE(pgorm::migrate::baseline(conn(), dir_, "3").empty());
  EXPECT_THROW(static_cast<void>(pgorm::migrate::baseline(conn(), dir_, "v2")),
               pgorm::migration_error);
}

TEST_F(migrate_test, status_reports_pending_and_missing_without_creating_the_table) {
  write("0001_a.sql", "create table a (id int);");
  auto st = pgorm::migrate::status(conn(), dir_);
  ASSERT_EQ(st.size(), 1U);
  EXPECT_EQ(st[0].state, state::pending);
  EXPECT_EQ(st[0].checksum.size(), 64U);
  EXPECT_EQ(scalar("select to_regclass('pgorm_migrations') is null"), "t");
  pgorm::migrate::apply(conn(), dir_);
  std::filesystem::remove(dir_ / "0001_a.sql");
  st = pgorm::migrate::status(conn(), dir_);
  ASSERT_EQ(st.size(), 1U);
  EXPECT_EQ(st[0].state, state::missing);
  EXPECT_EQ(st[0].version, "0001");
  EXPECT_TRUE(st[0].applied_at.has_value());
}

TEST_F(migrate_test, custom_tracking_table_and_schema) {
  conn().exec("create schema " + schema() + "_meta");
  write("0001_a.sql", "create table a (id int);");
  const pgorm::migrate::options opts{.tracking_table = "Schema Versions",
                                     .tracking_schema = schema() + "_meta"};
  EXPECT_EQ(pgorm::migrate::apply(conn(), dir_, opts).size(), 1U);
  EXPECT_EQ(scalar("select count(*) from " + schema() + "_meta.\"Schema Versions\""), "1");
  EXPECT_TRUE(pgorm::migrate::apply(conn(), dir_, opts).empty());
  conn().exec("drop schema " + schema() + "_meta cascade");
}

TEST_F(migrate_test, four_processes_at_once_apply_each_migration_exactly_once) {
  write("0001_log.sql", "create table log (version text not null, pid int not null);");
  for (int i = 2; i <= 6; ++i) {
    // A second run of any file would fail (the table exists) or log twice.
    write("000" + std::to_string(i) + "_step.sql", "select pg_sleep(0.05);\ncreate table t" +
                                                       std::to_string(i) +
                                                       " (id int);\ninsert into log values ('" +
                                                       std::to_string(i) + "', pg_backend_pid());");
  }
  std::vector<pid_t> children;
  for (int p = 0; p < 4; ++p) {
    const pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      int code = 0;
      try {
        pgorm::connection c{conninfo()};
        pgorm::migrate::apply(c, dir_);
      } catch (...) {
        code = 1;
      }
      _exit(code);
    }
    children.push_back(pid);
  }
  for (pid_t pid : children) {
    int status = 0;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    EXPECT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 0);
  }
  EXPECT_EQ(scalar("select count(*) from log"), "5");
  EXPECT_EQ(scalar("select count(distinct version) from log"), "5");
  EXPECT_EQ(scalar("select count(*) from pgorm_migrations where success"), "6");
}

// ---- deploy-time behaviour ------------------------------------------------------------------

// The key apply() locks for the default tracking table (see advisory_lock in migrate.cpp).
constexpr const char* lock_key =
    "hashtextextended('pgorm_migrations:' || current_schema() || '.pgorm_migrations', 0)";

TEST_F(migrate_test, failure_names_file_line_column_message_hint_and_what_the_run_applied) {
  write("0001_a.sql", "create table a (id int);");
  write("0002_b.sql", "create table b (id int);");
  // The error is at line 5, column 19 in characters ("é" and "東京" are multibyte: 24 in bytes).
  write("0003_bad.sql",
        "-- a comment; then a statement\n"
        "create table c (id int);\n"
        "\n"
        "insert into c values (1);\n"
        "select 'é', '東京', nosuchfunc(1);\n"
        "create table never (id int);\n");
  write("0004_later.sql", "create table later (id int);");
  std::vector<std::string> events;
  pgorm::migrate::options opts;
  opts.on_progress = [&](const pgorm::migrate::progress& p) {
    const std::string file = p.migration != nullptr ? p.migration->file : "";
    switch (p.kind) {
      case pgorm::migrate::progress_kind::starting:
        events.push_back("start " + file + " " + std::to_string(p.index) + "/" +
                         std::to_string(p.count));
        // Called outside the migration's transaction: the previous one is committed.
        EXPECT_EQ(conn().status(), pgorm::transaction_status::idle);
        break;
      case pgorm::migrate::progress_kind::applied:
        events.push_back("applied " + file);
        break;
      case pgorm::migrate::progress_kind::failed:
        events.push_back("failed " + file);
        EXPECT_NE(std::string(p.detail).find("nosuchfunc"), std::string::npos) << p.detail;
        break;
      case pgorm::migrate::progress_kind::waiting_for_lock:
        events.push_back("waiting");
        break;
    }
  };
  try {
    pgorm::migrate::apply(conn(), dir_, opts);
    FAIL() << "expected migration_error";
  } catch (const pgorm::migration_error& e) {
    EXPECT_EQ(e.file(), "0003_bad.sql");
    EXPECT_EQ(e.sqlstate(), "42883");  // undefined_function
    EXPECT_EQ(e.line(), 5);
    EXPECT_EQ(e.column(), 19);
    EXPECT_NE(e.hint().find("explicit type casts"), std::string::npos) << e.hint();
    EXPECT_NE(e.details().message.find("nosuchfunc"), std::string::npos);
    const std::string what = e.what();
    EXPECT_NE(what.find("0003_bad.sql failed at line 5, column 19 and was rolled back"),
              std::string::npos)
        << what;
    EXPECT_NE(what.find("hint:"), std::string::npos) << what;
    ASSERT_EQ(e.applied().size(), 2U);
    EXPECT_EQ(e.applied()[0].file, "0001_a.sql");
    EXPECT_EQ(e.applied()[1].file, "0002_b.sql");
  }
  EXPECT_EQ(events, (std::vector<std::string>{"start 0001_a.sql 1/4", "applied 0001_a.sql",
                                              "start 0002_b.sql 2/4", "applied 0002_b.sql",
                                              "start 0003_bad.sql 3/4", "failed 0003_bad.sql"}));
  EXPECT_EQ(scalar("select to_regclass('c') is null"), "t");  // rolled back
  EXPECT_EQ(scalar("select success from pgorm_migrations where version = '0003'"), "f");

  // An error the server gives no position for: the line where the statement starts.
  write("0003_bad.sql", "create table c (id int);\n\n  select\n 1/0;\ncreate table d (id int);");
  try {
    pgorm::migrate::apply(conn(), dir_);
    FAIL() << "expected migration_error";
  } catch (const pgorm::migration_error& e) {
    EXPECT_EQ(e.sqlstate(), "22012");
    EXPECT_EQ(e.line(), 3);
    EXPECT_EQ(e.column(), 0);
    EXPECT_TRUE(e.applied().empty());
    EXPECT_NE(std::string(e.what()).find("in the statement at line 3"), std::string::npos)
        << e.what();
  }

  // No-transaction: the statement's own position within the file.
  write("0003_bad.sql",
        "-- pgorm: no-transaction\ncreate table c (id int);\nselect 1,\n  nosuchfunc(2);\n");
  try {
    pgorm::migrate::apply(conn(), dir_);
    FAIL() << "expected migration_error";
  } catch (const pgorm::migration_error& e) {
    EXPECT_EQ(e.sqlstate(), "42883");
    EXPECT_EQ(e.line(), 4);
    EXPECT_EQ(e.column(), 3);
    EXPECT_NE(std::string(e.what()).find("stopped (no-transaction"), std::string::npos);
  }
}

TEST_F(migrate_test, the_lock_wait_gives_up_after_lock_timeout_naming_the_holder) {
  write("0001_people.sql", "create table people (id int);");
  pgorm::connection other = connect();
  other.exec(std::string("select pg_advisory_lock(") + lock_key + ")");
  const std::string other_pid(other.exec("select pg_backend_pid()").value(0, 0));

  std::vector<std::string> waiting;
  pgorm::migrate::options opts;
  opts.lock_timeout = std::chrono::milliseconds(300);
  opts.on_progress = [&](const pgorm::migrate::progress& p) {
    if (p.kind == pgorm::migrate::progress_kind::waiting_for_lock) waiting.emplace_back(p.detail);
  };
  auto start = std::chrono::steady_clock::now();
  try {
    pgorm::migrate::apply(conn(), dir_, opts);
    FAIL() << "expected migration_lock_timeout";
  } catch (const pgorm::migration_lock_timeout& e) {
    EXPECT_EQ(std::to_string(e.holder_pid()), other_pid);
    EXPECT_GE(e.waited(), std::chrono::milliseconds(250));
    const std::string what = e.what();
    EXPECT_NE(what.find("server process " + other_pid), std::string::npos) << what;
    EXPECT_NE(what.find("after 300 ms"), std::string::npos) << what;
    EXPECT_NE(what.find("nothing was applied"), std::string::npos) << what;
  }
  // Gave up within a generous bound of its 300 ms (a busy machine may be slow, never stuck).
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  ASSERT_EQ(waiting.size(), 1U);
  EXPECT_NE(waiting[0].find("server process " + other_pid), std::string::npos) << waiting[0];
  EXPECT_EQ(scalar("select to_regclass('people') is null"), "t");
  EXPECT_EQ(conn().status(), pgorm::transaction_status::idle);

  // Zero: no wait at all. baseline() and resolve() take the same lock.
  start = std::chrono::steady_clock::now();
  EXPECT_THROW(pgorm::migrate::apply(conn(), dir_, {.lock_timeout = std::chrono::milliseconds(0)}),
               pgorm::migration_lock_timeout);
  EXPECT_THROW(static_cast<void>(pgorm::migrate::baseline(conn(), dir_, "1", opts)),
               pgorm::migration_lock_timeout);
  EXPECT_THROW(static_cast<void>(pgorm::migrate::resolve(
                   conn(), dir_, "1", pgorm::migrate::resolution::applied, opts)),
               pgorm::migration_lock_timeout);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));

  // Released, the same call goes through; the lock was not left taken by the failed waits.
  other.exec(std::string("select pg_advisory_unlock(") + lock_key + ")");
  EXPECT_EQ(pgorm::migrate::apply(conn(), dir_, opts).size(), 1U);
  EXPECT_EQ(other.exec(std::string("select pg_try_advisory_lock(") + lock_key + ")").value(0, 0),
            "t");
}

TEST_F(migrate_test, no_transaction_migration_is_recorded_only_when_every_statement_succeeded) {
  write("0001_t.sql", "create table t (a int);");
  write("0002_steps.sql",
        "-- pgorm: no-transaction\n"
        "insert into t values (1);\n"
        "insert into t values (1/0);\n"
        "insert into t values (3);\n");
  EXPECT_THROW(pgorm::migrate::apply(conn(), dir_), pgorm::migration_error);
  EXPECT_EQ(scalar("select string_agg(a::text, ',') from t"), "1");  // the first stays, no third
  EXPECT_EQ(scalar("select success from pgorm_migrations where version = '0002'"), "f");
  auto st = pgorm::migrate::status(conn(), dir_);
  ASSERT_EQ(st.size(), 2U);
  EXPECT_EQ(st[1].state, state::failed);
  EXPECT_FALSE(pgorm::migrate::summarize(st).up_to_date());
  EXPECT_TRUE(pgorm::migrate::summarize(st).needs_attention());
  write("0002_steps.sql",
        "-- pgorm: no-transaction\n"
        "insert into t values (2);\n"
        "insert into t values (3);\n");
  EXPECT_EQ(pgorm::migrate::apply(conn(), dir_).size(), 1U);
  EXPECT_TRUE(pgorm::migrate::summarize(pgorm::migrate::status(conn(), dir_)).up_to_date());
}

TEST_F(migrate_test, an_invalid_index_left_by_a_failed_concurrent_build_is_not_skipped_on_rerun) {
  write("0001_emails.sql",
        "create table emails (address text);\n"
        "insert into emails values ('a@example.com'), ('a@example.com');");
  write("0002_unique.sql",
        "-- pgorm: no-transaction\n"
        "create unique index concurrently if not exists \"Emails_Address\" on emails (address);\n");
  try {
    pgorm::migrate::apply(conn(), dir_);
    FAIL() << "expected migration_error";
  } catch (const pgorm::migration_error& e) {
    EXPECT_EQ(e.file(), "0002_unique.sql");
    EXPECT_EQ(e.sqlstate(), "23505");
    EXPECT_EQ(e.line(), 2);
    const std::string what = e.what();
    EXPECT_NE(what.find("it left the INVALID index \"Emails_Address\""), std::string::npos) << what;
    EXPECT_NE(what.find("DROP INDEX CONCURRENTLY \"Emails_Address\""), std::string::npos) << what;
  }
  // The failed build left the index behind, INVALID.
  EXPECT_EQ(scalar("select not indisvalid from pg_index where indexrelid = "
                   "'\"Emails_Address\"'::regclass"),
            "t");
  // A rerun: IF NOT EXISTS skips the existing index and every statement succeeds, but the
  // migration is not recorded as applied: the INVALID index is reported instead.
  try {
    pgorm::migrate::apply(conn(), dir_);
    FAIL() << "the rerun recorded a migration whose index is INVALID";
  } catch (const pgorm::migration_error& e) {
    EXPECT_EQ(e.file(), "0002_unique.sql");
    EXPECT_EQ(e.line(), 2);
    EXPECT_NE(std::string(e.what()).find("is INVALID"), std::string::npos) << e.what();
  }
  EXPECT_EQ(scalar("select success from pgorm_migrations where version = '0002'"), "f");
  EXPECT_EQ(pgorm::migrate::status(conn(), dir_)[1].state, state::failed);

  // Fixed as the message says: the next apply builds a valid index and records it.
  conn().exec("delete from emails where ctid <> (select min(ctid) from emails)");
  conn().exec("drop index concurrently \"Emails_Address\"");
  EXPECT_EQ(pgorm::migrate::apply(conn(), dir_).size(), 1U);
  EXPECT_EQ(scalar("select indisvalid from pg_index where indexrelid = "
                   "'\"Emails_Address\"'::regclass"),
            "t");
  EXPECT_EQ(pgorm::migrate::status(conn(), dir_)[1].state, state::applied);
}

TEST_F(migrate_test, e_strings_and_begin_atomic_bodies_apply_in_both_modes) {
  const std::string body =
      "create table notes (body text);\n"
      "insert into notes values (E'it\\'s; one string'), ($q$semi; colon$q$);\n"
      "create function note_count() returns bigint language sql\n"
      "begin atomic\n"
      "  select count(*) from notes;\n"
      "end;\n"
      "create procedure add_note(b text) language sql\n"
      "begin atomic\n"
      "  insert into notes values (case when b is null then 'none' else b end);\n"
      "end;\n"
      "call add_note(E'\\'; x');\n";
  write("0001_notes.sql", body);
  EXPECT_EQ(pgorm::migrate::apply(conn(), dir_).size(), 1U);
  EXPECT_EQ(scalar("select note_count()"), "3");
  EXPECT_EQ(scalar("select string_agg(body, '|' order by body) from notes"),
            "'; x|it's; one string|semi; colon");
  EXPECT_EQ(pgorm::migrate::split_statements(body).size(), 5U);
  // The same statements outside a transaction, one by one.
  conn().exec("drop procedure add_note; drop function note_count; drop table notes");
  write("0002_again.sql", "-- pgorm: no-transaction\n" + body);
  EXPECT_EQ(pgorm::migrate::apply(conn(), dir_).size(), 1U);
  EXPECT_EQ(scalar("select note_count()"), "3");
}

TEST_F(migrate_test, resolve_marks_one_migration_applied_or_a_failed_one_rolled_back) {
  write("0001_a.sql", "create table a (id int);");
  write("0002_b.sql", "create table b (id int);");
  write("0003_c.sql", "create table c (id int);");
  // --applied marks exactly one (baseline would mark every one up to it).
  const auto marked =
      pgorm::migrate::resolve(conn(), dir_, "2", pgorm::migrate::resolution::applied);
  EXPECT_EQ(marked.file, "0002_b.sql");
  EXPECT_EQ(marked.state, state::applied);
  auto st = pgorm::migrate::status(conn(), dir_);
  EXPECT_EQ(st[0].state, state::pending);
  EXPECT_EQ(st[1].state, state::applied);
  EXPECT_EQ(st[2].state, state::pending);
  const auto ran = pgorm::migrate::apply(conn(), dir_);
  ASSERT_EQ(ran.size(), 2U);
  EXPECT_EQ(ran[0].file, "0001_a.sql");
  EXPECT_EQ(ran[1].file, "0003_c.sql");
  EXPECT_EQ(scalar("select to_regclass('b') is null"), "t");  // never run

  // Only a failed migration can be rolled back; only a pending or failed one marked applied.
  try {
    static_cast<void>(
        pgorm::migrate::resolve(conn(), dir_, "0001", pgorm::migrate::resolution::applied));
    FAIL() << "expected migration_error";
  } catch (const pgorm::migration_error& e) {
    EXPECT_NE(std::string(e.what()).find("already recorded as applied"), std::string::npos)
        << e.what();
  }
  EXPECT_THROW(static_cast<void>(pgorm::migrate::resolve(conn(), dir_, "0001",
                                                         pgorm::migrate::resolution::rolled_back)),
               pgorm::migration_error);
  EXPECT_THROW(static_cast<void>(pgorm::migrate::resolve(conn(), dir_, "0009",
                                                         pgorm::migrate::resolution::applied)),
               pgorm::migration_error);
  EXPECT_THROW(static_cast<void>(pgorm::migrate::resolve(conn(), dir_, "v1",
                                                         pgorm::migrate::resolution::applied)),
               pgorm::migration_error);

  // A failed no-transaction migration, cleaned up by hand, then --rolled-back: pending again.
  write("0004_half.sql", "-- pgorm: no-transaction\ncreate table half (id int);\nselect 1/0;\n");
  EXPECT_THROW(pgorm::migrate::apply(conn(), dir_), pgorm::migration_error);
  conn().exec("drop table half");
  const auto rolled =
      pgorm::migrate::resolve(conn(), dir_, "4", pgorm::migrate::resolution::rolled_back);
  EXPECT_EQ(rolled.state, state::pending);
  EXPECT_EQ(scalar("select count(*) from pgorm_migrations where version = '0004'"), "0");
  EXPECT_EQ(pgorm::migrate::status(conn(), dir_)[3].state, state::pending);
  // Or --applied on a failed one: done by hand instead.
  EXPECT_THROW(pgorm::migrate::apply(conn(), dir_), pgorm::migration_error);
  EXPECT_EQ(pgorm::migrate::resolve(conn(), dir_, "4", pgorm::migrate::resolution::applied).state,
            state::applied);
  EXPECT_TRUE(pgorm::migrate::summarize(pgorm::migrate::status(conn(), dir_)).up_to_date());
}

TEST_F(migrate_test, checksums_are_the_servers_sha256_of_the_bytes_at_every_block_boundary) {
  std::mt19937 rng(1234);
  std::string bytes;
  std::vector<pgorm::migrate::embedded_file> files;
  std::vector<std::string> texts;
  texts.reserve(140);
  for (std::size_t n = 0; n < 140; ++n) {
    std::string text;
    for (std::size_t i = 0; i < n; ++i) text += static_cast<char>(rng() % 256);
    texts.push_back(std::move(text));
  }
  for (std::size_t n = 0; n < texts.size(); ++n) {
    const std::string name = std::to_string(1000 + n) + "_x.sql";
    const std::array one{pgorm::migrate::embedded_file{name, texts[n], ""}};
    const std::string ours =
        pgorm::migrate::load(pgorm::migrate::embedded_migrations{"t", "", one}).at(0).checksum;
    const auto* data = reinterpret_cast<const std::byte*>(texts[n].data());
    const std::array<pgorm::param, 1> p{pgorm::param::binary({data, texts[n].size()}, 17)};
    const std::string server(
        conn()
            .exec("select encode(sha256($1::bytea), 'hex')", p, pgorm::data_format::text)
            .value(0, 0));
    EXPECT_EQ(ours, server) << "length " << n;
  }
}

#if defined(PGORM_TEST_EMBEDDED_MIGRATIONS)
std::filesystem::path embedded_source_dir() {
  return std::filesystem::path(__FILE__).parent_path() / "embedded_migrations";
}

TEST_F(migrate_test, an_embedded_set_is_its_files_byte_for_byte) {
  const auto& set = pgorm_test::embedded_migrations();
  EXPECT_EQ(set.name, "pgorm_test::embedded_migrations");
  EXPECT_EQ(std::filesystem::path(set.directory), embedded_source_dir());
  const auto embedded = pgorm::migrate::load(set);
  const auto files = pgorm::migrate::load(embedded_source_dir());
  ASSERT_EQ(embedded.size(), 3U);
  ASSERT_EQ(files.size(), embedded.size());
  for (std::size_t i = 0; i < files.size(); ++i) {
    EXPECT_EQ(embedded[i].file, files[i].file);
    EXPECT_EQ(embedded[i].sql, files[i].sql) << files[i].file;
    EXPECT_EQ(embedded[i].checksum, files[i].checksum) << files[i].file;
    EXPECT_EQ(embedded[i].transactional, files[i].transactional) << files[i].file;
    // CMake's file(SHA256) at build time is the server's sha256 of the bytes.
    for (const auto& e : set.files) {
      if (e.file != files[i].file) continue;
      const auto* data = reinterpret_cast<const std::byte*>(files[i].sql.data());
      const std::array<pgorm::param, 1> p{pgorm::param::binary({data, files[i].sql.size()}, 17)};
      EXPECT_EQ(e.sha256,
                conn()
                    .exec("select encode(sha256($1::bytea), 'hex')", p, pgorm::data_format::text)
                    .value(0, 0));
    }
  }
  EXPECT_NE(files[1].sql.find("\r\n"), std::string::npos);  // CRLF survives as it is
  EXPECT_NE(files[0].sql.find("東京"), std::string::npos);

  // Applied from the binary, the directory's status agrees: every checksum matches.
  const auto ran = pgorm::migrate::apply(conn(), set);
  EXPECT_EQ(ran.size(), 3U);
  EXPECT_EQ(scalar("select people_count()"), "1");
  EXPECT_EQ(scalar("select name from people"), "Zoë; the first");
  const auto st = pgorm::migrate::status(conn(), embedded_source_dir());
  ASSERT_EQ(st.size(), 3U);
  for (const auto& m : st) EXPECT_EQ(m.state, state::applied) << m.file;
  EXPECT_TRUE(pgorm::migrate::apply(conn(), embedded_source_dir()).empty());
  EXPECT_TRUE(pgorm::migrate::summarize(pgorm::migrate::status(conn(), set)).up_to_date());
}
#else
TEST_F(migrate_test, an_embedded_set_is_its_files_byte_for_byte) {
  GTEST_SKIP() << "cmake/pgorm_embed_migrations.cmake is not included by CMakeLists.txt, so "
                  "this build has no embedded set to check";
}
#endif

}  // namespace migrate_it
