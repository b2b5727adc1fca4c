// SPDX-License-Identifier: MIT
// Golden SQL for the expression headers (docs/queries.md): SQL functions with a declared result
// type, CASE, window functions, interval arithmetic, full-text search and JSON operators. Static
// shapes are checked at compile time (static_assert); parameters through to_sql().
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>

#include <boost/json/src.hpp>  // Boost.JSON, header-only: in one .cpp of the program
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "pgorm/json_struct.hpp"
#include "pgorm/query.hpp"
#include "pgorm/query/case.hpp"
#include "pgorm/query/functions.hpp"
#include "pgorm/query/json_ops.hpp"
#include "pgorm/query/text_search.hpp"
#include "pgorm/query/window.hpp"
#include "support/schema.hpp"

namespace ut {
/// A table with jsonb columns.
struct Doc {
  std::int64_t id;
  pgorm::jsonb data;
  std::optional<pgorm::jsonb> extra;
};
struct Address {
  std::string city;
  std::optional<std::string> zip;
};
struct Prefs {
  std::string theme;
  std::int32_t font_size;
  bool beta;
  double ratio;
  std::vector<std::string> tags;
  Address address;
  std::optional<std::int64_t> quota;
};
}  // namespace ut
template <>
inline constexpr bool pgorm::jsonb_struct<ut::Prefs> = true;

