// SPDX-License-Identifier: MIT
// Golden SQL for SELECT: every clause, rendered at compile time (static_assert) where the shape
// is static, and through to_sql() with its parameters otherwise.
#include <string>
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
using qt::UserSummary;

template <class Q>
constexpr std::string_view sql_of(const Q& /*q*/) {
  return Q::sql();
}

// ---- compile-time rendering -------------------------------------------------------------------

static_assert(decltype(pgorm::select<User>())::sql() ==
              R"(SELECT id, email, name, age, "isEmailVerified", created_at FROM "user")");
static_assert(
    decltype(pgorm::select<User>().where(col<&User::id> == 1))::sql() ==
    R"(SELECT id, email, name, age, "isEmailVerified", created_at FROM "user" WHERE id = $1)");
static_assert(decltype(pgorm::select(col<&User::email>)
                           .where(col<&User::age> >= 18 &&
                                  col<&User::name>.is_not_null()))::sql() ==
              R"(SELECT email FROM "user" WHERE age >= $1 AND name IS NOT NULL)");

TEST(select_render, whole_rows_use_the_table_descriptor) {
  const auto s = pgorm::select<Session>().to_sql();
  EXPECT_EQ(s.sql, "SELECT id, user_id, token, expires_at, ip_address FROM session");
  EXPECT_EQ(s.params.size(), 0U);
}

TEST(select_render, comparisons_and_parameters) {
  constexpr auto q = [] {
    return pgorm::select(col<&User::id>)
        .where(col<&User::age> == 1 && col<&User::age> != 2 && col<&User::age> < 3 &&
               col<&User::age> <= 4 && col<&User::age> > 5 && col<&User::age> >= 6);
  };
  EXPECT_EQ(sql_of(q()), R"(SELECT id FROM "user" WHERE age = $1 AND age <> $2 AND age < $3 AND )"
                         R"(age <= $4 AND age > $5 AND age >= $6)");
  EXPECT_EQ(q().to_sql().params.size(), 6U);
}

TEST(select_render, or_and_not_get_parentheses_where_needed) {
  auto q = pgorm::select(col<&User::id>)
               .where((col<&User::age> == 1 || col<&User::age> == 2) && !(col<&User::name> == "x"));
  EXPECT_EQ(sql_of(q), R"(SELECT id FROM "user" WHERE (age = $1 OR age = $2) AND NOT name = $3)");
  auto r = pgorm::select(col<&User::id>)
               .where(col<&User::age> == 1 || (col<&User::age> == 2 && col<&User::age> == 3));
  EXPECT_EQ(sql_of(r), R"(SELECT id FROM "user" WHERE age = $1 OR age = $2 AND age = $3)");
}

TEST(select_render, like_ilike_and_escaping) {
  auto q = pgorm::select(col<&User::id>)
               .where(col<&User::email>.like("%@example.com") &&
                      col<&User::name>.ilike(pgorm::contains("50%_off")));
  EXPECT_EQ(sql_of(q), R"(SELECT id FROM "user" WHERE email LIKE $1 AND name ILIKE $2)");
  EXPECT_EQ(pgorm::escape_like(R"(50%_off\)"), R"(50\%\_off\\)");
  EXPECT_EQ(pgorm::contains("a_b"), R"(%a\_b%)");
  EXPECT_EQ(pgorm::starts_with("x%"), R"(x\%%)");
  EXPECT_EQ(pgorm::ends_with("y"), "%y");
}

TEST(select_render, null_checks_between_and_in) {
  auto q = pgorm::select(col<&User::id>)
               .where(col<&User::name>.is_null() && col<&User::age>.between(18, 65) &&
                      col<&User::id>.in(std::vector<std::int64_t>{1, 2, 3}));
  EXPECT_EQ(
      sql_of(q),
      R"(SELECT id FROM "user" WHERE name IS NULL AND age BETWEEN $1 AND $2 AND id = ANY($3))");
  // The list is one array parameter: the SQL is the same for every length.
  EXPECT_EQ(q.to_sql().params.size(), 3U);
}

