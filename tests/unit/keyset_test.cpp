// SPDX-License-Identifier: MIT
// Golden SQL of keyset pagination: the primary key appended to make the order total, mixed
// directions, nullable columns, backward cursors and cursors made from a primary key value.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>

#include <gtest/gtest.h>

#include "pgorm/query.hpp"
#include "support/schema.hpp"

namespace kt {
/// A table with a composite primary key, for the appended key columns.
struct Member {
  std::int64_t org_id;
  std::int64_t user_id;
  std::string role;
  std::optional<std::int32_t> rank;
};
}  // namespace kt

template <>
struct pgorm::table_traits<kt::Member> {
  static constexpr auto primary_key = pgorm::columns(&kt::Member::org_id, &kt::Member::user_id);
};

namespace {

using kt::Member;
using pgorm::col;
using qt::Session;
using qt::User;

/// The WHERE ... tail of a query's SQL (keyset tests look only at the condition and order).
template <class Q>
std::string tail_of(const Q& q) {
  const std::string sql = q.to_sql().sql;
  const auto at = sql.find(" WHERE ");
  return at == std::string::npos ? sql : sql.substr(at + 1);
}

TEST(keyset_render, one_direction_is_one_row_comparison) {
  using cursor = std::tuple<pgorm::timestamptz, std::int64_t>;
  const auto q = pgorm::select<Session>()
                     .where(col<&Session::user_id> == 7)
                     .order_by(col<&Session::expires_at>.desc(), col<&Session::id>.desc())
                     .after(cursor{});
  static_assert(std::is_same_v<decltype(q)::cursor_t, cursor>);
  EXPECT_EQ(tail_of(q),
            "WHERE user_id = $1 AND (expires_at, id) < ($2, $3) ORDER BY expires_at DESC, id DESC");
  // The SQL is still computed at compile time.
  static_assert(
      decltype(q)::sql().ends_with("(expires_at, id) < ($2, $3) ORDER BY expires_at "
                                   "DESC, id DESC"));
}

TEST(keyset_render, the_primary_key_ends_an_order_that_does_not_name_it) {
  // Prisma's orderBy: { createdAt: 'desc' }: id is appended, in the last term's direction.
  const auto q = pgorm::select<Session>().order_by(col<&Session::expires_at>.desc());
  using cursor = decltype(q)::cursor_t;
  static_assert(std::is_same_v<cursor, std::tuple<pgorm::timestamptz, std::int64_t>>);
  EXPECT_EQ(tail_of(q.after(cursor{})),
            "WHERE (expires_at, id) < ($1, $2) ORDER BY expires_at DESC, id DESC");
  // Without a cursor, order_by() renders as written.
  EXPECT_EQ(q.to_sql().sql,
            "SELECT id, user_id, token, expires_at, ip_address FROM session ORDER BY expires_at "
            "DESC");
  // An order that already names the key is left alone, wherever the key stands.
  const auto by_id = pgorm::select<Session>().order_by(col<&Session::id>, col<&Session::token>);
  static_assert(std::is_same_v<decltype(by_id)::cursor_t, std::tuple<std::int64_t, std::string>>);
  EXPECT_EQ(tail_of(by_id.after(decltype(by_id)::cursor_t{})),
            "WHERE (id, token) > ($1, $2) ORDER BY id, token");
}

TEST(keyset_render, a_composite_key_appends_the_columns_not_named) {
  const auto by_role = pgorm::select<Member>().order_by(col<&Member::role>.desc());
  static_assert(std::is_same_v<decltype(by_role)::cursor_t,
                               std::tuple<std::string, std::int64_t, std::int64_t>>);
  EXPECT_EQ(tail_of(by_role.after(decltype(by_role)::cursor_t{})),
            "WHERE (role, org_id, user_id) < ($1, $2, $3) ORDER BY role DESC, org_id DESC, "
            "user_id DESC");
  const auto by_user = pgorm::select<Member>().order_by(col<&Member::user_id>);
  static_assert(
      std::is_same_v<decltype(by_user)::cursor_t, std::tuple<std::int64_t, std::int64_t>>);
  EXPECT_EQ(tail_of(by_user.after(decltype(by_user)::cursor_t{})),
            "WHERE (user_id, org_id) > ($1, $2) ORDER BY user_id, org_id");
}

TEST(keyset_render, mixed_directions_chain_runs_led_by_a_sargable_bound) {
  const auto q = pgorm::select<User>().order_by(col<&User::age>.desc(), col<&User::email>);
  using cursor = decltype(q)::cursor_t;
  static_assert(std::is_same_v<cursor, std::tuple<std::int32_t, std::string, std::int64_t>>);
  const pgorm::statement s = q.after(cursor{40, "a@x", 3}).limit(5).to_sql();
  EXPECT_EQ(s.sql.substr(s.sql.find(" WHERE ") + 1),
            "WHERE age <= $1 AND (age < $1 OR (age = $1 AND (email, id) > ($2, $3))) "
            "ORDER BY age DESC, email, id LIMIT $4");
  EXPECT_EQ(s.params.size(), 4U);  // each cursor value is sent once

  const auto three =
      pgorm::select<User>().order_by(col<&User::age>, col<&User::email>.desc(), col<&User::id>);
  EXPECT_EQ(tail_of(three.after(decltype(three)::cursor_t{})),
            "WHERE age >= $1 AND (age > $1 OR (age = $1 AND (email < $2 OR (email = $2 AND id "
            "> $3)))) ORDER BY age, email DESC, id");
}

TEST(keyset_render, nullable_columns_place_null_where_order_by_does) {
  // ASC: NULLs last by default.
  const auto asc = pgorm::select<User>().order_by(col<&User::name>);
  static_assert(std::is_same_v<decltype(asc)::cursor_t,
                               std::tuple<std::optional<std::string>, std::int64_t>>);
  EXPECT_EQ(tail_of(asc.after(decltype(asc)::cursor_t{})),
            "WHERE ((name > $1 OR $1 IS NOT NULL AND name IS NULL) OR ((name = $1 OR name IS "
            "NULL AND $1 IS NULL) AND id > $2)) ORDER BY name, id");
  // DESC: NULLs first by default.
  const auto desc = pgorm::select<User>().order_by(col<&User::name>.desc());
  EXPECT_EQ(tail_of(desc.after(decltype(desc)::cursor_t{})),
            "WHERE ((name < $1 OR $1 IS NULL AND name IS NOT NULL) OR ((name = $1 OR name IS "
            "NULL AND $1 IS NULL) AND id < $2)) ORDER BY name DESC, id DESC");
  // Explicit placement wins.
  const auto last = pgorm::select<User>().order_by(col<&User::name>.desc().nulls_last());
  EXPECT_EQ(tail_of(last.after(decltype(last)::cursor_t{})),
            "WHERE ((name < $1 OR $1 IS NOT NULL AND name IS NULL) OR ((name = $1 OR name IS "
            "NULL AND $1 IS NULL) AND id < $2)) ORDER BY name DESC NULLS LAST, id DESC");
  // A nullable column after a NOT NULL one: the NOT NULL run leads.
  const auto mixed =
      pgorm::select<User>().order_by(col<&User::age>, col<&User::name>.asc().nulls_first());
  EXPECT_EQ(tail_of(mixed.after(decltype(mixed)::cursor_t{})),
            "WHERE age >= $1 AND (age > $1 OR (age = $1 AND ((name > $2 OR $2 IS NULL AND name "
            "IS NOT NULL) OR ((name = $2 OR name IS NULL AND $2 IS NULL) AND id > $3)))) "
            "ORDER BY age, name NULLS FIRST, id");
}

TEST(keyset_render, before_compares_in_the_reversed_order) {
  const auto q = pgorm::select<User>().order_by(col<&User::age>.desc(), col<&User::id>.desc());
  // ORDER BY stays as written: all() returns the rows before the cursor in order; page(n)
  // fetches the n nearest in reverse and turns them back.
  EXPECT_EQ(tail_of(q.before(decltype(q)::cursor_t{})),
            "WHERE (age, id) > ($1, $2) ORDER BY age DESC, id DESC");
  const auto n = pgorm::select<User>().order_by(col<&User::name>.asc().nulls_last());
  EXPECT_EQ(tail_of(n.before(decltype(n)::cursor_t{})),
            "WHERE ((name < $1 OR $1 IS NULL AND name IS NOT NULL) OR ((name = $1 OR name IS "
            "NULL AND $1 IS NULL) AND id < $2)) ORDER BY name NULLS LAST, id");
}

TEST(keyset_render, a_primary_key_cursor_reads_the_row_in_the_same_statement) {
  const auto q = pgorm::select<Session>()
                     .where(col<&Session::user_id> == 7)
                     .order_by(col<&Session::expires_at>.desc());
  const pgorm::statement s = q.after_key(42).limit(20).to_sql();
  EXPECT_EQ(s.sql.substr(s.sql.find(" WHERE ") + 1),
            "WHERE user_id = $1 AND (expires_at, id) < ((SELECT pgorm_cursor.expires_at FROM "
            "session AS pgorm_cursor WHERE pgorm_cursor.id = $2), (SELECT pgorm_cursor.id FROM "
            "session AS pgorm_cursor WHERE pgorm_cursor.id = $2)) ORDER BY expires_at DESC, id "
            "DESC LIMIT $3");
  EXPECT_EQ(s.params.size(), 3U);
  // With a nullable column the key must exist: a missing row would read as NULLs.
  EXPECT_EQ(tail_of(pgorm::select<User>().order_by(col<&User::name>).before_key(5)),
            R"(WHERE EXISTS (SELECT FROM "user" AS pgorm_cursor WHERE pgorm_cursor.id = $1) AND )"
            R"(((name < (SELECT pgorm_cursor.name FROM "user" AS pgorm_cursor WHERE )"
            R"(pgorm_cursor.id = $1) OR (SELECT pgorm_cursor.name FROM "user" AS pgorm_cursor )"
            R"(WHERE pgorm_cursor.id = $1) IS NULL AND name IS NOT NULL) OR ((name = (SELECT )"
            R"(pgorm_cursor.name FROM "user" AS pgorm_cursor WHERE pgorm_cursor.id = $1) OR )"
            R"(name IS NULL AND (SELECT pgorm_cursor.name FROM "user" AS pgorm_cursor WHERE )"
            R"(pgorm_cursor.id = $1) IS NULL) AND id < (SELECT pgorm_cursor.id FROM "user" AS )"
            R"(pgorm_cursor WHERE pgorm_cursor.id = $1))) ORDER BY name, id)");
  // A composite key: one value per key column, in the key's order.
  const pgorm::statement m =
      pgorm::select<Member>().order_by(col<&Member::role>).after_key(1, 2).to_sql();
  EXPECT_EQ(m.params.size(), 2U);
  EXPECT_NE(m.sql.find("WHERE pgorm_cursor.org_id = $1 AND pgorm_cursor.user_id = $2)"),
            std::string::npos);
}

TEST(keyset_render, a_cursor_from_a_row_holds_its_order_and_key_values) {
  using q = decltype(pgorm::select<Member>().order_by(col<&Member::rank>.desc()));
  const Member m{4, 9, "admin", std::nullopt};
  const q::cursor_t c = q::cursor_of(m);
  EXPECT_EQ(
      c, (std::tuple<std::optional<std::int32_t>, std::int64_t, std::int64_t>{std::nullopt, 4, 9}));
  // after(row) is after(cursor_of(row)): same text, same parameters.
  const auto from_row = pgorm::select<Member>().order_by(col<&Member::rank>.desc()).after(m);
  const auto from_cursor = pgorm::select<Member>().order_by(col<&Member::rank>.desc()).after(c);
  const pgorm::statement a = from_row.to_sql();
  const pgorm::statement b = from_cursor.to_sql();
  EXPECT_EQ(a.sql, b.sql);
  ASSERT_EQ(a.params.size(), 3U);
  ASSERT_EQ(b.params.size(), 3U);
  for (std::size_t i = 0; i != 3; ++i) {
    EXPECT_EQ(a.params.params()[i].is_null(), b.params.params()[i].is_null());
    EXPECT_EQ(a.params.params()[i].bytes(), b.params.params()[i].bytes());
  }
  EXPECT_TRUE(a.params.params()[0].is_null());  // the NULL rank is a NULL parameter
}

TEST(keyset_render, the_text_is_the_same_from_the_type_and_from_the_object) {
  // A filter makes the shape dynamic: the keyset renders at run time, with the same text
  // (the filter itself adds parentheses).
  pgorm::filter<User> f;
  f &= col<&User::age> > 18;
  const auto dynamic =
      pgorm::select<User>()
          .where(f)
          .order_by(col<&User::age>.desc(), col<&User::name>)
          .after(std::tuple<std::int32_t, std::optional<std::string>, std::int64_t>{});
  const auto fixed =
      pgorm::select<User>()
          .where(col<&User::age> > 18)
          .order_by(col<&User::age>.desc(), col<&User::name>)
          .after(std::tuple<std::int32_t, std::optional<std::string>, std::int64_t>{});
  const std::string run_time = dynamic.to_sql().sql;
  const std::string_view compile_time = decltype(fixed)::sql();
  const std::string_view keyset = " AND age <= $2 AND ";
  ASSERT_NE(run_time.find(keyset), std::string::npos);
  ASSERT_NE(compile_time.find(keyset), std::string_view::npos);
  EXPECT_EQ(run_time.substr(run_time.find(keyset)), compile_time.substr(compile_time.find(keyset)));
}

}  // namespace
