// SPDX-License-Identifier: MIT
// The clause protocol and the runner every builder shares (query/clauses.hpp, query/runner.hpp):
// one rendering per clause serves both the compile-time text (from the type alone) and the
// run-time one (from the object), a clause method changes one part and keeps the others, and
// every statement kind has the same terminal operations.
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <vector>

#include <gtest/gtest.h>

#include "pgorm/query.hpp"
#include "support/schema.hpp"

namespace {

using pgorm::col;
using qt::Account;
using qt::Session;
using qt::User;

/// The text a builder renders from its object (the run-time path), whatever its shape.
template <class Q>
std::string rendered_from_object(const Q& q) {
  pgorm::detail::string_out out;
  pgorm::detail::sql_writer<pgorm::detail::string_out> w{out};
  q.render_dynamic(w);
  return out.text;
}

/// The compile-time text and the run-time text of a static shape are one rendering.
template <class Q>
void expect_same_text_both_ways(const Q& q) {
  static_assert(Q::is_static);
  EXPECT_EQ(rendered_from_object(q), Q::sql());
  EXPECT_EQ(q.to_sql().sql, Q::sql());
}

TEST(query_clauses, select_renders_the_same_from_its_type_and_from_its_object) {
  expect_same_text_both_ways(pgorm::select<User>());
  expect_same_text_both_ways(
      pgorm::select<Session, User>()
          .join<User>(col<&User::id> == col<&Session::user_id>)
          .where(col<&Session::token> == "t" && col<&User::age>.between(18, 65))
          .order_by(col<&Session::id>.desc().nulls_last())
          .limit(10)
          .offset(20)
          .for_update()
          .skip_locked());
  expect_same_text_both_ways(pgorm::select(col<&User::age>, pgorm::count())
                                 .from<User>()
                                 .where(col<&User::name>.is_not_null())
                                 .group_by(col<&User::age>)
                                 .having(pgorm::count() > 1)
                                 .order_by(col<&User::age>)
                                 .distinct());
  expect_same_text_both_ways(
      pgorm::select<User>()
          .where(col<&User::id>.in(pgorm::select(col<&Session::user_id>)
                                       .from<Session>()
                                       .where(col<&Session::token>.like("a%"))) &&
                 pgorm::exists(pgorm::select(col<&Account::id>)
                                   .from<Account>()
                                   .where(col<&Account::user_id> == col<&User::id>)))
          .order_by(col<&User::id>)
          .after(std::tuple<std::int64_t>{5}));
  expect_same_text_both_ways(
      pgorm::select<User>().left_join<Account>(col<&Account::user_id> == col<&User::id>));
}

TEST(query_clauses, dml_renders_the_same_from_its_type_and_from_its_object) {
  expect_same_text_both_ways(pgorm::insert(User{}).returning(col<&User::id>, col<&User::email>));
  expect_same_text_both_ways(pgorm::insert(User{})
                                 .on_conflict(col<&User::email>)
                                 .do_update(col<& User::name> = pgorm::excluded<&User::name>,
                                            col<& User::age> = col<&User::age> + 1)
                                 .where(col<&User::name>.is_null())
                                 .returning_all());
  expect_same_text_both_ways(pgorm::insert(User{}).on_conflict().do_nothing());
  expect_same_text_both_ways(pgorm::update<User>()
                                 .set(col<& User::name> = std::nullopt)
                                 .set(col<& User::age> = pgorm::coalesce(col<&User::age>, 0) * 2)
                                 .where(!(col<&User::id> == 1) || col<&User::age> < 3)
                                 .returning(pgorm::lower(col<&User::email>)));
  expect_same_text_both_ways(pgorm::remove<User>().all_rows().returning_all());
  expect_same_text_both_ways(
      pgorm::remove<Session>().where(col<&Session::expires_at> < pgorm::now()));
}

TEST(query_clauses, a_dynamic_child_renders_from_its_object_inside_static_nodes) {
  pgorm::filter<Session> f;
  f &= col<&Session::token> == "x";
  // Function and unary nodes around a subquery whose WHERE is only known at run time.
  const auto q =
      pgorm::select<User>()
          .where(pgorm::coalesce(
              !col<&User::id>.in(pgorm::select(col<&Session::user_id>).from<Session>().where(f)),
              true))
          .limit(3);
  static_assert(!decltype(q)::is_static);
  const auto s = q.to_sql();
  EXPECT_EQ(s.sql,
            R"(SELECT id, email, name, age, "isEmailVerified", created_at FROM "user" WHERE )"
            R"(coalesce(NOT id IN (SELECT user_id FROM session WHERE (token = $1)), $2) LIMIT $3)");
  EXPECT_EQ(rendered_from_object(q), s.sql);
  EXPECT_EQ(s.params.size(), 3U);
}

TEST(query_clauses, a_clause_method_replaces_one_part_and_keeps_the_others) {
  // limit/offset first, where afterwards: the values stay, the placeholders follow the text.
  const auto q = pgorm::select<User>().limit(5).offset(7).where(col<&User::age> > 3);
  EXPECT_EQ(decltype(q)::sql(),
            R"(SELECT id, email, name, age, "isEmailVerified", created_at FROM "user" )"
            R"(WHERE age > $1 LIMIT $2 OFFSET $3)");
  const pgorm::statement st = q.to_sql();
  const auto params = st.params.params();
  ASSERT_EQ(params.size(), 3U);
  // Binary int4 3, int8 5, int8 7 (big-endian): the last byte carries the value.
  ASSERT_EQ(params[0].bytes().size(), 4U);
  ASSERT_EQ(params[1].bytes().size(), 8U);
  ASSERT_EQ(params[2].bytes().size(), 8U);
  EXPECT_EQ(static_cast<int>(params[0].bytes().back()), 3);
  EXPECT_EQ(static_cast<int>(params[1].bytes().back()), 5);
  EXPECT_EQ(static_cast<int>(params[2].bytes().back()), 7);

  // The builder a method was called on is unchanged.
  const auto base = pgorm::select<User>().order_by(col<&User::id>);
  const auto limited = base.limit(1);
  EXPECT_EQ(base.to_sql().params.size(), 0U);
  EXPECT_EQ(limited.to_sql().params.size(), 1U);
}

// Every statement kind has the same terminal operations, bound and unbound.
template <class Q, class Row>
constexpr bool runs_like_a_query = requires(const Q& q, pgorm::connection& c) {
  { q.all(c) } -> std::same_as<std::vector<Row>>;
  { q.one(c) } -> std::same_as<Row>;
  { q.first(c) } -> std::same_as<std::optional<Row>>;
  { q.exec(c) } -> std::same_as<std::int64_t>;
  q.each(c, std::function<void(const Row&)>());
  { q.bind(c).all() } -> std::same_as<std::vector<Row>>;
  { q.bind(c).one() } -> std::same_as<Row>;
  { q.bind(c).first() } -> std::same_as<std::optional<Row>>;
  { q.bind(c).exec() } -> std::same_as<std::int64_t>;
  q.bind(c).each(std::function<void(const Row&)>());
};

static_assert(runs_like_a_query<decltype(pgorm::select<User>()), User>);
static_assert(runs_like_a_query<decltype(pgorm::select(col<&User::id>).from<User>()),
                                std::tuple<std::int64_t>>);
static_assert(runs_like_a_query<decltype(pgorm::insert(User{}).returning_all()), User>);
static_assert(runs_like_a_query<decltype(pgorm::update<User>()
                                             .set(col<& User::age> = 1)
                                             .all_rows()
                                             .returning(col<&User::id>)),
                                std::tuple<std::int64_t>>);
static_assert(runs_like_a_query<decltype(pgorm::remove<User>().all_rows().returning_all()), User>);
static_assert(runs_like_a_query<decltype(pgorm::query<User>("select * from \"user\"")), User>);

TEST(query_clauses, page_comes_from_the_runner_with_the_select_cursor) {
  using q = decltype(pgorm::select<User>().order_by(col<&User::id>));
  using page = decltype(std::declval<const q&>().page(std::declval<pgorm::connection&>(), 1));
  static_assert(std::is_same_v<page, pgorm::page<User, std::tuple<std::int64_t>>>);
  static_assert(std::is_same_v<q::cursor_t, std::tuple<std::int64_t>>);
  SUCCEED();
}

}  // namespace
