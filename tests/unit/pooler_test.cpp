// SPDX-License-Identifier: MIT
// connect_options::pooler without a server: the shared LISTEN predicate and what
// pooler_mode::transaction (and transaction_prepared) do to the options before a connection
// uses them.
#include <chrono>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "pgorm/connection.hpp"

namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;

TEST(is_listen_statement, finds_listen_after_blanks_and_comments_in_any_case) {
  EXPECT_TRUE(pgorm::is_listen_statement("LISTEN jobs"));
  EXPECT_TRUE(pgorm::is_listen_statement("listen jobs"));
  EXPECT_TRUE(pgorm::is_listen_statement("  \n\tLiStEn \"Jobs\""));
  EXPECT_TRUE(pgorm::is_listen_statement("-- wait for work\nlisten jobs"));
  EXPECT_TRUE(pgorm::is_listen_statement("/* a /* nested */ comment */ listen jobs"));
  EXPECT_TRUE(pgorm::is_listen_statement("listen\"jobs\""));
  EXPECT_TRUE(pgorm::is_listen_statement("listen"));
}

TEST(is_listen_statement, rejects_other_statements_and_words_that_start_with_listen) {
  EXPECT_FALSE(pgorm::is_listen_statement("select 'listen'"));
  EXPECT_FALSE(pgorm::is_listen_statement("unlisten jobs"));
  EXPECT_FALSE(pgorm::is_listen_statement("notify jobs"));
  EXPECT_FALSE(pgorm::is_listen_statement("listener_count()"));
  EXPECT_FALSE(pgorm::is_listen_statement("listen_x"));
  EXPECT_FALSE(pgorm::is_listen_statement("-- listen jobs"));
  EXPECT_FALSE(pgorm::is_listen_statement("/* unterminated listen jobs"));
  EXPECT_FALSE(pgorm::is_listen_statement(""));
  EXPECT_FALSE(pgorm::is_listen_statement("lis"));
}

TEST(apply_pooler_mode, transaction_mode_turns_off_prepared_statements) {
  pgorm::connect_options o;
  o.pooler = pgorm::pooler_mode::transaction;
  ASSERT_TRUE(o.prepare);
  pgorm::detail::apply_pooler_mode(o);
  EXPECT_FALSE(o.prepare);
}

TEST(apply_pooler_mode, transaction_prepared_keeps_prepared_statements_and_nothing_else) {
  pgorm::connect_options o;
  o.pooler = pgorm::pooler_mode::transaction_prepared;
  o.statement_timeout = 250ms;
  pgorm::detail::apply_pooler_mode(o);
  EXPECT_TRUE(o.prepare);               // PgBouncer >= 1.21 re-prepares them on each server session
  EXPECT_EQ(o.statement_timeout, 0ms);  // still no session state
  EXPECT_EQ(o.query_timeout, 250ms);

  pgorm::connect_options off;
  off.pooler = pgorm::pooler_mode::transaction_prepared;
  off.prepare = false;  // the user's choice stands
  pgorm::detail::apply_pooler_mode(off);
  EXPECT_FALSE(off.prepare);

  pgorm::connect_options settings;
  settings.pooler = pgorm::pooler_mode::transaction_prepared;
  settings.settings = {{"work_mem", "64MB"}};
  EXPECT_THROW(pgorm::detail::apply_pooler_mode(settings), pgorm::pooler_unsupported);
}

TEST(apply_pooler_mode, statement_timeout_becomes_the_per_statement_deadline) {
  pgorm::connect_options o;
  o.pooler = pgorm::pooler_mode::transaction;
  o.query_timeout = 30s;
  o.statement_timeout = 250ms;
  pgorm::detail::apply_pooler_mode(o);
  EXPECT_EQ(o.statement_timeout, 0ms);  // nothing goes into the startup packet
  EXPECT_EQ(o.query_timeout, 250ms);

  pgorm::connect_options longer;
  longer.pooler = pgorm::pooler_mode::transaction;
  longer.query_timeout = 1s;
  longer.statement_timeout = 5s;
  pgorm::detail::apply_pooler_mode(longer);
  EXPECT_EQ(longer.query_timeout, 1s);  // the shorter deadline wins

  pgorm::connect_options none;
  none.pooler = pgorm::pooler_mode::transaction;
  none.query_timeout = 0ms;
  none.statement_timeout = 2s;
  pgorm::detail::apply_pooler_mode(none);
  EXPECT_EQ(none.query_timeout, 2s);
}

TEST(apply_pooler_mode, session_settings_are_refused_by_name) {
  pgorm::connect_options o;
  o.pooler = pgorm::pooler_mode::transaction;
  o.settings = {{"search_path", "app"}};
  try {
    pgorm::detail::apply_pooler_mode(o);
    FAIL() << "session settings were accepted behind a transaction pooler";
  } catch (const pgorm::pooler_unsupported& e) {
    EXPECT_THAT(e.what(), HasSubstr("search_path"));
    EXPECT_THAT(e.what(), HasSubstr("transaction-mode pooler"));
  }
}

TEST(apply_pooler_mode, no_pooler_changes_nothing) {
  pgorm::connect_options o;
  o.statement_timeout = 250ms;
  o.settings = {{"search_path", "app"}};
  pgorm::detail::apply_pooler_mode(o);
  EXPECT_TRUE(o.prepare);
  EXPECT_EQ(o.statement_timeout, 250ms);
  EXPECT_EQ(o.query_timeout, 30s);
  EXPECT_EQ(o.settings.size(), 1U);
}

}  // namespace
