// SPDX-License-Identifier: MIT
// The expression headers against a real server (docs/queries.md): SQL functions with a declared
// result type, CASE, window functions, interval arithmetic, full-text search and JSON operators,
// on the users/sessions/accounts schema.
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include <boost/json/src.hpp>  // Boost.JSON, header-only: in one .cpp of the program
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "pgorm/json_struct.hpp"
#include "pgorm/pgorm.hpp"
#include "pgorm/query/case.hpp"
#include "pgorm/query/functions.hpp"
#include "pgorm/query/json_ops.hpp"
#include "pgorm/query/text_search.hpp"
#include "pgorm/query/window.hpp"
#include "support/db_test.hpp"
#include "support/schema.hpp"

namespace it {
/// Orders with a jsonb document.
struct Order {
  std::int64_t id;
  pgorm::jsonb data;
  std::optional<pgorm::jsonb> extra;
};
/// A jsonb document mapped to a struct (pgorm/json_struct.hpp).
struct Address {
  std::string city;
  std::optional<std::string> zip;
};
struct Prefs {
  std::string theme;
  std::int32_t font_size;
  std::vector<std::string> tags;
  Address address;
};
struct Profile {
  std::int64_t id;
  std::string owner;
  Prefs prefs;
  std::optional<Prefs> previous;
};
}  // namespace it

template <>
inline constexpr bool pgorm::jsonb_struct<it::Prefs> = true;

template <>
struct pgorm::table_traits<it::Profile> {
  static constexpr auto primary_key = pgorm::identity(&it::Profile::id);
};

template <>
struct pgorm::table_traits<it::Order> {
  static constexpr std::string_view name = "orders";
  static constexpr auto primary_key = pgorm::identity(&it::Order::id);
};

