// SPDX-License-Identifier: MIT
// insert / update / remove: golden SQL for every clause, compile-time rendering, parameter order,
// pgorm::defaulted fields asking for the default sent as NULL so that coalesce(.., default)
// applies, and every other value written as it is. No server.

#include <cstdint>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <vector>

#include <gtest/gtest.h>

#include "pgorm/query/insert.hpp"
#include "pgorm/query/remove.hpp"
#include "pgorm/query/select.hpp"
#include "pgorm/query/update.hpp"
#include "pgorm/types.hpp"

namespace dml {

struct User {
  std::int64_t id;
  std::string email;
  std::optional<std::string> name;
  std::int32_t age = 0;
  pgorm::defaulted<std::string> role;
  pgorm::defaulted<pgorm::timestamptz> created_at;
};

// The seed's users table: "isActive" boolean DEFAULT true as a plain field (always written),
// and a nullable column with a default (NULL and "the default" are two different requests).
struct Member {
  std::int64_t id{};
  bool is_active = false;
  pgorm::defaulted<std::optional<std::string>> nickname{};
  pgorm::defaulted<bool> verified{};
};

struct Tag {
  std::int32_t id;
  std::string label;
};

struct Session {
  std::int64_t id;
  std::int64_t user_id;
  std::string token;
};

}  // namespace dml

template <>
struct pgorm::table_traits<dml::User> {
  static constexpr std::string_view name = "users";
  static constexpr auto primary_key = pgorm::identity(&dml::User::id);
  static constexpr auto unique = pgorm::columns(&dml::User::email);
  static constexpr auto defaults =
      pgorm::defaults(pgorm::default_sql(&dml::User::created_at, "now()"),
                      pgorm::default_value(&dml::User::role, "member"));
};

template <>
struct pgorm::table_traits<dml::Member> {
  using naming = pgorm::naming::camel_case;
  static constexpr auto primary_key = pgorm::identity(&dml::Member::id);
  static constexpr auto defaults =
      pgorm::defaults(pgorm::default_value(&dml::Member::is_active, true),
                      pgorm::default_value(&dml::Member::nickname, "anon"),
                      pgorm::default_value(&dml::Member::verified, false));
};

template <>
struct pgorm::table_traits<dml::Tag> {
  static constexpr std::string_view schema = "Shop";
  static constexpr auto primary_key = pgorm::key(&dml::Tag::id);
  static constexpr auto renames = pgorm::renames(pgorm::rename(&dml::Tag::label, "Label"));
};

template <>
struct pgorm::table_traits<dml::Session> {
  static constexpr auto primary_key =
      pgorm::identity(&dml::Session::id, pgorm::identity_kind::by_default);
};

