// SPDX-License-Identifier: MIT
// The statement shape a builder hands its executor, without a server: the compile-time key, the
// row layout of each kind of row type, and the shape of a static builder.

#include "pgorm/statement_shape.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>

#include <gtest/gtest.h>

#include "pgorm/oids.hpp"
#include "pgorm/query.hpp"
#include "support/schema.hpp"

namespace {

using pgorm::col;
using qt::Session;
using qt::User;

// The key is FNV-1a of the text: the same at compile time as at run time, different texts apart.
static_assert(pgorm::statement_key("") == 14695981039346656037ULL);
static_assert(pgorm::statement_key("a") == 0xaf63dc4c8601ec8cULL);  // FNV-1a 64 of "a"
static_assert(pgorm::statement_key("select $1") != pgorm::statement_key("select $2"));

TEST(statement_shape, the_key_is_computed_at_run_time_the_same_way) {
  std::string text = "select id from users where id = $1";
  EXPECT_EQ(pgorm::statement_key(text), pgorm::statement_key("select id from users where id = $1"));
  text.back() = '2';
  EXPECT_NE(pgorm::statement_key(text), pgorm::statement_key("select id from users where id = $1"));
}

TEST(statement_shape, a_struct_layout_names_its_columns_with_their_type_checks) {
  const pgorm::row_layout& l = pgorm::row_layout_v<User>;
  ASSERT_EQ(l.columns.size(), 6U);
  EXPECT_EQ(l.columns[0].name, "id");
  EXPECT_EQ(l.columns[4].name, "isEmailVerified");  // the renamed column, as the server labels it
  EXPECT_TRUE(l.columns[0].accepts(pgorm::oids::int8));
  EXPECT_FALSE(l.columns[0].accepts(pgorm::oids::text));
  EXPECT_TRUE(l.columns[1].accepts(pgorm::oids::text));
  EXPECT_TRUE(l.columns[4].accepts(pgorm::oids::boolean));
  EXPECT_FALSE(l.columns[4].accepts(pgorm::oids::int4));
}

TEST(statement_shape, a_tuple_layout_is_its_elements_in_order) {
  using row = std::tuple<Session, std::optional<User>, std::int64_t>;
  const pgorm::row_layout& l = pgorm::row_layout_v<row>;
  ASSERT_EQ(l.columns.size(), 5U + 6U + 1U);
  EXPECT_EQ(l.columns[2].name, "token");
  EXPECT_EQ(l.columns[5].name, "id");  // User's, from the optional struct
  EXPECT_EQ(l.columns[6].name, "email");
  EXPECT_EQ(l.columns[11].name, "");  // a value: read by position, any name
  EXPECT_TRUE(l.columns[11].accepts(pgorm::oids::int8));
  const pgorm::row_layout& one = pgorm::row_layout_v<std::string>;
  ASSERT_EQ(one.columns.size(), 1U);
  EXPECT_EQ(one.columns[0].name, "");
}

TEST(statement_shape, a_static_builder_has_one_constant_shape) {
  using q = decltype(pgorm::select<User>().where(col<&User::id> == std::int64_t{1}));
  constexpr const pgorm::statement_shape& s = pgorm::detail::static_shape_v<q>;
  static_assert(s.key == pgorm::statement_key(q::sql()));
  static_assert(s.origin == pgorm::sql_origin::builder);
  EXPECT_EQ(s.sql, q::sql());
  EXPECT_EQ(s.sql.data(), q::sql().data());  // the same static storage
  EXPECT_EQ(s.layout, &pgorm::row_layout_v<User>);
  // A statement whose rows are not read has no layout.
  using del = decltype(pgorm::remove<Session>().where(col<&Session::id> == std::int64_t{1}));
  EXPECT_EQ(pgorm::detail::static_shape_v<del>.layout, nullptr);
}

// What a builder's statement does to data is known at compile time (statement_shape::effect),
// so that nothing scans its text to route it (a cluster's read()).
TEST(statement_shape, a_builder_says_whether_its_statement_only_reads) {
  using pgorm::sql_effect;
  using pgorm::detail::static_shape_v;
  const auto by_id = col<&User::id> == std::int64_t{1};
  using sel = decltype(pgorm::select<User>().where(by_id));
  static_assert(static_shape_v<sel>.effect == sql_effect::reads);
  using locked = decltype(pgorm::select<User>().where(by_id).for_update());
  static_assert(static_shape_v<locked>.effect == sql_effect::writes);
  using shared = decltype(pgorm::select<User>().where(by_id).for_share().skip_locked());
  static_assert(static_shape_v<shared>.effect == sql_effect::writes);
  // A CTE that locks rows makes the whole statement a write.
  using cte_locked =
      decltype(pgorm::select<User>().with<User>(pgorm::select<User>().where(by_id).for_update()));
  static_assert(static_shape_v<cte_locked>.effect == sql_effect::writes);
  using cte_read = decltype(pgorm::select<User>().with<User>(pgorm::select<User>().where(by_id)));
  static_assert(static_shape_v<cte_read>.effect == sql_effect::reads);
  using both = decltype(pgorm::select<User>().where(by_id).union_(pgorm::select<User>()));
  static_assert(static_shape_v<both>.effect == sql_effect::reads);
  using cte_union = decltype(pgorm::select<User>().with<User>(
      pgorm::select<User>().where(by_id).union_all(pgorm::select<User>())));
  static_assert(static_shape_v<cte_union>.effect == sql_effect::reads);
  using ins = decltype(pgorm::insert(User{}));
  static_assert(static_shape_v<ins>.effect == sql_effect::writes);
  using del = decltype(pgorm::remove<Session>().where(col<&Session::id> == std::int64_t{1}));
  static_assert(static_shape_v<del>.effect == sql_effect::writes);
  // A shape rendered at run time carries it too.
  const auto q = pgorm::select<User>().where(by_id).for_update();
  const sql_effect run_time = pgorm::detail::with_bound_shape(
      q, [](const pgorm::statement_shape& s, auto&&) { return s.effect; });
  EXPECT_EQ(run_time, sql_effect::writes);
  // Hand-written shapes say nothing unless told.
  EXPECT_EQ(pgorm::statement_shape{.sql = "select 1"}.effect, sql_effect::unknown);
}

}  // namespace
