// SPDX-License-Identifier: MIT
#pragma once

/// \file
/// The one fixture of pgorm's integration tests: each test gets a fresh schema of its own on
/// the run's server (test_database.hpp), so tests never see each other's tables or rows.

#include <cstdint>
#include <optional>
#include <string>

#include <gtest/gtest.h>

#include "pgorm/connection.hpp"
#include "support/test_database.hpp"

/// Skips the current test when the run goes through a transaction-mode PgBouncer (the ctest
/// label "pgbouncer"; behind_pooler()), with a message naming what cannot work there, e.g.
/// `PGORM_SKIP_BEHIND_POOLER("session advisory locks");`. Use it first in the test body.
#define PGORM_SKIP_BEHIND_POOLER(limitation)                               \
  if (::pgorm::test::behind_pooler())                                      \
  GTEST_SKIP() << "behind PgBouncer in transaction mode, " << (limitation) \
               << " cannot work: each transaction may run in another server session"

namespace pgorm::test {

/// The options of db_test's connections: the defaults, but a cancel_grace of 10 s. Tests that
/// time a statement out expect the cancel to be acknowledged and the connection kept; on a busy
/// machine (or over TCP to a container) the acknowledgement can take longer than the default
/// 80 ms, and then the connection is closed instead. Tests of the grace period set their own.
/// Behind a transaction-mode PgBouncer (behind_pooler()) they also set connect_options::pooler.
[[nodiscard]] pgorm::connect_options test_options();

/// Base class of integration tests: before the test a schema with a unique name is created
/// and conn() is opened with its search_path set to that schema (so unqualified names land
/// there); after the test the schema is dropped with everything in it (drop schema ...
/// cascade), unless env PGORM_TEST_KEEP_SCHEMAS is set (for looking at what a test left).
///
/// Example:
/// ```
/// class users_test : public pgorm::test::db_test {};
/// TEST_F(users_test, insert_returns_id) {
///   conn().exec("create table users (id int generated always as identity, email text)");
///   auto r = conn().exec("insert into users (email) values ('a@b.c') returning id");
///   EXPECT_EQ(r.value(0, 0), "1");
/// }
/// ```
/// Not thread-safe (like pgorm::connection): open more connections with connect() for
/// threads of a test.
class db_test : public ::testing::Test {
 public:
  db_test() = default;
  db_test(const db_test&) = delete;
  db_test& operator=(const db_test&) = delete;
  db_test(db_test&&) = delete;
  db_test& operator=(db_test&&) = delete;
  /// Drops the schema. Done here rather than in TearDown() so that connections which derived
  /// fixtures hold as members are closed by then and cannot block the drop with their locks.
  ~db_test() override;

 protected:
  /// Creates the schema and opens conn(). Override it, calling db_test::SetUp() first.
  void SetUp() override;
  /// Closes conn(). Override it, calling db_test::TearDown() last.
  void TearDown() override;

  /// The test's connection, whose search_path is schema().
  pgorm::connection& conn();
  /// Connection string of the run's server with search_path set to schema(): open more
  /// connections to the same schema with it (or with connect()).
  [[nodiscard]] const std::string& conninfo() const noexcept { return conninfo_; }
  /// A new connection to the run's server with search_path set to schema(), opened with
  /// test_options().
  [[nodiscard]] pgorm::connection connect() const;
  /// Statements other sessions of the server are running now (pg_stat_activity, state
  /// 'active') whose text contains `tag`: tag a test's slow statements in a comment to find them.
  [[nodiscard]] std::int64_t running_statements(const std::string& tag);
  /// Name of the test's schema: lower-case, unique in the run, needs no quoting.
  [[nodiscard]] const std::string& schema() const noexcept { return schema_; }

 private:
  void drop_schema() noexcept;

  std::string schema_;
  std::string conninfo_;
  std::optional<pgorm::connection> conn_;
  bool created_ = false;
  bool role_created_ = false;  // behind_pooler(): the test's own role, named as its schema
};

}  // namespace pgorm::test