// clang-format 14 (Debian 12) rewrites `col<&T::m> = v` as `col<& T::m> = v`; the rest of
// this file is formatted by hand in its style.
// clang-format off
namespace {

using dml::Member;
using dml::Session;
using dml::Tag;
using dml::User;
using pgorm::col;
using pgorm::excluded;

template <class Q>
constexpr std::string_view sql_of(const Q& /*q*/) {
  return Q::sql();
}

// ---- insert ------------------------------------------------------------------------------------

// `text` is `head` followed by `tail`, without building a std::string: clang 16 cannot evaluate
// libstdc++ 12's std::string in a constant expression.
constexpr bool is_concat(std::string_view text, std::string_view head, std::string_view tail) {
  return text.size() == head.size() + tail.size() && text.starts_with(head) &&
         text.ends_with(tail);
}

constexpr std::string_view user_insert =
    "INSERT INTO users (email, name, age, role, created_at) VALUES ($1, $2, $3, "
    "coalesce($4, 'member'), coalesce($5, now()))";

static_assert(decltype(pgorm::insert(User{}))::sql() == user_insert,
              "single-row insert renders at compile time; identity left out, defaults coalesced");
static_assert(decltype(pgorm::insert(Tag{}))::sql() ==
              R"(INSERT INTO "Shop".tag (id, "Label") VALUES ($1, $2))");
static_assert(decltype(pgorm::insert(Session{}))::sql() ==
                  "INSERT INTO session (user_id, token) VALUES ($1, $2)",
              "BY DEFAULT identity columns are left to their sequence too");
static_assert(is_concat(decltype(pgorm::insert(User{}).returning(col<&User::id>))::sql(),
                        user_insert, " RETURNING id"));
static_assert(std::is_same_v<decltype(pgorm::insert(User{}).returning(col<&User::id>,
                                                                      col<&User::name>))::row_type,
                             std::tuple<std::int64_t, std::optional<std::string>>>);
static_assert(std::is_same_v<decltype(pgorm::insert(User{}).returning_all())::row_type, User>);
static_assert(
    std::is_same_v<decltype(pgorm::insert<User>(User{})), decltype(pgorm::insert(User{}))>);
static_assert(!decltype(pgorm::insert(std::vector<User>{}))::is_static);

TEST(dml_insert, one_row_to_sql_matches_static_sql) {
  const auto st = pgorm::insert(User{0, "a@b.c", std::nullopt, 30, "admin", {}}).to_sql();
  EXPECT_EQ(st.sql, user_insert);
  EXPECT_EQ(st.params.size(), 5U);
}

TEST(dml_insert, defaulted_fields_asking_for_the_default_are_sent_as_null) {
  const auto set = pgorm::insert(User{0, "a@b.c", "Ada", 30, "admin", {}}).to_sql();
  const auto params = set.params.params();
  ASSERT_EQ(params.size(), 5U);
  EXPECT_FALSE(params[1].is_null());
  EXPECT_FALSE(params[3].is_null()) << "role holds a value";
  EXPECT_TRUE(params[4].is_null()) << "created_at asks for the default";

  const auto empty = pgorm::insert(User{0, "a@b.c", std::nullopt, 0, "", pgorm::use_default})
                         .to_sql();
  const auto p2 = empty.params.params();
  EXPECT_TRUE(p2[1].is_null()) << "name is nullopt and has no default: NULL";
  EXPECT_FALSE(p2[2].is_null()) << "age has no default: 0 is a value";
  EXPECT_FALSE(p2[3].is_null()) << "role holds \"\", a value like any other: written";
  EXPECT_EQ(p2[3].bytes().size(), 0U);
  EXPECT_TRUE(p2[4].is_null());
}

constexpr std::string_view member_insert =
    R"(INSERT INTO member ("isActive", nickname, verified) VALUES ($1, CASE WHEN $2 THEN 'anon' )"
    R"(ELSE $3 END, coalesce($4, false)))";
static_assert(decltype(pgorm::insert(Member{}))::sql() == member_insert,
              "a plain field is written even when its column has a default; a nullable "
              "defaulted field sends a flag of its own");

TEST(dml_insert, a_plain_field_equal_to_its_initializer_is_still_written) {
  // The seed's case: is_active = false into "isActive" boolean DEFAULT true.
  const auto st = pgorm::insert(Member{.is_active = false}).to_sql();
  EXPECT_EQ(st.sql, member_insert);
  const auto p = st.params.params();
  ASSERT_EQ(p.size(), 4U);
  ASSERT_FALSE(p[0].is_null()) << "false is the user's value, never the column default";
  ASSERT_EQ(p[0].bytes().size(), 1U);
  EXPECT_EQ(p[0].bytes()[0], '\0');
  EXPECT_EQ(p[0].type(), pgorm::oids::boolean);
}

TEST(dml_insert, nullable_defaulted_field_tells_null_from_the_default) {
  const auto asks = pgorm::insert(Member{}).to_sql();
  const auto a = asks.params.params();
  ASSERT_EQ(a.size(), 4U);
  ASSERT_FALSE(a[1].is_null());
  EXPECT_EQ(a[1].bytes()[0], '\1') << "flag: use the default";
  EXPECT_TRUE(a[2].is_null());
  EXPECT_TRUE(a[3].is_null()) << "verified asks for the default: coalesce's NULL";

  const auto null = pgorm::insert(Member{.nickname = std::nullopt, .verified = false}).to_sql();
  const auto n = null.params.params();
  EXPECT_EQ(n[1].bytes()[0], '\0') << "flag: a value, which is NULL";
  EXPECT_TRUE(n[2].is_null());
  ASSERT_FALSE(n[3].is_null()) << "verified = false is written";
  EXPECT_EQ(n[3].bytes()[0], '\0');

  const auto value = pgorm::insert(Member{.nickname = "ada"}).to_sql();
  const auto v = value.params.params();
  EXPECT_EQ(v[1].bytes()[0], '\0');
  ASSERT_FALSE(v[2].is_null());
  EXPECT_EQ(v[2].bytes().size(), 3U);
}

TEST(dml_insert, mixed_rows_share_one_statement_text) {
  std::vector<Member> rows{Member{}, Member{.is_active = true, .nickname = std::nullopt},
                           Member{.nickname = "x", .verified = true}};
  const auto st = pgorm::insert(rows).to_sql();
  EXPECT_EQ(st.sql,
            R"(INSERT INTO member ("isActive", nickname, verified) VALUES ($1, CASE WHEN $2 THEN )"
            R"('anon' ELSE $3 END, coalesce($4, false)), ($5, CASE WHEN $6 THEN 'anon' ELSE $7 )"
            R"(END, coalesce($8, false)), ($9, CASE WHEN $10 THEN 'anon' ELSE $11 END, )"
            R"(coalesce($12, false)))");
  EXPECT_EQ(st.params.size(), 12U);
}

TEST(dml_defaulted, holds_a_value_or_asks_for_the_default) {
  pgorm::defaulted<bool> b;
  EXPECT_TRUE(b.is_default());
  EXPECT_THROW((void)b.value(), pgorm::usage_error);
  EXPECT_TRUE(b == pgorm::use_default);
  b = false;
  EXPECT_TRUE(b.has_value());
  EXPECT_FALSE(b.value());
  EXPECT_TRUE(b == false);
  EXPECT_FALSE(b == true);
  EXPECT_FALSE(b == pgorm::defaulted<bool>{});
  b = pgorm::use_default;
  EXPECT_TRUE(b.is_default());
  EXPECT_TRUE(b.value_or(true));
  pgorm::defaulted<std::optional<int>> n = std::nullopt;
  EXPECT_TRUE(n.has_value()) << "std::nullopt is a value: NULL";
  EXPECT_FALSE(n->has_value());
}

TEST(dml_defaulted, encoding_one_that_asks_for_the_default_throws) {
  const pgorm::defaulted<std::int32_t> d;
  EXPECT_THROW((void)pgorm::encode_params(d), pgorm::conversion_error);
  const pgorm::defaulted<std::int32_t> v = 7;
  EXPECT_EQ(pgorm::encode_params(v).params()[0].type(), pgorm::oids::int4);
}

static_assert(std::is_same_v<decltype(col<&Member::verified>)::value_type, bool>,
              "a defaulted column compares and assigns as its value type");
static_assert(std::is_same_v<decltype(col<&Member::nickname>)::value_type,
                             std::optional<std::string>>);
static_assert(pgorm::table<Member>::column_of<&Member::nickname>().nullable);
static_assert(!pgorm::table<Member>::column_of<&Member::verified>().nullable);
static_assert(pgorm::table<Member>::column_of<&Member::verified>().sql_type == "boolean");

TEST(dml_insert, many_rows_render_one_values_tuple_per_row) {
  std::vector<Tag> tags{{1, "a"}, {2, "b"}, {3, "c"}};
  const auto st = pgorm::insert(tags).to_sql();
  EXPECT_EQ(st.sql, R"(INSERT INTO "Shop".tag (id, "Label") VALUES ($1, $2), ($3, $4), ($5, $6))");
  EXPECT_EQ(st.params.size(), 6U);
}

TEST(dml_insert, any_range_of_structs) {
  const Tag arr[] = {{1, "a"}, {2, "b"}};
  EXPECT_EQ(pgorm::insert(arr).to_sql().params.size(), 4U);
  std::vector<Tag> v{{1, "a"}};
  EXPECT_EQ(pgorm::insert<Tag>(std::move(v)).to_sql().params.size(), 2U);
}

TEST(dml_insert, many_rows_with_returning_and_upsert) {
  std::vector<User> users(2);
  const auto st = pgorm::insert(users)
                      .on_conflict(col<&User::email>)
                      .do_update(col<&User::name> = excluded<&User::name>,
                                 col<&User::age> = col<&User::age> + 1)
                      .returning(col<&User::id>)
                      .to_sql();
  EXPECT_EQ(st.sql,
            "INSERT INTO users (email, name, age, role, created_at) VALUES ($1, $2, $3, "
            "coalesce($4, 'member'), coalesce($5, now())), ($6, $7, $8, coalesce($9, 'member'), "
            "coalesce($10, now())) ON CONFLICT (email) DO UPDATE SET name = excluded.name, age = "
            "users.age + $11 RETURNING id");
  EXPECT_EQ(st.params.size(), 11U);
}

TEST(dml_insert, empty_range_sends_nothing) {
  const auto q = pgorm::insert(std::vector<Tag>{});
  EXPECT_THROW((void)q.to_sql(), pgorm::usage_error);
}

static_assert(is_concat(decltype(pgorm::insert(User{}).on_conflict().do_nothing())::sql(),
                        user_insert, " ON CONFLICT DO NOTHING"));
static_assert(is_concat(
    decltype(pgorm::insert(User{}).on_conflict(col<&User::email>).do_nothing())::sql(),
    user_insert, " ON CONFLICT (email) DO NOTHING"));
static_assert(decltype(pgorm::insert(Tag{})
                           .on_conflict(col<&Tag::id>)
                           .do_update(col<&Tag::label> = excluded<&Tag::label>))::sql() ==
              R"(INSERT INTO "Shop".tag (id, "Label") VALUES ($1, $2) ON CONFLICT (id) DO UPDATE )"
              R"(SET "Label" = excluded."Label")");

TEST(dml_insert, do_update_where_qualifies_columns) {
  using Q = decltype(pgorm::insert(User{})
                         .on_conflict(col<&User::email>)
                         .do_update(col<&User::name> = excluded<&User::name>)
                         .where(col<&User::age> < excluded<&User::age>)
                         .returning_all());
  EXPECT_EQ(Q::sql(), std::string(user_insert) +
                          " ON CONFLICT (email) DO UPDATE SET name = excluded.name WHERE "
                          "users.age < excluded.age RETURNING id, email, name, age, role, "
                          "created_at");
}

TEST(dml_insert, upsert_parameters_follow_the_values) {
  const auto st = pgorm::insert(Tag{7, "x"})
                      .on_conflict(col<&Tag::id>)
                      .do_update(col<&Tag::label> = "y")
                      .where(col<&Tag::id> > 3)
                      .to_sql();
  EXPECT_EQ(st.sql,
            R"(INSERT INTO "Shop".tag (id, "Label") VALUES ($1, $2) ON CONFLICT (id) DO UPDATE )"
            R"(SET "Label" = $3 WHERE "Shop".tag.id > $4)");
  EXPECT_EQ(st.params.size(), 4U);
}

// ---- update ------------------------------------------------------------------------------------

static_assert(decltype(pgorm::update<User>()
                           .set(pgorm::col<&User::name> = "x")
                           .where(pgorm::col<&User::id> == 1))::sql() ==
              "UPDATE users SET name = $1 WHERE id = $2");
static_assert(decltype(pgorm::update<User>()
                           .set(col<&User::age> = col<&User::age> + 1, col<&User::role> = "r")
                           .all_rows())::sql() == "UPDATE users SET age = age + $1, role = $2");
static_assert(decltype(pgorm::update<Tag>()
                           .set(col<&Tag::label> = "x")
                           .where(col<&Tag::id> == 1)
                           .returning_all())::sql() ==
              R"(UPDATE "Shop".tag SET "Label" = $1 WHERE id = $2 RETURNING id, "Label")");

TEST(dml_update, set_called_twice_appends) {
  const auto q = pgorm::update<User>()
                     .set(col<&User::name> = std::optional<std::string>{})
                     .set(col<&User::age> = 3)
                     .where(col<&User::id> == 1)
                     .returning(col<&User::id>, col<&User::age>);
  EXPECT_EQ(sql_of(q), "UPDATE users SET name = $1, age = $2 WHERE id = $3 RETURNING id, age");
  const auto st = q.to_sql();
  EXPECT_EQ(st.sql, sql_of(q));
  ASSERT_EQ(st.params.size(), 3U);
  EXPECT_TRUE(st.params.params()[0].is_null());
}

TEST(dml_update, filter_where_renders_at_run_time) {
  pgorm::filter<User> f;
  f &= col<&User::age> > 18;
  f &= col<&User::role> == "admin";
  const auto q = pgorm::update<User>().set(col<&User::role> = "x").where(f);
  static_assert(!decltype(q)::is_static);
  const auto st = q.to_sql();
  EXPECT_EQ(st.sql, "UPDATE users SET role = $1 WHERE ((age > $2) AND (role = $3))");
  EXPECT_EQ(st.params.size(), 3U);
}

TEST(dml_update, empty_filter_renders_true) {
  const auto st =
      pgorm::update<User>().set(col<&User::age> = 1).where(pgorm::filter<User>{}).to_sql();
  EXPECT_EQ(st.sql, "UPDATE users SET age = $1 WHERE TRUE");
}

// ---- remove ------------------------------------------------------------------------------------

static_assert(decltype(pgorm::remove<User>().where(col<&User::id> == 1))::sql() ==
              "DELETE FROM users WHERE id = $1");
static_assert(decltype(pgorm::remove<User>().all_rows())::sql() == "DELETE FROM users");
static_assert(decltype(pgorm::remove<User>()
                           .where(col<&User::email>.like("%@x") || col<&User::name>.is_null())
                           .returning(col<&User::id>, pgorm::lower(col<&User::email>)))::sql() ==
              "DELETE FROM users WHERE email LIKE $1 OR name IS NULL RETURNING id, lower(email)");
static_assert(
    std::is_same_v<decltype(pgorm::remove<Tag>().all_rows().returning_all())::row_type, Tag>);

// Other tables are reached through subqueries; a correlated one reads the target table.
static_assert(decltype(pgorm::remove<User>().where(
                  col<&User::id>.in(pgorm::select(col<&Session::user_id>))))::sql() ==
              "DELETE FROM users WHERE id IN (SELECT user_id FROM session)");
static_assert(decltype(pgorm::update<User>()
                           .set(col<&User::role> = "active")
                           .where(pgorm::exists(pgorm::select(col<&Session::id>)
                                                    .where(col<&Session::user_id> == col<&User::id>))))::sql() ==
              "UPDATE users SET role = $1 WHERE EXISTS (SELECT session.id FROM session WHERE "
              "session.user_id = users.id)");

TEST(dml_remove, in_list_is_one_parameter) {
  const auto st = pgorm::remove<Tag>()
                      .where(col<&Tag::id>.in(std::vector<int>{1, 2, 3}))
                      .returning(col<&Tag::label>)
                      .to_sql();
  EXPECT_EQ(st.sql, R"(DELETE FROM "Shop".tag WHERE id = ANY($1) RETURNING "Label")");
  EXPECT_EQ(st.params.size(), 1U);
}

TEST(dml_remove, filter_where) {
  pgorm::filter<Tag> f;
  f |= col<&Tag::id> == 1;
  f |= col<&Tag::id> == 2;
  EXPECT_EQ(pgorm::remove<Tag>().where(f).to_sql().sql,
            R"(DELETE FROM "Shop".tag WHERE ((id = $1) OR (id = $2)))");
}

// ---- builders are values -----------------------------------------------------------------------

/// An executor that records the statement instead of sending it.
struct recording_executor {
  std::string sql;
  std::size_t params = 0;
  pgorm::result exec(std::string_view text, std::span<const pgorm::param> p, pgorm::data_format) {
    sql = std::string(text);
    params = p.size();
    throw std::runtime_error("recorded");
  }
};
static_assert(pgorm::executor<recording_executor>);

TEST(dml_builders, static_statements_send_the_compile_time_text) {
  recording_executor rec;
  EXPECT_THROW((void)pgorm::insert(Tag{1, "a"}).bind(rec).exec(), std::runtime_error);
  EXPECT_EQ(rec.sql, R"(INSERT INTO "Shop".tag (id, "Label") VALUES ($1, $2))");
  EXPECT_EQ(rec.params, 2U);
  EXPECT_THROW((void)pgorm::remove<Tag>().all_rows().returning_all().all(rec), std::runtime_error);
  EXPECT_EQ(rec.sql, R"(DELETE FROM "Shop".tag RETURNING id, "Label")");
}

TEST(dml_builders, more_than_65535_parameters_is_a_usage_error_before_sending) {
  recording_executor rec;
  std::vector<Tag> ok(32767, Tag{1, "a"});  // 65534 parameters
  EXPECT_THROW((void)pgorm::insert(ok).exec(rec), std::runtime_error);
  EXPECT_EQ(rec.params, 65534U);
  rec.params = 0;
  std::vector<Tag> too_many(32768, Tag{1, "a"});  // 65536 parameters
  EXPECT_THROW((void)pgorm::insert(too_many).exec(rec), pgorm::usage_error);
  EXPECT_EQ(rec.params, 0U) << "nothing was sent";
}

// The concepts a user's requires-clause can test.
template <class Q>
concept can_exec_unbound = requires(const Q& q, pgorm::connection& c) {
  q.exec(c);
};
static_assert(can_exec_unbound<decltype(pgorm::remove<Tag>().all_rows())>);

TEST(dml_builders, bind_keeps_the_statement) {
  pgorm::connection* none = nullptr;
  if (none != nullptr) {
    const auto bound = pgorm::remove<Tag>().where(col<&Tag::id> == 1).bind(*none);
    static_assert(std::is_same_v<decltype(bound.exec()), std::int64_t>);
  }
  using bound_t = decltype(pgorm::update<Tag>()
                               .set(col<&Tag::label> = "x")
                               .all_rows()
                               .bind(std::declval<pgorm::connection&>()));
  EXPECT_EQ(bound_t::sql(), R"(UPDATE "Shop".tag SET "Label" = $1)");
}

}  // namespace
// clang-format on