namespace {

using namespace std::chrono_literals;
using it::Order;
using it::Prefs;
using it::Profile;
using pgorm::col;
using qt::Account;
using qt::Session;
using qt::User;

class expressions_test : public pgorm::test::db_test {
 protected:
  void SetUp() override {
    db_test::SetUp();
    conn().exec(std::string(qt::ddl));
    conn().exec(R"(
      insert into "user" (email, name, age, "isEmailVerified", created_at) values
        ('ada@example.com', 'Ada', 36, true, '2024-03-01 10:30:00+00'),
        ('bob@example.com', null, 17, false, '2024-03-01 23:59:59+00'),
        ('cy@test.org', 'Cy', 52, false, '2024-03-02 08:00:00+00'),
        ('di@example.com', 'Di', 36, true, '2024-03-03 12:00:00+00');
      insert into session (user_id, token, expires_at, ip_address) values
        (1, 'tok-a1', now() + interval '1 day', '10.0.0.1'),
        (1, 'tok-a2', now() - interval '1 day', null),
        (3, 'tok-c1', now() + interval '2 days', '10.0.0.3');
      insert into account (user_id, provider, provider_account_id, balance) values
        (1, 'github', 'gh-1', 100), (1, 'google', 'go-1', 50), (3, 'google', 'go-3', null))");
  }
};

// ---- fn<"name", T>(...) -----------------------------------------------------------------------

TEST_F(expressions_test, fn_calls_a_function_and_reads_its_declared_type) {
  const auto rows =
      conn()
          .select(col<&User::id>, pgorm::fn<"length", std::int32_t>(col<&User::email>),
                  pgorm::fn<"date_trunc", pgorm::timestamptz>("day", col<&User::created_at>))
          .order_by(col<&User::id>)
          .all();
  ASSERT_EQ(rows.size(), 4U);
  EXPECT_EQ(std::get<1>(rows[0]), 15);  // ada@example.com
  EXPECT_EQ(std::get<1>(rows[2]), 11);  // cy@test.org
  using namespace std::chrono;
  EXPECT_EQ(std::get<2>(rows[1]), pgorm::timestamptz(sys_days{2024y / 3 / 1}));
  EXPECT_EQ(std::get<2>(rows[2]), pgorm::timestamptz(sys_days{2024y / 3 / 2}));
}

TEST_F(expressions_test, fn_arguments_are_parameters_so_hostile_text_is_data) {
  const std::string hostile = R"(x'); drop table "user"; --)";
  const auto rows = conn()
                        .select(pgorm::fn<"concat", std::string>(col<&User::email>, hostile, 7))
                        .where(col<&User::id> == 1)
                        .all();
  ASSERT_EQ(rows.size(), 1U);
  EXPECT_EQ(std::get<0>(rows[0]), "ada@example.com" + hostile + "7");
  EXPECT_EQ(conn().select<User>().count(), 4);
}

TEST_F(expressions_test, fn_in_where_with_schema_qualified_name_and_nullable_result) {
  const auto ids =
      conn()
          .select(col<&User::id>,
                  pgorm::fn<"nullif", std::optional<std::string>>(col<&User::name>, "Cy"))
          .where(pgorm::fn<"pg_catalog.strpos", std::int32_t>(col<&User::email>, "example") > 0)
          .order_by(col<&User::id>)
          .all();
  ASSERT_EQ(ids.size(), 3U);
  EXPECT_EQ(std::get<0>(ids[0]), 1);
  EXPECT_EQ(std::get<1>(ids[0]), "Ada");
  EXPECT_EQ(std::get<1>(ids[1]), std::nullopt);  // bob's name is NULL
  EXPECT_EQ(std::get<0>(ids[2]), 4);
}

TEST_F(expressions_test, fn_with_a_wrong_declared_type_throws_conversion_error) {
  // length() returns integer, which does not read into a std::string.
  auto q = conn().select(pgorm::fn<"length", std::string>(col<&User::email>));
  EXPECT_THROW((void)q.all(), pgorm::conversion_error);
  const auto fixed =
      conn()
          .select(pgorm::cast<std::string>(pgorm::fn<"length", std::int32_t>(col<&User::email>)))
          .where(col<&User::id> == 3)
          .one();
  EXPECT_EQ(std::get<0>(fixed), "11");
}

TEST_F(expressions_test, aggregate_groups_like_the_built_in_ones) {
  const auto rows =
      conn()
          .select(col<&User::age>, pgorm::aggregate<"string_agg", std::optional<std::string>>(
                                       col<&User::email>, ","))
          .group_by(col<&User::age>)
          .having(pgorm::count() > 1)
          .all();
  ASSERT_EQ(rows.size(), 1U);
  EXPECT_EQ(std::get<0>(rows[0]), 36);
  const std::string agg = std::get<1>(rows[0]).value();
  EXPECT_TRUE(agg == "ada@example.com,di@example.com" || agg == "di@example.com,ada@example.com")
      << agg;
}

// ---- case_when(...) ---------------------------------------------------------------------------

TEST_F(expressions_test, case_picks_the_first_matching_branch) {
  const auto rows = conn()
                        .select(col<&User::id>, pgorm::case_when(col<&User::age> < 18, "minor")
                                                    .when(col<&User::age> < 50, "adult")
                                                    .else_("senior"))
                        .order_by(col<&User::id>)
                        .all();
  ASSERT_EQ(rows.size(), 4U);
  EXPECT_EQ(std::get<1>(rows[0]), "adult");   // 36
  EXPECT_EQ(std::get<1>(rows[1]), "minor");   // 17
  EXPECT_EQ(std::get<1>(rows[2]), "senior");  // 52
  EXPECT_EQ(std::get<1>(rows[3]), "adult");   // 36
}

TEST_F(expressions_test, case_without_else_is_null_when_nothing_matches) {
  const auto rows = conn()
                        .select(pgorm::case_when(col<&User::name>.is_not_null(), col<&User::name>)
                                    .when(col<&User::age> > 100, std::nullopt))
                        .order_by(col<&User::id>)
                        .all();
  ASSERT_EQ(rows.size(), 4U);
  EXPECT_EQ(std::get<0>(rows[0]), "Ada");
  EXPECT_EQ(std::get<0>(rows[1]), std::nullopt);
}

TEST_F(expressions_test, case_inside_an_aggregate_and_order_by) {
  const auto counts =
      conn()
          .select(pgorm::sum(pgorm::case_when(col<&User::age> >= 18, 1).else_(0)), pgorm::count())
          .one();
  EXPECT_EQ(std::get<0>(counts), 3);
  EXPECT_EQ(std::get<1>(counts), 4);
  // Users without a name first, then by id descending.
  const auto ids =
      conn()
          .select(col<&User::id>)
          .order_by(pgorm::case_when(col<&User::name>.is_null(), 0).else_(1), col<&User::id>.desc())
          .all();
  ASSERT_EQ(ids.size(), 4U);
  EXPECT_EQ(std::get<0>(ids[0]), 2);
  EXPECT_EQ(std::get<0>(ids[1]), 4);
  EXPECT_EQ(std::get<0>(ids[3]), 1);
}

// ---- window functions -------------------------------------------------------------------------

TEST_F(expressions_test, row_number_rank_and_dense_rank_per_partition) {
  const auto w = pgorm::window().order_by(col<&User::age>.desc());
  const auto rows =
      conn()
          .select(col<&User::id>, pgorm::rank().over(w), pgorm::dense_rank().over(w),
                  pgorm::row_number().over(
                      pgorm::window().partition_by(col<&User::age>).order_by(col<&User::id>)))
          .order_by(col<&User::id>)
          .all();
  ASSERT_EQ(rows.size(), 4U);
  // ages: 1 -> 36, 2 -> 17, 3 -> 52, 4 -> 36
  EXPECT_EQ(rows[0],
            std::make_tuple(std::int64_t{1}, std::int64_t{2}, std::int64_t{2}, std::int64_t{1}));
  EXPECT_EQ(rows[1],
            std::make_tuple(std::int64_t{2}, std::int64_t{4}, std::int64_t{3}, std::int64_t{1}));
  EXPECT_EQ(rows[2],
            std::make_tuple(std::int64_t{3}, std::int64_t{1}, std::int64_t{1}, std::int64_t{1}));
  EXPECT_EQ(rows[3],
            std::make_tuple(std::int64_t{4}, std::int64_t{2}, std::int64_t{2}, std::int64_t{2}));
}

TEST_F(expressions_test, lag_lead_with_and_without_fallback) {
  const auto w = pgorm::window().partition_by(col<&Account::user_id>).order_by(col<&Account::id>);
  const auto rows = conn()
                        .select(col<&Account::id>, pgorm::lag(col<&Account::provider>).over(w),
                                pgorm::lead(col<&Account::provider>, 1, "none").over(w),
                                pgorm::lag(col<&Account::balance>, 1, -1).over(w),
                                pgorm::ntile(2).over(pgorm::window().order_by(col<&Account::id>)))
                        .order_by(col<&Account::id>)
                        .all();
  ASSERT_EQ(rows.size(), 3U);
  // user 1: accounts 1 (github, 100) and 2 (google, 50); user 3: account 3 (google, NULL)
  EXPECT_EQ(std::get<1>(rows[0]), std::nullopt);
  EXPECT_EQ(std::get<2>(rows[0]), "google");
  EXPECT_EQ(std::get<3>(rows[0]), -1);
  EXPECT_EQ(std::get<1>(rows[1]), "github");
  EXPECT_EQ(std::get<2>(rows[1]), "none");
  EXPECT_EQ(std::get<3>(rows[1]), 100);
  EXPECT_EQ(std::get<1>(rows[2]), std::nullopt);  // first of its partition
  EXPECT_EQ(std::get<3>(rows[2]), -1);
  EXPECT_EQ(std::get<4>(rows[0]), 1);
  EXPECT_EQ(std::get<4>(rows[2]), 2);
}

TEST_F(expressions_test, running_total_and_rank_of_groups) {
  const auto totals =
      conn()
          .select(col<&Account::id>,
                  pgorm::over(pgorm::sum(col<&Account::balance>),
                              pgorm::window().order_by(col<&Account::id>)),
                  pgorm::over(pgorm::count(), pgorm::window().partition_by(col<&Account::user_id>)))
          .order_by(col<&Account::id>)
          .all();
  ASSERT_EQ(totals.size(), 3U);
  EXPECT_EQ(std::get<1>(totals[0]), pgorm::numeric("100"));
  EXPECT_EQ(std::get<1>(totals[1]), pgorm::numeric("150"));
  EXPECT_EQ(std::get<1>(totals[2]), pgorm::numeric("150"));  // NULL balance adds nothing
  EXPECT_EQ(std::get<2>(totals[0]), 2);
  EXPECT_EQ(std::get<2>(totals[2]), 1);

  const auto groups =
      conn()
          .select(col<&User::age>, pgorm::count(),
                  pgorm::dense_rank().over(pgorm::window().order_by(pgorm::count().desc())))
          .group_by(col<&User::age>)
          .order_by(col<&User::age>)
          .all();
  ASSERT_EQ(groups.size(), 3U);
  EXPECT_EQ(groups[0], std::make_tuple(17, std::int64_t{1}, std::int64_t{2}));
  EXPECT_EQ(groups[1], std::make_tuple(36, std::int64_t{2}, std::int64_t{1}));
}

TEST_F(expressions_test, running_sum_and_moving_average_over_frames) {
  // ages by id: 1 -> 36, 2 -> 17, 3 -> 52, 4 -> 36
  const auto by_id = pgorm::window().order_by(col<&User::id>);
  const auto rows =
      conn()
          .select(col<&User::id>,
                  pgorm::over(pgorm::sum(col<&User::age>),
                              by_id.rows_between(pgorm::unbounded_preceding, pgorm::current_row)),
                  pgorm::over(pgorm::avg(col<&User::age>),
                              by_id.rows_between(pgorm::preceding<1>, pgorm::current_row)),
                  pgorm::over(pgorm::sum(col<&User::age>),
                              by_id.rows_between(pgorm::preceding<1>, pgorm::following<1>)),
                  pgorm::over(pgorm::count(),
                              pgorm::window()
                                  .order_by(col<&User::age>)
                                  .range_between(pgorm::preceding<10>, pgorm::following<10>)))
          .order_by(col<&User::id>)
          .all();
  ASSERT_EQ(rows.size(), 4U);
  const std::vector<std::int64_t> running{36, 53, 105, 141};
  const std::vector<double> moving_avg{36, 26.5, 34.5, 44};
  const std::vector<std::int64_t> centred{53, 105, 105, 88};
  // Users within 10 years of each one's age: 36 has the other 36, 17 and 52 have nobody.
  const std::vector<std::int64_t> near_age{2, 1, 1, 2};
  for (std::size_t i = 0; i < rows.size(); ++i) {
    SCOPED_TRACE(i);
    EXPECT_EQ(std::get<1>(rows[i]), running[i]);
    ASSERT_TRUE(std::get<2>(rows[i]).has_value());
    EXPECT_DOUBLE_EQ(std::get<2>(rows[i])->to_double(), moving_avg[i]);
    EXPECT_EQ(std::get<3>(rows[i]), centred[i]);
    EXPECT_EQ(std::get<4>(rows[i]), near_age[i]);
  }

  // The two rows before this one: an empty frame at the first row, whose sum is NULL.
  const auto before =
      conn()
          .select(pgorm::over(pgorm::sum(col<&User::age>),
                              by_id.rows_between(pgorm::preceding<2>, pgorm::preceding<1>)))
          .order_by(col<&User::id>)
          .all();
  ASSERT_EQ(before.size(), 4U);
  EXPECT_EQ(std::get<0>(before[0]), std::nullopt);
  EXPECT_EQ(std::get<0>(before[1]), 36);
  EXPECT_EQ(std::get<0>(before[2]), 53);
  EXPECT_EQ(std::get<0>(before[3]), 69);
}

TEST_F(expressions_test, groups_frames_and_exclude_clauses_count_peers) {
  // by age: 17 (id 2), 36 (ids 1 and 4, peers), 52 (id 3)
  const auto by_age = pgorm::window().order_by(col<&User::age>);
  const auto rows =
      conn()
          .select(col<&User::id>,
                  pgorm::over(pgorm::count(),
                              by_age.groups_between(pgorm::preceding<1>, pgorm::current_row)),
                  pgorm::over(
                      pgorm::count(),
                      by_age.rows_between(pgorm::unbounded_preceding, pgorm::unbounded_following)
                          .exclude_current_row()),
                  pgorm::over(pgorm::count(),
                              by_age.range_between(pgorm::unbounded_preceding, pgorm::current_row)
                                  .exclude_group()),
                  pgorm::over(
                      pgorm::count(),
                      by_age.rows_between(pgorm::unbounded_preceding, pgorm::unbounded_following)
                          .exclude_ties()),
                  pgorm::over(pgorm::count(),
                              by_age.groups_between(pgorm::current_row, pgorm::following<1>)
                                  .exclude_no_others()))
          .order_by(col<&User::id>)
          .all();
  ASSERT_EQ(rows.size(), 4U);
  const std::vector<std::int64_t> this_and_previous_group{3, 1, 3, 3};
  const std::vector<std::int64_t> all_but_me{3, 3, 3, 3};
  const std::vector<std::int64_t> younger_only{1, 0, 3, 1};
  const std::vector<std::int64_t> all_but_my_peers{3, 4, 4, 3};
  const std::vector<std::int64_t> this_and_next_group{3, 3, 1, 3};
  for (std::size_t i = 0; i < rows.size(); ++i) {
    SCOPED_TRACE(i);
    EXPECT_EQ(std::get<1>(rows[i]), this_and_previous_group[i]);
    EXPECT_EQ(std::get<2>(rows[i]), all_but_me[i]);
    EXPECT_EQ(std::get<3>(rows[i]), younger_only[i]);
    EXPECT_EQ(std::get<4>(rows[i]), all_but_my_peers[i]);
    EXPECT_EQ(std::get<5>(rows[i]), this_and_next_group[i]);
  }
}

TEST_F(expressions_test, run_time_frame_offsets_are_parameters_of_one_statement) {
  const auto by_age = pgorm::window().order_by(col<&User::age>);
  const auto groups = [&](std::int64_t n) {
    std::vector<std::int64_t> out;
    for (const auto& [id, count] :
         conn()
             .select(col<&User::id>,
                     pgorm::over(pgorm::count(),
                                 by_age.groups_between(pgorm::preceding_by(n), pgorm::current_row)))
             .order_by(col<&User::id>)
             .all()) {
      out.push_back(count);
    }
    return out;
  };
  EXPECT_EQ(groups(0), (std::vector<std::int64_t>{2, 1, 1, 2}));
  EXPECT_EQ(groups(1), (std::vector<std::int64_t>{3, 1, 3, 3}));
  EXPECT_EQ(groups(5), (std::vector<std::int64_t>{3, 1, 4, 3}));

  // RANGE by a number (ages within 10 years) and by an interval (accounts made within a day
  // before): created_at 03-01 10:30, 03-01 23:59:59, 03-02 08:00, 03-03 12:00.
  const auto rows =
      conn()
          .select(col<&User::id>,
                  pgorm::over(pgorm::count(), by_age.range_between(pgorm::preceding_by(10),
                                                                   pgorm::following_by(10))),
                  pgorm::over(pgorm::count(),
                              pgorm::window()
                                  .order_by(col<&User::created_at>)
                                  .range_between(pgorm::preceding_by(24h), pgorm::current_row)),
                  pgorm::over(pgorm::count(),
                              pgorm::window()
                                  .order_by(col<&User::created_at>)
                                  .range_between(pgorm::current_row,
                                                 pgorm::following_by(pgorm::interval{
                                                     .months = 0, .days = 2, .time = {}}))))
          .order_by(col<&User::id>)
          .all();
  ASSERT_EQ(rows.size(), 4U);
  const std::vector<std::int64_t> near_age{2, 1, 1, 2};
  const std::vector<std::int64_t> day_before{1, 2, 3, 1};
  const std::vector<std::int64_t> two_days_after{3, 3, 2, 1};
  for (std::size_t i = 0; i < rows.size(); ++i) {
    SCOPED_TRACE(i);
    EXPECT_EQ(std::get<1>(rows[i]), near_age[i]);
    EXPECT_EQ(std::get<2>(rows[i]), day_before[i]);
    EXPECT_EQ(std::get<3>(rows[i]), two_days_after[i]);
  }

  // A negative offset is the server's error, not SQL text.
  try {
    groups(-1);
    ADD_FAILURE() << "a negative frame offset was accepted";
  } catch (const pgorm::sql_error& e) {
    EXPECT_EQ(e.sqlstate(), "22013");
  }
}

TEST_F(expressions_test, first_and_last_value_over_empty_frames_read_nullopt) {
  const auto by_id = pgorm::window().order_by(col<&User::id>);
  const auto rows =
      conn()
          .select(col<&User::id>,
                  // never empty: the current row is in the frame
                  pgorm::first_value(col<&User::email>)
                      .over(by_id.rows_between(pgorm::preceding<1>, pgorm::current_row)),
                  // the previous row: empty at the first
                  pgorm::first_value(col<&User::email>)
                      .over(by_id.rows_between(pgorm::preceding<1>, pgorm::preceding<1>)),
                  // the rows after this one: empty at the last
                  pgorm::last_value(col<&User::age>)
                      .over(by_id.rows_between(pgorm::following_by(1), pgorm::unbounded_following)),
                  // only the current row, excluded: always empty
                  pgorm::last_value(col<&User::email>)
                      .over(by_id.rows_between(pgorm::current_row, pgorm::current_row)
                                .exclude_current_row()))
          .order_by(col<&User::id>)
          .all();
  static_assert(
      std::is_same_v<std::remove_cvref_t<decltype(rows[0])>,
                     std::tuple<std::int64_t, std::string, std::optional<std::string>,
                                std::optional<std::int32_t>, std::optional<std::string>>>);
  ASSERT_EQ(rows.size(), 4U);
  EXPECT_EQ(std::get<1>(rows[0]), "ada@example.com");
  EXPECT_EQ(std::get<1>(rows[2]), "bob@example.com");
  EXPECT_EQ(std::get<2>(rows[0]), std::nullopt);
  EXPECT_EQ(std::get<2>(rows[1]), "ada@example.com");
  EXPECT_EQ(std::get<2>(rows[3]), "cy@test.org");
  EXPECT_EQ(std::get<3>(rows[0]), 36);  // di's age, the last row
  EXPECT_EQ(std::get<3>(rows[3]), std::nullopt);
  for (const auto& row : rows) EXPECT_EQ(std::get<4>(row), std::nullopt);
}

// ---- interval arithmetic ----------------------------------------------------------------------

TEST_F(expressions_test, timestamps_compared_with_now_plus_and_minus_intervals) {
  // tok-a1 expires in 1 day, tok-a2 expired a day ago, tok-c1 expires in 2 days.
  const auto soon = conn()
                        .select(col<&Session::token>)
                        .where(col<&Session::expires_at> > pgorm::now() &&
                               col<&Session::expires_at> < pgorm::now() + 36h)
                        .all();
  ASSERT_EQ(soon.size(), 1U);
  EXPECT_EQ(std::get<0>(soon[0]), "tok-a1");
  const auto recent =
      conn()
          .select(col<&Session::token>)
          .where(col<&Session::expires_at> - pgorm::interval{.months = 0, .days = 2, .time = {}} >
                 pgorm::now() - 60h)
          .order_by(col<&Session::id>)
          .all();
  ASSERT_EQ(recent.size(), 2U);  // a1 (1 - 2 days > -60 h) and c1; not a2 (-1 - 2 days)
  EXPECT_EQ(std::get<0>(recent[1]), "tok-c1");
}

TEST_F(expressions_test, timestamp_minus_timestamp_is_an_interval) {
  const auto rows = conn()
                        .select(col<&Session::expires_at> - pgorm::now())
                        .where(col<&Session::token> == "tok-c1")
                        .all();
  ASSERT_EQ(rows.size(), 1U);
  const pgorm::interval left = std::get<0>(rows[0]);
  EXPECT_EQ(left.months, 0);
  // Two days, less the time since setup (generous: the machine may be busy).
  const auto total = std::chrono::days(left.days) + left.time;
  EXPECT_GT(total, 47h);
  EXPECT_LE(total, 48h);
}

TEST_F(expressions_test, calendar_intervals_and_dates) {
  conn().exec("set time zone 'UTC'");
  using namespace std::chrono;
  const auto row =
      conn()
          .select(col<&User::created_at> + pgorm::interval{.months = 1, .days = 0, .time = 90min},
                  pgorm::cast<pgorm::date>(col<&User::created_at>) +
                      pgorm::interval{.months = 0, .days = 2, .time = {}},
                  pgorm::cast<pgorm::date>(col<&User::created_at>) -
                      pgorm::cast<pgorm::date>(pgorm::fn<"make_date", pgorm::date>(2024, 1, 1)),
                  (col<&User::created_at> - col<&User::created_at> + 1h) * 2.5)
          .where(col<&User::id> == 1)
          .one();
  // 2024-03-01 10:30 UTC + 1 month 90 minutes
  EXPECT_EQ(std::get<0>(row), pgorm::timestamptz(sys_days{2024y / 4 / 1} + 12h));
  EXPECT_EQ(std::get<1>(row), pgorm::timestamp(local_days{2024y / 3 / 3}));
  EXPECT_EQ(std::get<2>(row), 60);  // 31 days of January + 29 of February
  EXPECT_EQ(std::get<3>(row), (pgorm::interval{.months = 0, .days = 0, .time = 150min}));
}

TEST_F(expressions_test, null_timestamps_stay_null_through_arithmetic) {
  const auto rows =
      conn()
          .select(pgorm::cast<pgorm::timestamptz>(pgorm::fn<"nullif", std::optional<std::string>>(
                      col<&Session::token>, col<&Session::token>)) +
                  1h)
          .all();
  ASSERT_EQ(rows.size(), 3U);
  EXPECT_EQ(std::get<0>(rows[0]), std::nullopt);
}

// ---- full-text search -------------------------------------------------------------------------

TEST_F(expressions_test, websearch_matches_stemmed_words_and_ranks_them) {
  conn().exec(R"(
    update "user" set name = 'Ada writes the running notes' where id = 1;
    update "user" set name = 'Cy runs and wrote a note about running' where id = 3;
    update "user" set name = 'Di reads' where id = 4)");
  const auto doc = pgorm::to_tsvector<"english">(col<&User::name>);
  const auto search = [&](const std::string& input) {
    const auto query = pgorm::websearch_to_tsquery<"english">(input);
    std::vector<std::int64_t> ids;
    for (const auto& [id, rank] : conn()
                                      .select(col<&User::id>, pgorm::ts_rank(doc, query))
                                      .where(pgorm::matches(doc, query))
                                      .order_by(pgorm::ts_rank(doc, query).desc(), col<&User::id>)
                                      .all()) {
      EXPECT_GT(rank, 0.0F);
      ids.push_back(id);
    }
    return ids;
  };
  // "runs" stems like "running"; Cy's name says it twice, so it ranks first.
  EXPECT_EQ(search("runs"), (std::vector<std::int64_t>{3, 1}));
  EXPECT_EQ(search("note -ada"), (std::vector<std::int64_t>{3}));
  EXPECT_EQ(search("\"reads\""), (std::vector<std::int64_t>{4}));
  // Web-search syntax never fails, whatever the user types; bob's NULL name never matches.
  EXPECT_TRUE(search(R"(' & | ! :* ( "unclosed)").empty());
}

TEST_F(expressions_test, plain_phrase_and_tsquery_syntax) {
  conn().exec(R"(update "user" set name = 'quick brown fox' where id = 1;
                 update "user" set name = 'brown quick fox' where id = 3)");
  const auto doc = pgorm::to_tsvector<"simple">(col<&User::name>);
  const auto ids = [&](auto query) {
    std::vector<std::int64_t> out;
    for (const auto& [id] : conn()
                                .select(col<&User::id>)
                                .where(pgorm::matches(doc, query))
                                .order_by(col<&User::id>)
                                .all()) {
      out.push_back(id);
    }
    return out;
  };
  EXPECT_EQ(ids(pgorm::plainto_tsquery<"simple">("fox, quick!")),
            (std::vector<std::int64_t>{1, 3}));
  EXPECT_EQ(ids(pgorm::phraseto_tsquery<"simple">("quick brown")), (std::vector<std::int64_t>{1}));
  EXPECT_EQ(ids(pgorm::to_tsquery<"simple">("bro:* & !quick")), (std::vector<std::int64_t>{}));
  EXPECT_EQ(ids(pgorm::to_tsquery<"simple">("qui:* & fox")), (std::vector<std::int64_t>{1, 3}));
  EXPECT_THROW((void)ids(pgorm::to_tsquery<"simple">("& broken (")), pgorm::sql_error);
}

TEST_F(expressions_test, tsvector_and_tsquery_read_as_text) {
  conn().exec(R"(update "user" set name = 'The quick foxes jumped' where id = 1)");
  const auto [doc, query] =
      conn()
          .select(pgorm::ts_text(pgorm::to_tsvector<"english">(col<&User::name>)),
                  pgorm::ts_text(pgorm::websearch_to_tsquery<"english">("\"quick fox\" -slow")))
          .where(col<&User::id> == 1)
          .one();
  EXPECT_EQ(doc, "'fox':3 'jump':4 'quick':2");
  EXPECT_EQ(query, "'quick' <-> 'fox' & !'slow'");
  // Without the cast the server sends binary tsvector, which is not text: reading it as a
  // std::string is a conversion error, not garbage.
  EXPECT_THROW((void)conn()
                   .select(pgorm::fn<"to_tsvector", std::string>(col<&User::email>))
                   .where(col<&User::id> == 1)
                   .one(),
               pgorm::conversion_error);
}

// ---- JSON operators ---------------------------------------------------------------------------

class json_test : public pgorm::test::db_test {
 protected:
  void SetUp() override {
    db_test::SetUp();
    conn().exec(R"(
      create table orders (id bigint generated always as identity primary key,
                           data jsonb not null, extra jsonb);
      insert into orders (data, extra) values
        ('{"status": "paid", "address": {"city": "Lyon"}, "items": [{"sku": "a"}, {"sku": "b"}],
           "coupon": "X1"}', null),
        ('{"status": "open", "address": {"city": "Oslo"}, "items": []}', '{"gift": true}'),
        ('{"status": "paid", "items": [{"sku": "b"}], "note": null}', '{}'))");
  }
};

TEST_F(json_test, arrow_operators_read_members_and_elements) {
  const auto rows =
      conn()
          .select(col<&Order::id>, pgorm::json_get_text(col<&Order::data>, "status"),
                  pgorm::json_get_text(pgorm::json_get(col<&Order::data>, "address"), "city"),
                  pgorm::json_get(pgorm::json_get(col<&Order::data>, "items"), -1),
                  pgorm::json_get_text(col<&Order::data>, "note"))
          .order_by(col<&Order::id>)
          .all();
  ASSERT_EQ(rows.size(), 3U);
  EXPECT_EQ(std::get<1>(rows[0]), "paid");
  EXPECT_EQ(std::get<2>(rows[0]), "Lyon");
  EXPECT_EQ(std::get<3>(rows[0]), pgorm::jsonb{R"({"sku": "b"})"});  // the last element
  EXPECT_EQ(std::get<2>(rows[2]), std::nullopt);                     // no address
  EXPECT_EQ(std::get<3>(rows[1]), std::nullopt);                     // empty array
  EXPECT_EQ(std::get<4>(rows[2]), std::nullopt);                     // JSON null
}

TEST_F(json_test, containment_and_key_existence_filter_rows) {
  const auto ids = [&](auto cond) {
    std::vector<std::int64_t> out;
    for (const auto& [id] :
         conn().select(col<&Order::id>).where(cond).order_by(col<&Order::id>).all()) {
      out.push_back(id);
    }
    return out;
  };
  EXPECT_EQ(ids(pgorm::json_contains(col<&Order::data>, pgorm::jsonb{R"({"status": "paid"})"})),
            (std::vector<std::int64_t>{1, 3}));
  EXPECT_EQ(
      ids(pgorm::json_contains(col<&Order::data>, pgorm::jsonb{R"({"items": [{"sku": "b"}]})"})),
      (std::vector<std::int64_t>{1, 3}));
  EXPECT_EQ(ids(pgorm::json_has_key(col<&Order::data>, "coupon")), (std::vector<std::int64_t>{1}));
  // A NULL extra is neither true nor false: the row is left out.
  EXPECT_EQ(ids(pgorm::json_has_key(col<&Order::extra>, "gift")), (std::vector<std::int64_t>{2}));
  EXPECT_EQ(ids(pgorm::json_get_text(col<&Order::data>, "status") == "open"),
            (std::vector<std::int64_t>{2}));
  // Keys are parameters: a key that looks like SQL is just a missing key.
  EXPECT_EQ(ids(pgorm::json_has_key(col<&Order::data>, "status' or '1'='1")),
            (std::vector<std::int64_t>{}));
}

TEST_F(json_test, paths_jsonpath_predicates_and_key_removal) {
  const auto rows =
      conn()
          .select(col<&Order::id>,
                  pgorm::json_get_path_text(col<&Order::data>, {"address", "city"}),
                  pgorm::json_get_path(col<&Order::data>, {"items", "0"}),
                  pgorm::json_get_path_text(col<&Order::data>, {"items", "-1", "sku"}),
                  pgorm::json_remove(pgorm::json_remove(col<&Order::data>, "items"), "coupon"))
          .order_by(col<&Order::id>)
          .all();
  ASSERT_EQ(rows.size(), 3U);
  EXPECT_EQ(std::get<1>(rows[0]), "Lyon");
  EXPECT_EQ(std::get<1>(rows[2]), std::nullopt);  // no address
  EXPECT_EQ(std::get<2>(rows[0]), pgorm::jsonb{R"({"sku": "a"})"});
  EXPECT_EQ(std::get<2>(rows[1]), std::nullopt);  // empty array
  EXPECT_EQ(std::get<3>(rows[0]), "b");
  EXPECT_EQ(std::get<4>(rows[0]),
            pgorm::jsonb{R"({"status": "paid", "address": {"city": "Lyon"}})"});
  EXPECT_EQ(std::get<4>(rows[2]), pgorm::jsonb{R"({"note": null, "status": "paid"})"});

  const auto ids = [&](auto cond) {
    std::vector<std::int64_t> out;
    for (const auto& [id] :
         conn().select(col<&Order::id>).where(cond).order_by(col<&Order::id>).all()) {
      out.push_back(id);
    }
    return out;
  };
  EXPECT_EQ(ids(pgorm::json_path_exists(col<&Order::data>, R"($.items[*] ? (@.sku == "b"))")),
            (std::vector<std::int64_t>{1, 3}));
  EXPECT_EQ(ids(pgorm::json_path_exists(col<&Order::data>, "$.address.city")),
            (std::vector<std::int64_t>{1, 2}));
  EXPECT_EQ(ids(pgorm::json_path_match(col<&Order::data>, R"($.status == "open")") == true),
            (std::vector<std::int64_t>{2}));
  // Removing an array element by index: order 1 keeps only its second item.
  const auto second =
      conn()
          .select(pgorm::json_remove(pgorm::json_get(col<&Order::data>, "items"), 0))
          .where(col<&Order::id> == 1)
          .one();
  EXPECT_EQ(std::get<0>(second), pgorm::jsonb{R"([{"sku": "b"}])"});
  // The path is a parameter parsed by the server: a malformed one is a server error.
  EXPECT_THROW(ids(pgorm::json_path_exists(col<&Order::data>, "$.items[")), pgorm::sql_error);
}

TEST_F(json_test, remove_keys_and_remove_path_take_text_arrays) {
  const auto rows =
      conn()
          .select(col<&Order::id>,
                  pgorm::json_remove_keys(col<&Order::data>, {"items", "coupon", "absent"}),
                  pgorm::json_remove_path(col<&Order::data>, {"address", "city"}),
                  pgorm::json_remove_path(col<&Order::data>, {"items", "-1"}),
                  pgorm::json_remove_keys(col<&Order::extra>, {"gift"}))
          .order_by(col<&Order::id>)
          .all();
  ASSERT_EQ(rows.size(), 3U);
  EXPECT_EQ(std::get<1>(rows[0]),
            pgorm::jsonb{R"({"status": "paid", "address": {"city": "Lyon"}})"});
  EXPECT_EQ(std::get<1>(rows[2]), pgorm::jsonb{R"({"note": null, "status": "paid"})"});
  EXPECT_EQ(std::get<2>(rows[1]),
            pgorm::jsonb{R"({"items": [], "status": "open", "address": {}})"});
  // A path that leads nowhere leaves the value as it is.
  EXPECT_EQ(std::get<2>(rows[2]),
            pgorm::jsonb{R"({"note": null, "items": [{"sku": "b"}], "status": "paid"})"});
  EXPECT_EQ(std::get<3>(rows[0]),
            pgorm::jsonb{R"({"items": [{"sku": "a"}], "coupon": "X1", "status": "paid", )"
                         R"("address": {"city": "Lyon"}})"});
  EXPECT_EQ(std::get<3>(rows[2]), pgorm::jsonb{R"({"note": null, "items": [], "status": "paid"})"});
  EXPECT_EQ(std::get<4>(rows[0]), std::nullopt);  // NULL stays NULL
  EXPECT_EQ(std::get<4>(rows[1]), pgorm::jsonb{"{}"});

  // In an update, with hostile-looking keys that are only data.
  conn()
      .update<Order>()
      .set(col<& Order::data> = pgorm::json_remove_path(
               pgorm::json_remove_keys(col<&Order::data>, {"coupon", "x' or '1'='1"}),
               {"address", "city"}))
      .where(col<&Order::id> == 1)
      .exec();
  const auto [data] = conn().select(col<&Order::data>).where(col<&Order::id> == 1).one();
  EXPECT_EQ(data, pgorm::jsonb{R"({"items": [{"sku": "a"}, {"sku": "b"}], "status": "paid", )"
                               R"("address": {}})"});
}

// ---- jsonb columns as structs -----------------------------------------------------------------

TEST_F(json_test, a_struct_column_round_trips_and_takes_json_operators) {
  conn().exec(R"(create table profile (id bigint generated always as identity primary key,
                                       owner text not null, prefs jsonb not null,
                                       previous jsonb))");
  const Prefs dark{"dark", 14, {"beta", "pro"}, {"Lyon", "69001"}};
  const Prefs light{"light", 12, {}, {"Oslo", std::nullopt}};
  conn().insert(Profile{0, "ada", dark, light}).exec();
  conn().insert(Profile{0, "bob", light, std::nullopt}).exec();

  const std::vector<Profile> rows = conn().select<Profile>().order_by(col<&Profile::id>).all();
  ASSERT_EQ(rows.size(), 2U);
  EXPECT_EQ(rows[0].prefs.theme, "dark");
  EXPECT_EQ(rows[0].prefs.tags, (std::vector<std::string>{"beta", "pro"}));
  EXPECT_EQ(rows[0].prefs.address.zip, "69001");
  ASSERT_TRUE(rows[0].previous.has_value());
  EXPECT_EQ(rows[0].previous->address.city, "Oslo");
  EXPECT_EQ(rows[1].previous, std::nullopt);

  // The server sees a real jsonb document: its operators work on the struct's column.
  const auto cities =
      conn()
          .select(col<&Profile::owner>,
                  pgorm::json_get_text(pgorm::json_get(col<&Profile::prefs>, "address"), "city"))
          .where(pgorm::json_contains(col<&Profile::prefs>, pgorm::jsonb{R"({"tags": ["pro"]})"}) &&
                 pgorm::json_get_text(col<&Profile::prefs>, "font_size") == "14")
          .all();
  ASSERT_EQ(cities.size(), 1U);
  EXPECT_EQ(cities[0], std::make_tuple(std::string("ada"), std::optional<std::string>("Lyon")));
  // A struct value is a jsonb parameter too.
  EXPECT_EQ(
      conn().select<Profile>().where(pgorm::json_contains(col<&Profile::prefs>, light)).count(), 1);
  EXPECT_EQ(conn()
                .update<Profile>()
                .set(col<& Profile::previous> = std::optional<Prefs>(dark))
                .where(col<&Profile::owner> == "bob")
                .exec(),
            1U);
  EXPECT_EQ(conn().select<Profile>().where(col<&Profile::owner> == "bob").one().previous->theme,
            "dark");
}

TEST_F(json_test, a_document_that_does_not_fit_the_struct_is_a_conversion_error) {
  conn().exec(R"(create table profile (id bigint generated always as identity primary key,
                                       owner text not null, prefs jsonb not null,
                                       previous jsonb);
                 insert into profile (owner, prefs) values
                   ('cy', '{"theme": "x", "font_size": "big", "tags": [],
                            "address": {"city": "Rome"}}'))");
  try {
    (void)conn().select<Profile>().all();
    FAIL() << "expected a conversion_error";
  } catch (const pgorm::conversion_error& e) {
    EXPECT_THAT(e.what(), testing::HasSubstr("font_size"));
    EXPECT_THAT(e.what(), testing::HasSubstr("prefs"));  // the column
  }
}

}  // namespace
