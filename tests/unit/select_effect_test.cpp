// SPDX-License-Identifier: MIT
// Whether a builder's select only reads, when its expressions call SQL functions: a function
// that may change data (pgorm::fn<> of a name not known to be read-only) makes the select a
// write wherever it appears; known built-ins, fn_reads<> and aggregates keep it a read.

#include <cstdint>
#include <optional>
#include <string>

#include <gtest/gtest.h>

#include "pgorm/query.hpp"
#include "pgorm/query/case.hpp"
#include "pgorm/query/functions.hpp"
#include "support/schema.hpp"

namespace {

using pgorm::col;
using pgorm::sql_effect;
using qt::Session;
using qt::User;

const auto touch = pgorm::fn<"app.touch", std::int64_t>(col<&User::id>);
const auto slug = pgorm::fn_reads<"app.slugify", std::string>(col<&User::email>);
const auto length = pgorm::fn<"length", std::int32_t>(col<&User::email>);
const auto next = pgorm::fn<"nextval", std::int64_t>("app.seq");

// What the statement of builder type Q does to data, from its type alone.
template <class Q>
constexpr sql_effect effect_v = Q::effect;

TEST(select_effect, an_unknown_function_in_the_select_list_makes_a_write) {
  static_assert(effect_v<decltype(pgorm::select(col<&User::id>, touch))> == sql_effect::writes);
  static_assert(effect_v<decltype(pgorm::select(next))> == sql_effect::writes);
  // The same select without it reads.
  static_assert(effect_v<decltype(pgorm::select(col<&User::id>))> == sql_effect::reads);
  EXPECT_EQ(pgorm::select(col<&User::id>, touch).to_sql().sql,
            "SELECT id, app.touch(id) FROM \"user\"");
}

TEST(select_effect, known_builtins_declared_reads_and_aggregates_keep_a_read) {
  static_assert(effect_v<decltype(pgorm::select(length, slug))> == sql_effect::reads);
  // fn_reads<> renders as fn<> does: only the effect differs.
  EXPECT_EQ(pgorm::select(length, slug).to_sql().sql,
            "SELECT length(email), app.slugify(email) FROM \"user\"");
  static_assert(effect_v<decltype(pgorm::select(pgorm::fn<"date_trunc", pgorm::timestamptz>(
                    "day", col<&User::created_at>)))> == sql_effect::reads);
  static_assert(effect_v<decltype(pgorm::select(pgorm::lower(col<&User::email>),
                                                pgorm::coalesce(col<&User::name>, "none")))> ==
                sql_effect::reads);
  static_assert(effect_v<decltype(pgorm::select(
                    pgorm::aggregate<"app.median", std::optional<double>>(col<&User::age>)))> ==
                sql_effect::reads);
  // A schema-qualified built-in is not on the list: it is declared with fn_reads<>.
  static_assert(effect_v<decltype(pgorm::select(pgorm::fn<"pg_catalog.lower", std::string>(
                    col<&User::email>)))> == sql_effect::writes);
  // A read-only function whose argument calls one that may write still writes.
  static_assert(effect_v<decltype(pgorm::select(pgorm::fn_reads<"abs", std::int64_t>(touch)))> ==
                sql_effect::writes);
  SUCCEED();
}

TEST(select_effect, a_writing_call_in_any_clause_makes_a_write) {
  const auto by_touch = touch > std::int64_t{0};
  static_assert(effect_v<decltype(pgorm::select<User>().where(by_touch))> == sql_effect::writes);
  static_assert(effect_v<decltype(pgorm::select<User>().where(length > 3))> == sql_effect::reads);
  static_assert(effect_v<decltype(pgorm::select<User>().order_by(touch))> == sql_effect::writes);
  static_assert(
      effect_v<decltype(pgorm::select<User>().join<Session>(col<&Session::user_id> == touch))> ==
      sql_effect::writes);
  static_assert(effect_v<decltype(pgorm::select(col<&User::age>, pgorm::count())
                                      .group_by(col<&User::age>)
                                      .having(pgorm::max(touch) > std::int64_t{1}))> ==
                sql_effect::writes);
  static_assert(effect_v<decltype(pgorm::select(pgorm::case_when(by_touch, 1).else_(2)))> ==
                sql_effect::writes);
  SUCCEED();
}

TEST(select_effect, a_writing_call_inside_a_subquery_or_cte_makes_a_write) {
  const auto writes_sub = pgorm::select(col<&Session::user_id>).where(touch > std::int64_t{0});
  const auto reads_sub = pgorm::select(col<&Session::user_id>);
  static_assert(effect_v<decltype(pgorm::select<User>().where(col<&User::id>.in(writes_sub)))> ==
                sql_effect::writes);
  static_assert(effect_v<decltype(pgorm::select<User>().where(pgorm::exists(writes_sub)))> ==
                sql_effect::writes);
  static_assert(effect_v<decltype(pgorm::select<User>().where(col<&User::id>.in(reads_sub)))> ==
                sql_effect::reads);
  static_assert(effect_v<decltype(pgorm::select<User>().with<User>(
                    pgorm::select<User>().where(touch > std::int64_t{0})))> == sql_effect::writes);
  static_assert(effect_v<decltype(pgorm::select<User>().union_(
                    pgorm::select<User>().where(touch > std::int64_t{0})))> == sql_effect::writes);
  SUCCEED();
}

}  // namespace