TEST(select_render, arithmetic_and_functions) {
  auto q = pgorm::select(col<&User::age> + 1, pgorm::lower(col<&User::email>),
                         pgorm::upper(col<&User::email>), pgorm::coalesce(col<&User::name>, "?"),
                         pgorm::now())
               .from<User>()
               .where((col<&User::age> * 2 - 1) / 3 > 10);
  EXPECT_EQ(sql_of(q),
            R"(SELECT age + $1, lower(email), upper(email), coalesce(name, $2), now() FROM "user" )"
            R"(WHERE (age * $3 - $4) / $5 > $6)");
  using row = decltype(q)::row_type;
  static_assert(std::is_same_v<row, std::tuple<std::int32_t, std::string, std::string, std::string,
                                               pgorm::timestamptz>>);
}

TEST(select_render, aggregates_group_by_having_distinct) {
  auto q = pgorm::select(col<&User::age>, pgorm::count(), pgorm::count(col<&User::name>),
                         pgorm::sum(col<&User::age>), pgorm::avg(col<&User::age>),
                         pgorm::min(col<&User::created_at>), pgorm::max(col<&User::id>))
               .from<User>()
               .group_by(col<&User::age>)
               .having(pgorm::count() > 1);
  EXPECT_EQ(sql_of(q), R"(SELECT age, count(*), count(name), sum(age), avg(age), min(created_at), )"
                       R"(max(id) FROM "user" GROUP BY age HAVING count(*) > $1)");
  using row = decltype(q)::row_type;
  static_assert(
      std::is_same_v<row,
                     std::tuple<std::int32_t, std::int64_t, std::int64_t,
                                std::optional<std::int64_t>, std::optional<pgorm::numeric>,
                                std::optional<pgorm::timestamptz>, std::optional<std::int64_t>>>);
  auto d = pgorm::select(col<&User::age>).distinct();
  EXPECT_EQ(sql_of(d), R"(SELECT DISTINCT age FROM "user")");
  auto cd = pgorm::select(pgorm::count_distinct(col<&User::age>)).from<User>();
  EXPECT_EQ(sql_of(cd), R"(SELECT count(DISTINCT age) FROM "user")");
}

TEST(select_render, order_by_directions_nulls_limit_offset) {
  auto q = pgorm::select<User>()
               .order_by(col<&User::name>.desc().nulls_last(), col<&User::age>.asc().nulls_first(),
                         col<&User::id>)
               .limit(10)
               .offset(20);
  EXPECT_EQ(sql_of(q), R"(SELECT id, email, name, age, "isEmailVerified", created_at FROM "user" )"
                       R"(ORDER BY name DESC NULLS LAST, age NULLS FIRST, id LIMIT $1 OFFSET $2)");
}

TEST(select_render, joins_qualify_columns_and_left_join_rows_are_optional) {
  auto q = pgorm::select(col<&Session::token>, col<&User::email>)
               .join<User>(col<&Session::user_id> == col<&User::id>)
               .where(col<&Session::expires_at> > pgorm::now());
  EXPECT_EQ(sql_of(q), R"(SELECT session.token, "user".email FROM session JOIN "user" ON )"
                       R"(session.user_id = "user".id WHERE session.expires_at > now())");
  static_assert(std::is_same_v<decltype(q)::row_type, std::tuple<std::string, std::string>>);

  auto l = pgorm::select(col<&User::email>, col<&Session::token>, pgorm::count(col<&Session::id>))
               .from<User>()
               .left_join<Session>(col<&Session::user_id> == col<&User::id>)
               .group_by(col<&User::email>, col<&Session::token>);
  EXPECT_EQ(sql_of(l), R"(SELECT "user".email, session.token, count(session.id) FROM "user" LEFT )"
                       R"(JOIN session ON session.user_id = "user".id GROUP BY "user".email, )"
                       R"(session.token)");
  static_assert(std::is_same_v<decltype(l)::row_type,
                               std::tuple<std::string, std::optional<std::string>, std::int64_t>>);

  auto both =
      pgorm::select<User, Session>().left_join<Session>(col<&Session::user_id> == col<&User::id>);
  static_assert(std::is_same_v<decltype(both)::row_type, std::tuple<User, std::optional<Session>>>);
  EXPECT_EQ(sql_of(both).substr(0, 40), R"(SELECT "user".id, "user".email, "user".n)");
}

