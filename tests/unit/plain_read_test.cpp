// SPDX-License-Identifier: MIT
// pgorm::is_plain_read: what a cluster's read() may send to a replica.
#include <gtest/gtest.h>

#include "pgorm/cluster.hpp"

namespace {

TEST(is_plain_read, plain_selects_and_other_reads) {
  EXPECT_TRUE(pgorm::is_plain_read("select 1"));
  EXPECT_TRUE(pgorm::is_plain_read("  -- comment\n/* c */ SELECT * FROM \"user\" WHERE id = $1"));
  EXPECT_TRUE(pgorm::is_plain_read("(select 1) union (select 2)"));
  EXPECT_TRUE(pgorm::is_plain_read("with x as (select 1) select * from x"));
  EXPECT_TRUE(pgorm::is_plain_read("table t"));
  EXPECT_TRUE(pgorm::is_plain_read("values (1), (2)"));
  EXPECT_TRUE(pgorm::is_plain_read("show server_version"));
  // Keywords inside quotes, identifiers and comments do not count.
  EXPECT_TRUE(pgorm::is_plain_read("select 'insert into t' as \"update\" -- for update"));
  EXPECT_TRUE(pgorm::is_plain_read("select $$delete$$"));
}

TEST(is_plain_read, writes_locks_and_select_into_are_not) {
  EXPECT_FALSE(pgorm::is_plain_read("insert into t values (1)"));
  EXPECT_FALSE(pgorm::is_plain_read("UPDATE t SET a = 1"));
  EXPECT_FALSE(pgorm::is_plain_read("delete from t"));
  EXPECT_FALSE(pgorm::is_plain_read("with d as (delete from t returning *) select * from d"));
  EXPECT_FALSE(pgorm::is_plain_read("select * from t for update"));
  EXPECT_FALSE(pgorm::is_plain_read("select * from t for no key update skip locked"));
  EXPECT_FALSE(pgorm::is_plain_read("select * from t FOR SHARE"));
  EXPECT_FALSE(pgorm::is_plain_read("select * from t for key share"));
  EXPECT_FALSE(pgorm::is_plain_read("select * into t2 from t"));
  EXPECT_FALSE(pgorm::is_plain_read("create table t (id int)"));
  EXPECT_FALSE(pgorm::is_plain_read("set statement_timeout = 0"));
  EXPECT_FALSE(pgorm::is_plain_read(""));
  EXPECT_FALSE(pgorm::is_plain_read("  -- only a comment"));
  EXPECT_FALSE(pgorm::is_plain_read("$1"));
}

TEST(is_plain_read, a_shape_that_says_what_it_does_is_not_scanned) {
  using pgorm::sql_effect;
  using pgorm::statement_shape;
  // The flag decides, whatever the text (a builder's flag is computed from its clauses).
  EXPECT_TRUE(pgorm::is_plain_read(statement_shape{.sql = "x", .effect = sql_effect::reads}));
  EXPECT_FALSE(
      pgorm::is_plain_read(statement_shape{.sql = "select 1", .effect = sql_effect::writes}));
  // Without it, the text is read.
  EXPECT_TRUE(pgorm::is_plain_read(statement_shape{.sql = "select 1"}));
  EXPECT_FALSE(pgorm::is_plain_read(statement_shape{.sql = "select 1 for update"}));
}

}  // namespace