namespace {

using pgorm::col;
using qt::Account;
using qt::Session;
using qt::User;
using ut::Doc;

template <class Q>
constexpr std::string_view sql_of(const Q& /*q*/) {
  return Q::sql();
}

template <class Q>
using row_of = typename Q::row_type;

// ---- fn<"name", T>(...) -----------------------------------------------------------------------

static_assert(pgorm::detail::valid_function_name("similarity"));
static_assert(pgorm::detail::valid_function_name("app.slug_2$"));
static_assert(!pgorm::detail::valid_function_name("Similarity"));
static_assert(!pgorm::detail::valid_function_name("lower(email); drop table x; --"));
static_assert(!pgorm::detail::valid_function_name("a.b.c"));
static_assert(!pgorm::detail::valid_function_name(".a"));
static_assert(!pgorm::detail::valid_function_name("a."));
static_assert(!pgorm::detail::valid_function_name("1abc"));
static_assert(!pgorm::detail::valid_function_name(""));
static_assert(!pgorm::detail::valid_function_name(std::string_view(
    "a234567890123456789012345678901234567890123456789012345678901234")));  // 64 chars

static_assert(decltype(pgorm::select(pgorm::fn<"length", std::int32_t>(
                  col<&User::email>)))::sql() == R"(SELECT length(email) FROM "user")");
static_assert(decltype(pgorm::select(col<&User::id>)
                           .where(pgorm::fn<"app.similarity", float>(col<&User::email>, "x") >
                                  0.5F))::sql() ==
              R"(SELECT id FROM "user" WHERE app.similarity(email, $1) > $2)");

TEST(expressions_fn, declared_result_type_is_the_value_type) {
  auto f = pgorm::fn<"date_trunc", pgorm::timestamptz>("day", col<&User::created_at>);
  static_assert(std::is_same_v<decltype(f)::value_type, pgorm::timestamptz>);
  auto q = pgorm::select(col<&User::id>, f);
  EXPECT_EQ(sql_of(q), R"(SELECT id, date_trunc($1, created_at) FROM "user")");
  const auto s = q.to_sql();
  ASSERT_EQ(s.params.size(), 1U);
  static_assert(std::is_same_v<decltype(pgorm::fn<"nullif", std::optional<std::string>>(
                                   col<&User::email>, ""))::value_type,
                               std::optional<std::string>>);
}

TEST(expressions_fn, arguments_are_parameters_never_text) {
  const std::string hostile = "x'); drop table \"user\"; --";
  auto q = pgorm::select(pgorm::fn<"concat", std::string>(col<&User::email>, hostile, 42));
  EXPECT_EQ(sql_of(q), R"(SELECT concat(email, $1, $2) FROM "user")");
  EXPECT_EQ(q.to_sql().params.size(), 2U);
}

TEST(expressions_fn, aggregates_and_cast) {
  auto q = pgorm::select(
               col<&User::age>,
               pgorm::aggregate<"string_agg", std::optional<std::string>>(col<&User::email>, ", "))
               .group_by(col<&User::age>);
  EXPECT_EQ(sql_of(q), R"(SELECT age, string_agg(email, $1) FROM "user" GROUP BY age)");
  auto c = pgorm::select(pgorm::cast<std::int64_t>(col<&User::age>),
                         pgorm::cast<std::string>(col<&User::name>));
  EXPECT_EQ(sql_of(c), R"(SELECT CAST(age AS bigint), CAST(name AS text) FROM "user")");
  static_assert(
      std::is_same_v<row_of<decltype(c)>, std::tuple<std::int64_t, std::optional<std::string>>>);
}

// ---- case_when(...).when(...).else_(...) ------------------------------------------------------

static_assert(decltype(pgorm::select(col<&User::id>, pgorm::case_when(col<&User::age> < 18, "minor")
                                                         .when(col<&User::age> < 65, "adult")
                                                         .else_("senior")))::sql() ==
              R"(SELECT id, CASE WHEN age < $1 THEN $2 WHEN age < $3 THEN $4 ELSE $5 END )"
              R"(FROM "user")");

TEST(expressions_case, result_type_and_nullability) {
  auto no_else = pgorm::case_when(col<&User::age> < 18, 1);
  static_assert(std::is_same_v<decltype(no_else)::value_type, std::optional<int>>);
  auto with_else = no_else.else_(0);
  static_assert(std::is_same_v<decltype(with_else)::value_type, int>);
  // A column's type fixes the branches: plain values become parameters of that type.
  auto by_column =
      pgorm::case_when(col<&User::is_email_verified>, col<&User::email>).else_("unverified");
  static_assert(std::is_same_v<decltype(by_column)::value_type, std::string>);
  // A nullable branch, or a NULL one, makes the result optional.
  auto nullable = pgorm::case_when(col<&User::age> > 0, col<&User::name>).else_("?");
  static_assert(std::is_same_v<decltype(nullable)::value_type, std::optional<std::string>>);
  auto with_null =
      pgorm::case_when(col<&User::age> > 0, 1.5).when(col<&User::age> > 9, std::nullopt).else_(2);
  static_assert(std::is_same_v<decltype(with_null)::value_type, std::optional<double>>);
  auto q = pgorm::select(with_null);
  EXPECT_EQ(sql_of(q), R"(SELECT CASE WHEN age > $1 THEN $2 WHEN age > $3 THEN $4 ELSE $5 END )"
                       R"(FROM "user")");
  EXPECT_EQ(q.to_sql().params.size(), 5U);
}

TEST(expressions_case, in_where_order_by_and_arithmetic) {
  auto rank = pgorm::case_when(col<&User::name>.is_null(), 1).else_(0);
  auto q = pgorm::select(col<&User::id>)
               .where(rank + col<&User::age> > 20)
               .order_by(rank, col<&User::id>.desc());
  EXPECT_EQ(sql_of(q),
            R"(SELECT id FROM "user" WHERE CASE WHEN name IS NULL THEN $1 ELSE $2 END + age > $3 )"
            R"(ORDER BY CASE WHEN name IS NULL THEN $4 ELSE $5 END, id DESC)");
  // A CASE over an aggregate is an aggregate.
  auto agg = pgorm::select(pgorm::sum(pgorm::case_when(col<&User::age> >= 18, 1).else_(0)));
  EXPECT_EQ(sql_of(agg), R"(SELECT sum(CASE WHEN age >= $1 THEN $2 ELSE $3 END) FROM "user")");
}

// ---- window functions -------------------------------------------------------------------------

static_assert(
    decltype(pgorm::select(col<&Session::id>,
                           pgorm::row_number().over(pgorm::window()
                                                        .partition_by(col<&Session::user_id>)
                                                        .order_by(col<&Session::expires_at>.desc(),
                                                                  col<&Session::id>))))::sql() ==
    R"(SELECT id, row_number() OVER (PARTITION BY user_id ORDER BY expires_at DESC, id) )"
    R"(FROM session)");

TEST(expressions_window, ranking_functions_and_their_types) {
  const auto w = pgorm::window().order_by(col<&User::age>.desc());
  auto q = pgorm::select(pgorm::rank().over(w), pgorm::dense_rank().over(w),
                         pgorm::percent_rank().over(w), pgorm::cume_dist().over(w),
                         pgorm::ntile(4).over(w), pgorm::row_number().over());
  EXPECT_EQ(sql_of(q), R"(SELECT rank() OVER (ORDER BY age DESC), dense_rank() OVER (ORDER BY )"
                       R"(age DESC), percent_rank() OVER (ORDER BY age DESC), cume_dist() OVER )"
                       R"((ORDER BY age DESC), ntile($1) OVER (ORDER BY age DESC), row_number() )"
                       R"(OVER () FROM "user")");
  static_assert(
      std::is_same_v<row_of<decltype(q)>, std::tuple<std::int64_t, std::int64_t, double, double,
                                                     std::int32_t, std::int64_t>>);
  EXPECT_EQ(q.to_sql().params.size(), 1U);
}

TEST(expressions_window, lag_lead_and_values) {
  const auto w = pgorm::window().partition_by(col<&Account::user_id>).order_by(col<&Account::id>);
  auto q = pgorm::select(pgorm::lag(col<&Account::provider>).over(w),
                         pgorm::lead(col<&Account::provider>, 2, "none").over(w),
                         pgorm::lag(col<&Account::balance>, 1, 0).over(w),
                         pgorm::first_value(col<&Account::provider>).over(w),
                         pgorm::last_value(col<&Account::balance>).over(w),
                         pgorm::nth_value(col<&Account::id>, 2).over(w));
  EXPECT_EQ(sql_of(q), R"(SELECT lag(provider, $1) OVER (PARTITION BY user_id ORDER BY id), )"
                       R"(lead(provider, $2, $3) OVER (PARTITION BY user_id ORDER BY id), )"
                       R"(lag(balance, $4, $5) OVER (PARTITION BY user_id ORDER BY id), )"
                       R"(first_value(provider) OVER (PARTITION BY user_id ORDER BY id), )"
                       R"(last_value(balance) OVER (PARTITION BY user_id ORDER BY id), )"
                       R"(nth_value(id, $6) OVER (PARTITION BY user_id ORDER BY id) FROM account)");
  static_assert(std::is_same_v<
                row_of<decltype(q)>,
                std::tuple<std::optional<std::string>, std::string, std::optional<std::int64_t>,
                           std::string, std::optional<std::int64_t>, std::optional<std::int64_t>>>);
}

TEST(expressions_window, aggregates_over_a_window_need_no_group_by) {
  // A running total: sum over the rows up to this one, one row per account.
  auto q = pgorm::select(
               col<&Account::id>,
               pgorm::over(pgorm::sum(col<&Account::balance>),
                           pgorm::window().order_by(col<&Account::id>)),
               pgorm::over(pgorm::count(), pgorm::window().partition_by(col<&Account::provider>)))
               .where(col<&Account::user_id> == 7)
               .order_by(col<&Account::id>);
  EXPECT_EQ(sql_of(q), R"(SELECT id, sum(balance) OVER (ORDER BY id), count(*) OVER (PARTITION )"
                       R"(BY provider) FROM account WHERE user_id = $1 ORDER BY id)");
  // A window over a grouped query: rank the groups by their count.
  auto g = pgorm::select(col<&User::age>, pgorm::count(),
                         pgorm::rank().over(pgorm::window().order_by(pgorm::count().desc())))
               .group_by(col<&User::age>);
  EXPECT_EQ(sql_of(g), R"(SELECT age, count(*), rank() OVER (ORDER BY count(*) DESC) FROM )"
                       R"("user" GROUP BY age)");
}

// ---- window frames ----------------------------------------------------------------------------

// A frame's offsets are compile-time constants: the whole statement stays static.
static_assert(decltype(pgorm::select(col<&Account::id>,
                                     pgorm::over(pgorm::avg(col<&Account::balance>),
                                                 pgorm::window()
                                                     .partition_by(col<&Account::user_id>)
                                                     .order_by(col<&Account::id>)
                                                     .rows_between(pgorm::preceding<2>,
                                                                   pgorm::current_row))))::sql() ==
              R"(SELECT id, avg(balance) OVER (PARTITION BY user_id ORDER BY id ROWS BETWEEN 2 )"
              R"(PRECEDING AND CURRENT ROW) FROM account)");

TEST(expressions_window, every_frame_bound_renders) {
  const auto w = pgorm::window().order_by(col<&Account::id>);
  auto q = pgorm::select(
      pgorm::over(pgorm::sum(col<&Account::balance>),
                  w.rows_between(pgorm::unbounded_preceding, pgorm::current_row)),
      pgorm::over(pgorm::sum(col<&Account::balance>),
                  w.rows_between(pgorm::current_row, pgorm::unbounded_following)),
      pgorm::over(pgorm::count(), w.rows_between(pgorm::preceding<1>, pgorm::following<12>)),
      pgorm::over(pgorm::count(), w.range_between(pgorm::preceding<10>, pgorm::following<0>)),
      pgorm::last_value(col<&Account::balance>)
          .over(w.range_between(pgorm::unbounded_preceding, pgorm::unbounded_following)),
      pgorm::first_value(col<&Account::id>)
          .over(pgorm::window().rows_between(pgorm::preceding<3>, pgorm::preceding<1>)));
  EXPECT_EQ(sql_of(q),
            R"(SELECT sum(balance) OVER (ORDER BY id ROWS BETWEEN UNBOUNDED PRECEDING AND )"
            R"(CURRENT ROW), sum(balance) OVER (ORDER BY id ROWS BETWEEN CURRENT ROW AND )"
            R"(UNBOUNDED FOLLOWING), count(*) OVER (ORDER BY id ROWS BETWEEN 1 PRECEDING AND 12 )"
            R"(FOLLOWING), count(*) OVER (ORDER BY id RANGE BETWEEN 10 PRECEDING AND 0 )"
            R"(FOLLOWING), last_value(balance) OVER (ORDER BY id RANGE BETWEEN UNBOUNDED )"
            R"(PRECEDING AND UNBOUNDED FOLLOWING), first_value(id) OVER (ROWS BETWEEN 3 )"
            R"(PRECEDING AND 1 PRECEDING) FROM account)");
  EXPECT_TRUE(q.to_sql().params.empty());
}

TEST(expressions_window, a_frame_keeps_order_by_and_partition_given_after_it) {
  // The frame may be set first; partition_by() and order_by() keep it.
  const auto w = pgorm::window()
                     .rows_between(pgorm::unbounded_preceding, pgorm::current_row)
                     .order_by(col<&Account::id>)
                     .partition_by(col<&Account::provider>);
  auto q = pgorm::select(pgorm::row_number().over(w));
  EXPECT_EQ(sql_of(q), R"(SELECT row_number() OVER (PARTITION BY provider ORDER BY id ROWS )"
                       R"(BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) FROM account)");
}

TEST(expressions_window, groups_frames_and_every_exclude_clause) {
  const auto w = pgorm::window().order_by(col<&Account::balance>);
  auto q = pgorm::select(
      pgorm::over(pgorm::count(), w.groups_between(pgorm::preceding<1>, pgorm::following<1>)),
      pgorm::over(pgorm::count(),
                  w.rows_between(pgorm::unbounded_preceding, pgorm::unbounded_following)
                      .exclude_current_row()),
      pgorm::over(pgorm::count(),
                  w.range_between(pgorm::unbounded_preceding, pgorm::current_row).exclude_group()),
      pgorm::over(pgorm::count(),
                  w.groups_between(pgorm::current_row, pgorm::current_row).exclude_ties()),
      pgorm::over(pgorm::count(),
                  w.rows_between(pgorm::preceding<1>, pgorm::current_row).exclude_no_others()));
  EXPECT_EQ(sql_of(q),
            R"(SELECT count(*) OVER (ORDER BY balance GROUPS BETWEEN 1 PRECEDING AND 1 )"
            R"(FOLLOWING), count(*) OVER (ORDER BY balance ROWS BETWEEN UNBOUNDED PRECEDING AND )"
            R"(UNBOUNDED FOLLOWING EXCLUDE CURRENT ROW), count(*) OVER (ORDER BY balance RANGE )"
            R"(BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW EXCLUDE GROUP), count(*) OVER (ORDER )"
            R"(BY balance GROUPS BETWEEN CURRENT ROW AND CURRENT ROW EXCLUDE TIES), count(*) )"
            R"(OVER (ORDER BY balance ROWS BETWEEN 1 PRECEDING AND CURRENT ROW EXCLUDE NO )"
            R"(OTHERS) FROM account)");
  EXPECT_TRUE(q.to_sql().params.empty());
}

// Run-time offsets are parameters: the statement text stays static.
static_assert(decltype(pgorm::select(pgorm::over(
                  pgorm::sum(col<&Account::balance>),
                  pgorm::window()
                      .order_by(col<&Account::id>)
                      .rows_between(pgorm::preceding_by(2), pgorm::following_by(3)))))::sql() ==
              R"(SELECT sum(balance) OVER (ORDER BY id ROWS BETWEEN $1 PRECEDING AND $2 )"
              R"(FOLLOWING) FROM account)");

TEST(expressions_window, run_time_offsets_are_parameters_after_the_window_s_own) {
  using namespace std::chrono_literals;
  auto q = pgorm::select(
               pgorm::over(pgorm::count(), pgorm::window()
                                               .partition_by(col<&Account::provider> == "github")
                                               .order_by(col<&Account::balance>)
                                               .groups_between(pgorm::preceding_by(std::int16_t{1}),
                                                               pgorm::current_row)))
               .where(col<&Account::id> > 3);
  EXPECT_EQ(sql_of(q),
            R"(SELECT count(*) OVER (PARTITION BY provider = $1 ORDER BY balance )"
            R"(GROUPS BETWEEN $2 PRECEDING AND CURRENT ROW) FROM account WHERE id > $3)");
  const auto sql = q.to_sql();
  ASSERT_EQ(sql.params.size(), 3U);
  EXPECT_EQ(sql.params.params()[1].type(), pgorm::oids::int8);  // counts go as bigint

  // RANGE over a timestamp: the offsets are intervals (a duration or a pgorm::interval).
  auto t = pgorm::select(pgorm::over(
      pgorm::count(),
      pgorm::window()
          .order_by(col<&Session::expires_at>)
          .range_between(pgorm::preceding_by(90min), pgorm::following_by(pgorm::interval{
                                                         .months = 0, .days = 1, .time = {}}))));
  EXPECT_EQ(sql_of(t), R"(SELECT count(*) OVER (ORDER BY expires_at RANGE BETWEEN $1 PRECEDING )"
                       R"(AND $2 FOLLOWING) FROM session)");
  const auto tsql = t.to_sql();
  ASSERT_EQ(tsql.params.size(), 2U);
  EXPECT_EQ(tsql.params.params()[0].type(), pgorm::oids::interval);
  EXPECT_EQ(tsql.params.params()[1].type(), pgorm::oids::interval);
}

TEST(expressions_window, first_and_last_value_are_optional_only_over_frames_that_can_be_empty) {
  const auto w = pgorm::window().order_by(col<&Account::id>);
  using pgorm::current_row;
  using pgorm::unbounded_following;
  using pgorm::unbounded_preceding;
  // Frames that always hold the current row: the value of a NOT NULL column is never NULL.
  auto holds =
      pgorm::select(pgorm::first_value(col<&Account::provider>).over(w),
                    pgorm::last_value(col<&Account::provider>)
                        .over(w.rows_between(unbounded_preceding, unbounded_following)),
                    pgorm::first_value(col<&Account::provider>)
                        .over(w.groups_between(pgorm::preceding_by(2), current_row)),
                    pgorm::last_value(col<&Account::provider>)
                        .over(w.rows_between(current_row, pgorm::following<1>).exclude_ties()));
  static_assert(std::is_same_v<row_of<decltype(holds)>,
                               std::tuple<std::string, std::string, std::string, std::string>>);
  // Frames that can miss every row: before or after the current row, or excluding it.
  auto may_miss =
      pgorm::select(pgorm::first_value(col<&Account::provider>)
                        .over(w.rows_between(pgorm::preceding<2>, pgorm::preceding<1>)),
                    pgorm::last_value(col<&Account::provider>)
                        .over(w.rows_between(pgorm::following_by(1), unbounded_following)),
                    pgorm::first_value(col<&Account::provider>)
                        .over(w.rows_between(current_row, current_row).exclude_current_row()),
                    pgorm::last_value(col<&Account::provider>)
                        .over(w.range_between(unbounded_preceding, current_row).exclude_group()),
                    pgorm::last_value(col<&Account::balance>)
                        .over(w.rows_between(unbounded_preceding, pgorm::preceding<1>)));
  static_assert(std::is_same_v<row_of<decltype(may_miss)>,
                               std::tuple<std::optional<std::string>, std::optional<std::string>,
                                          std::optional<std::string>, std::optional<std::string>,
                                          std::optional<std::int64_t>>>);
  // Aggregates are typed as before (sum is optional anyway, count never NULL).
  auto agg = pgorm::select(
      pgorm::over(pgorm::count(), w.rows_between(pgorm::preceding<2>, pgorm::preceding<1>)));
  static_assert(std::is_same_v<row_of<decltype(agg)>, std::tuple<std::int64_t>>);
  EXPECT_TRUE(sql_of(may_miss).starts_with(
      R"(SELECT first_value(provider) OVER (ORDER BY id ROWS BETWEEN 2 PRECEDING AND 1 )"
      R"(PRECEDING), last_value(provider) OVER (ORDER BY id ROWS BETWEEN $1 FOLLOWING AND )"
      R"(UNBOUNDED FOLLOWING), first_value(provider) OVER (ORDER BY id ROWS BETWEEN CURRENT )"
      R"(ROW AND CURRENT ROW EXCLUDE CURRENT ROW), )"));
}

// ---- interval arithmetic ----------------------------------------------------------------------

TEST(expressions_interval, timestamps_plus_and_minus_intervals) {
  using namespace std::chrono_literals;
  auto soon = col<&Session::expires_at> - 30min;
  static_assert(std::is_same_v<decltype(soon)::value_type, pgorm::timestamptz>);
  auto month_ago = pgorm::now() - pgorm::interval{.months = 1, .days = 0, .time = {}};
  static_assert(std::is_same_v<decltype(month_ago)::value_type, pgorm::timestamptz>);
  auto q = pgorm::select(col<&Session::id>, col<&Session::expires_at> - pgorm::now())
               .where(col<&Session::expires_at> < pgorm::now() + 24h &&
                      col<&Session::expires_at> - 30min > month_ago);
  EXPECT_EQ(sql_of(q), R"(SELECT id, expires_at - now() FROM session WHERE expires_at < now() )"
                       R"(+ $1 AND expires_at - $2 > now() - $3)");
  static_assert(std::is_same_v<row_of<decltype(q)>, std::tuple<std::int64_t, pgorm::interval>>);
  const auto s = q.to_sql();
  ASSERT_EQ(s.params.size(), 3U);
  // An interval parameter is sent as interval (OID 1186), in binary.
  EXPECT_EQ(s.params.params()[0].type(), pgorm::oids::interval);
}

TEST(expressions_interval, interval_arithmetic_and_dates) {
  auto twice = (col<&Session::expires_at> - col<&Session::expires_at>)*2;
  static_assert(std::is_same_v<decltype(twice)::value_type, pgorm::interval>);
  auto sum = (pgorm::now() - col<&Session::expires_at>)+pgorm::interval{0, 1, {}};
  static_assert(std::is_same_v<decltype(sum)::value_type, pgorm::interval>);
  auto day = pgorm::cast<pgorm::date>(col<&Session::expires_at>);
  static_assert(std::is_same_v<decltype(day + pgorm::interval{})::value_type, pgorm::timestamp>);
  static_assert(std::is_same_v<decltype(day - day)::value_type, std::int32_t>);
  EXPECT_EQ(sql_of(pgorm::select(twice)), "SELECT (expires_at - expires_at) * $1 FROM session");
  // NULL in, NULL out.
  auto maybe = pgorm::cast<pgorm::timestamptz>(col<&Session::ip_address>) + pgorm::interval{};
  static_assert(std::is_same_v<decltype(maybe)::value_type, std::optional<pgorm::timestamptz>>);
}

// ---- full-text search -------------------------------------------------------------------------

static_assert(
    decltype(pgorm::select(col<&User::id>)
                 .where(pgorm::matches(pgorm::to_tsvector<"english">(col<&User::name>),
                                       pgorm::websearch_to_tsquery<"english">("ada"))))::sql() ==
    R"(SELECT id FROM "user" WHERE to_tsvector('english', name) @@ )"
    R"(websearch_to_tsquery('english', $1))");

TEST(expressions_text_search, every_query_function_rank_and_default_config) {
  const auto doc = pgorm::to_tsvector(col<&User::email>);
  static_assert(std::is_same_v<decltype(doc)::value_type, pgorm::tsvector>);
  // A nullable column makes the document, and the match, nullable.
  static_assert(std::is_same_v<decltype(pgorm::to_tsvector(col<&User::name>))::value_type,
                               std::optional<pgorm::tsvector>>);
  const std::string input = "a & !b";
  auto q =
      pgorm::select(col<&User::id>, pgorm::ts_rank(doc, pgorm::plainto_tsquery<"simple">(input)),
                    pgorm::ts_rank_cd(doc, pgorm::phraseto_tsquery(input)))
          .where(pgorm::matches(doc, pgorm::to_tsquery<"simple">("x:*")) ||
                 pgorm::matches(doc, pgorm::websearch_to_tsquery(col<&User::email>)));
  EXPECT_EQ(sql_of(q), R"(SELECT id, ts_rank(to_tsvector(email), plainto_tsquery('simple', $1)), )"
                       R"(ts_rank_cd(to_tsvector(email), phraseto_tsquery($2)) FROM "user" WHERE )"
                       R"(to_tsvector(email) @@ to_tsquery('simple', $3) OR to_tsvector(email) @@ )"
                       R"(websearch_to_tsquery(email))");
  static_assert(std::is_same_v<row_of<decltype(q)>, std::tuple<std::int64_t, float, float>>);
  EXPECT_EQ(q.to_sql().params.size(), 3U);
  auto ranked = pgorm::select(col<&User::id>)
                    .order_by(pgorm::ts_rank(doc, pgorm::plainto_tsquery("x")).desc());
  EXPECT_EQ(sql_of(ranked), R"(SELECT id FROM "user" ORDER BY ts_rank(to_tsvector(email), )"
                            R"(plainto_tsquery($1)) DESC)");
}

TEST(expressions_text_search, ts_text_reads_the_text_form) {
  auto q = pgorm::select(pgorm::ts_text(pgorm::to_tsvector<"english">(col<&User::email>)),
                         pgorm::ts_text(pgorm::to_tsvector(col<&User::name>)),
                         pgorm::ts_text(pgorm::websearch_to_tsquery<"simple">("a -b")));
  EXPECT_EQ(sql_of(q), R"(SELECT CAST(to_tsvector('english', email) AS text), )"
                       R"(CAST(to_tsvector(name) AS text), CAST(websearch_to_tsquery('simple', )"
                       R"($1) AS text) FROM "user")");
  static_assert(std::is_same_v<row_of<decltype(q)>,
                               std::tuple<std::string, std::optional<std::string>, std::string>>);
}

// ---- JSON operators ---------------------------------------------------------------------------

static_assert(decltype(pgorm::select(col<&Doc::id>)
                           .where(pgorm::json_get_text(col<&Doc::data>, "status") ==
                                  "paid"))::sql() ==
              R"(SELECT id FROM doc WHERE data ->> $1 = $2)");

TEST(expressions_json, operators_chain_and_type) {
  auto city = pgorm::json_get_text(pgorm::json_get(col<&Doc::data>, "address"), "city");
  static_assert(std::is_same_v<decltype(city)::value_type, std::optional<std::string>>);
  auto first = pgorm::json_get(col<&Doc::data>, 0);
  static_assert(std::is_same_v<decltype(first)::value_type, std::optional<pgorm::jsonb>>);
  auto q = pgorm::select(col<&Doc::id>, city, first)
               .where(pgorm::json_contains(col<&Doc::data>, pgorm::jsonb{R"({"a": 1})"}) &&
                      pgorm::json_has_key(col<&Doc::data>, "coupon") &&
                      pgorm::json_contains(col<&Doc::extra>, col<&Doc::data>));
  EXPECT_EQ(sql_of(q), R"(SELECT id, data -> $1 ->> $2, data -> $3 FROM doc WHERE data @> $4 )"
                       R"(AND data ? $5 AND extra @> data)");
  const auto s = q.to_sql();
  ASSERT_EQ(s.params.size(), 5U);
  EXPECT_EQ(s.params.params()[2].type(), pgorm::oids::int4);   // an array index
  EXPECT_EQ(s.params.params()[3].type(), pgorm::oids::jsonb);  // the document
  static_assert(
      std::is_same_v<decltype(pgorm::json_contains(col<&Doc::extra>, col<&Doc::data>))::value_type,
                     std::optional<bool>>);
}

TEST(expressions_json, remove_keys_and_remove_path_send_text_arrays) {
  auto q = pgorm::select(
      pgorm::json_remove_keys(col<&Doc::data>, {"coupon", "note"}),
      pgorm::json_remove_path(pgorm::json_remove_keys(col<&Doc::data>, {"a"}), {"items", "-1"}),
      pgorm::json_remove_path(col<&Doc::extra>, {"gift"}));
  EXPECT_EQ(sql_of(q), R"(SELECT data - $1, data - $2 #- $3, extra #- $4 FROM doc)");
  static_assert(
      std::is_same_v<row_of<decltype(q)>,
                     std::tuple<pgorm::jsonb, pgorm::jsonb, std::optional<pgorm::jsonb>>>);
  const auto s = q.to_sql();
  ASSERT_EQ(s.params.size(), 4U);
  for (const auto& p : s.params.params()) EXPECT_EQ(p.type(), pgorm::oids::text_array);
}

TEST(expressions_json, paths_jsonpath_and_remove) {
  auto city = pgorm::json_get_path_text(col<&Doc::data>, {"address", "city"});
  static_assert(std::is_same_v<decltype(city)::value_type, std::optional<std::string>>);
  auto tag = pgorm::json_get_path(col<&Doc::data>, {"tags", "0"});
  static_assert(std::is_same_v<decltype(tag)::value_type, std::optional<pgorm::jsonb>>);
  auto trimmed = pgorm::json_remove(pgorm::json_remove(col<&Doc::data>, "coupon"), 0);
  static_assert(std::is_same_v<decltype(trimmed)::value_type, pgorm::jsonb>);
  static_assert(std::is_same_v<decltype(pgorm::json_remove(col<&Doc::extra>, "a"))::value_type,
                               std::optional<pgorm::jsonb>>);
  auto q = pgorm::select(col<&Doc::id>, city, tag, trimmed)
               .where(pgorm::json_path_exists(col<&Doc::data>, "$.items[*] ? (@.qty > 2)") &&
                      pgorm::json_path_match(col<&Doc::data>, "$.total > 100") == true);
  EXPECT_EQ(sql_of(q), R"(SELECT id, data #>> $1, data #> $2, data - $3 - $4 FROM doc WHERE )"
                       R"(data @? CAST($5 AS jsonpath) AND data @@ CAST($6 AS jsonpath) = $7)");
  const auto s = q.to_sql();
  ASSERT_EQ(s.params.size(), 7U);
  EXPECT_EQ(s.params.params()[0].type(), pgorm::oids::text_array);  // the path
  EXPECT_EQ(s.params.params()[2].type(), pgorm::oids::text);        // a key
  EXPECT_EQ(s.params.params()[3].type(), pgorm::oids::int4);        // an array index
  EXPECT_EQ(s.params.params()[4].type(), pgorm::oids::text);        // cast to jsonpath
  static_assert(
      std::is_same_v<decltype(pgorm::json_path_exists(col<&Doc::extra>, "$.a"))::value_type,
                     std::optional<bool>>);
  static_assert(
      std::is_same_v<decltype(pgorm::json_path_exists(col<&Doc::data>, "$.a"))::value_type, bool>);
}

// ---- jsonb columns as structs -----------------------------------------------------------------

std::string encoded(const ut::Prefs& p) {
  pgorm::byte_buffer out;
  pgorm::pg_type<ut::Prefs>::encode(p, out);
  return std::string(out.view());
}
ut::Prefs decoded(std::string_view text) {
  ut::Prefs p{};
  const std::string bytes = std::string(1, '\x01') + std::string(text);
  pgorm::pg_type<ut::Prefs>::decode(bytes, pgorm::oids::jsonb, p);
  return p;
}

TEST(expressions_json_struct, encodes_fields_by_name_and_reads_them_back) {
  static_assert(pgorm::has_pg_type<ut::Prefs>);
  static_assert(pgorm::pg_type<ut::Prefs>::oid == pgorm::oids::jsonb);
  const ut::Prefs p{"dark", 14, true, 0.5, {"a", "b"}, {"Lyon", std::nullopt}, 7};
  EXPECT_EQ(encoded(p), std::string("\x01") +
                            R"({"theme":"dark","font_size":14,"beta":true,"ratio":5E-1,)"
                            R"("tags":["a","b"],"address":{"city":"Lyon","zip":null},"quota":7})");
  const ut::Prefs back = decoded(encoded(p).substr(1));
  EXPECT_EQ(back.theme, "dark");
  EXPECT_EQ(back.font_size, 14);
  EXPECT_TRUE(back.beta);
  EXPECT_EQ(back.ratio, 0.5);
  EXPECT_EQ(back.tags, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(back.address.city, "Lyon");
  EXPECT_EQ(back.address.zip, std::nullopt);
  EXPECT_EQ(back.quota, 7);
}

TEST(expressions_json_struct, absent_optional_keys_and_extra_keys) {
  const ut::Prefs p = decoded(
      R"({"theme": "x", "font_size": 1, "beta": false, "ratio": 2, "tags": [],
          "address": {"city": "Oslo"}, "unknown": [1, 2]})");
  EXPECT_EQ(p.quota, std::nullopt);
  EXPECT_EQ(p.address.zip, std::nullopt);
  EXPECT_EQ(p.ratio, 2.0);
}

TEST(expressions_json_struct, mismatches_name_the_path) {
  const auto error_of = [](std::string_view text) -> std::string {
    try {
      (void)decoded(text);
    } catch (const pgorm::conversion_error& e) {
      return e.what();
    }
    return "no error";
  };
  const std::string base = R"("theme": "x", "beta": false, "ratio": 1, "tags": [], )";
  EXPECT_THAT(error_of("{" + base + R"("font_size": 1})"),
              testing::HasSubstr("no such key at 'address'"));
  EXPECT_THAT(error_of("{" + base + R"("font_size": 3000000000, "address": {"city": "a"}})"),
              testing::HasSubstr("does not fit the field's type at 'font_size'"));
  EXPECT_THAT(error_of("{" + base + R"("font_size": 1, "address": {"city": 5}})"),
              testing::HasSubstr("expected a string at 'address.city'"));
  EXPECT_THAT(error_of(R"({"theme": "x", "beta": false, "ratio": 1, "tags": ["a", 2], )"
                       R"("font_size": 1, "address": {"city": "a"}})"),
              testing::HasSubstr("expected a string at 'tags[1]'"));
  EXPECT_THAT(error_of("[1]"), testing::HasSubstr("expected an object at the document"));
  EXPECT_THAT(error_of("{not json"), testing::HasSubstr("invalid jsonb text"));
}

}  // namespace