TEST(select_render, several_tables_and_self_join_aliases) {
  auto q = pgorm::select(col<&User::email>, col<&Account::provider>, col<&Session::token>)
               .join<Account>(col<&Account::user_id> == col<&User::id>)
               .join<Session>(col<&Session::user_id> == col<&User::id>);
  EXPECT_EQ(sql_of(q), R"(SELECT "user".email, account.provider, session.token FROM "user" JOIN )"
                       R"(account ON account.user_id = "user".id JOIN session ON session.user_id )"
                       R"(= "user".id)");
  auto self = pgorm::select(col<&User::email>, col<&User::email, "older">)
                  .join<User, "older">(col<&User::age, "older"> > col<&User::age>);
  EXPECT_EQ(sql_of(self), R"(SELECT "user".email, older.email FROM "user" JOIN "user" AS older )"
                          R"(ON older.age > "user".age)");
}

TEST(select_render, partial_struct_maps_fields_by_name) {
  auto q = pgorm::select<UserSummary>().from<User>().where(col<&User::age> > 1);
  EXPECT_EQ(sql_of(q), R"(SELECT id, email FROM "user" WHERE age > $1)");
  static_assert(std::is_same_v<decltype(q)::row_type, UserSummary>);
}

TEST(select_render, subqueries_exists_and_in) {
  auto q = pgorm::select(col<&User::id>)
               .where(col<&User::id>.in(pgorm::select(col<&Session::user_id>)
                                            .where(col<&Session::ip_address>.is_not_null())) &&
                      pgorm::exists(pgorm::select(col<&Account::id>)
                                        .where(col<&Account::user_id> == col<&User::id>)));
  EXPECT_EQ(sql_of(q),
            R"(SELECT id FROM "user" WHERE id IN (SELECT user_id FROM session WHERE )"
            R"(ip_address IS NOT NULL) AND EXISTS (SELECT account.id FROM account WHERE )"
            R"(account.user_id = "user".id))");
}

TEST(select_render, parameters_are_numbered_across_subqueries) {
  auto q =
      pgorm::select(col<&User::id>)
          .where(col<&User::age> > 1 &&
                 col<&User::id>.in(
                     pgorm::select(col<&Session::user_id>).where(col<&Session::token> == "t")) &&
                 col<&User::age> < 9);
  EXPECT_EQ(sql_of(q), R"(SELECT id FROM "user" WHERE age > $1 AND id IN (SELECT user_id FROM )"
                       R"(session WHERE token = $2) AND age < $3)");
  EXPECT_EQ(q.to_sql().params.size(), 3U);
}

struct adult {
  std::int64_t id;
  std::string email;
};

TEST(select_render, common_table_expressions) {
  auto q = pgorm::select<adult>()
               .with<adult>(
                   pgorm::select(col<&User::id>, col<&User::email>).where(col<&User::age> >= 18))
               .where(col<&adult::email>.like("%@x"));
  EXPECT_EQ(sql_of(q),
            R"(WITH adult (id, email) AS (SELECT id, email FROM "user" WHERE age >= $1) )"
            R"(SELECT id, email FROM adult WHERE email LIKE $2)");
}

TEST(select_render, row_locks) {
  EXPECT_EQ(sql_of(pgorm::select(col<&Session::id>).for_update().skip_locked().limit(1)),
            "SELECT id FROM session LIMIT $1 FOR UPDATE SKIP LOCKED");
  EXPECT_EQ(sql_of(pgorm::select(col<&Session::id>).for_share().nowait()),
            "SELECT id FROM session FOR SHARE NOWAIT");
}

TEST(select_render, keyset_pagination_after_a_cursor) {
  using cursor = std::tuple<pgorm::timestamptz, std::int64_t>;
  auto q = pgorm::select<Session>()
               .where(col<&Session::user_id> == 7)
               .order_by(col<&Session::expires_at>.desc(), col<&Session::id>.desc())
               .after(cursor{})
               .limit(20);
  EXPECT_EQ(sql_of(q),
            "SELECT id, user_id, token, expires_at, ip_address FROM session WHERE user_id = $1 AND "
            "(expires_at, id) < ($2, $3) ORDER BY expires_at DESC, id DESC LIMIT $4");
  static_assert(std::is_same_v<decltype(q)::cursor_t, cursor>);
}

TEST(select_render, primary_key_lookup) {
  auto q = pgorm::select<Account>().where(pgorm::primary_key<Account>(5));
  EXPECT_EQ(
      sql_of(q),
      "SELECT id, user_id, provider, provider_account_id, balance FROM account WHERE id = $1");
}

TEST(select_render, dynamic_filters_render_at_run_time_with_parameters) {
  pgorm::filter<User> f;
  auto empty = pgorm::select(col<&User::id>).where(f).to_sql();
  EXPECT_EQ(empty.sql, R"(SELECT id FROM "user" WHERE TRUE)");
  EXPECT_EQ(empty.params.size(), 0U);

  f &= col<&User::name>.ilike(pgorm::contains("ada"));
  f &= col<&User::age> >= 18;
  f |= col<&User::email> == "root@example.com";
  auto s = pgorm::select(col<&User::id>).where(f).order_by(col<&User::id>).limit(5).to_sql();
  EXPECT_EQ(s.sql, R"(SELECT id FROM "user" WHERE (((name ILIKE $1) AND (age >= $2)) OR )"
                   R"((email = $3)) ORDER BY id LIMIT $4)");
  EXPECT_EQ(s.params.size(), 4U);
  static_assert(!decltype(pgorm::select(col<&User::id>).where(f))::is_static);

  auto combined =
      pgorm::select(col<&User::id>).where(col<&User::age> > 1 && pgorm::filter<User>{}).to_sql();
  EXPECT_EQ(combined.sql, R"(SELECT id FROM "user" WHERE ((age > $1) AND (TRUE)))");
}

TEST(select_render, static_rendering_allocates_nothing) {
  // sql() is a view of storage computed during compilation.
  constexpr std::string_view a = decltype(pgorm::select<User>())::sql();
  constexpr std::string_view b = decltype(pgorm::select<User>())::sql();
  static_assert(a.data() == b.data());
  EXPECT_EQ(a.data(), b.data());
}

TEST(select_render, identifiers_are_quoted_where_needed) {
  // "user" is reserved, "isEmailVerified" has upper case; session and email need no quotes.
  auto q = pgorm::select(col<&User::is_email_verified>).where(col<&User::email> == "x");
  EXPECT_EQ(sql_of(q), R"(SELECT "isEmailVerified" FROM "user" WHERE email = $1)");
}

}  // namespace

// ---- count() and exists(): the select wrapped, still static -----------------------------------

namespace {
using count_of_adults = decltype(pgorm::detail::wrap_select<pgorm::detail::wrap_kind::count>(
    pgorm::select<User>().where(col<&User::age> >= 18)));
using any_adult = decltype(pgorm::detail::wrap_select<pgorm::detail::wrap_kind::exists>(
    pgorm::select(col<&User::id>).where(col<&User::age> >= 18).limit(1)));
static_assert(std::is_same_v<count_of_adults::row_type, std::int64_t>);
static_assert(std::is_same_v<any_adult::row_type, bool>);
static_assert(count_of_adults::sql() ==
              R"(SELECT count(*) FROM (SELECT id, email, name, age, "isEmailVerified", )"
              R"(created_at FROM "user" WHERE age >= $1) AS pgorm_count)");
static_assert(any_adult::sql() ==
              R"(SELECT EXISTS (SELECT id FROM "user" WHERE age >= $1 LIMIT $2))");
}  // namespace

TEST(select_render, count_of_a_dynamic_filter_binds_its_parameters) {
  pgorm::filter<User> f;
  f &= col<&User::age> >= 18;
  f &= col<&User::name> == std::string("Ada");
  const auto s =
      pgorm::detail::wrap_select<pgorm::detail::wrap_kind::count>(pgorm::select<User>().where(f))
          .to_sql();
  EXPECT_EQ(s.sql,
            R"(SELECT count(*) FROM (SELECT id, email, name, age, "isEmailVerified", created_at )"
            R"(FROM "user" WHERE ((age >= $1) AND (name = $2))) AS pgorm_count)");
  EXPECT_EQ(s.params.size(), 2U);
}
