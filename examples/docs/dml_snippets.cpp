// SPDX-License-Identifier: MIT
// The code blocks of docs/dml.md, compiled (never run). Each region between `doc-begin(name)`
// and `doc-end(name)` appears verbatim (dedented) in the page; the static_asserts after a
// region pin the SQL the page quotes. Check with tools/check_docs.py. The struct is at global
// scope (its table_traits specialization must be); this file is never linked with another
// snippet file.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <vector>

#include "pgorm/pgorm.hpp"

/// Stands for whatever the application does with a value.
template <class... T>
void use(const T&... /*values*/) {}

// doc-begin(schema)
struct User {  // {} on every field: designated initializers may leave any of them out
  std::int64_t id{};
  std::string email{};
  std::optional<std::string> name{};
  pgorm::defaulted<std::string> role{};               // the column default unless set
  pgorm::defaulted<pgorm::timestamptz> created_at{};  // the column default unless set
};
template <>
struct pgorm::table_traits<User> {
  static constexpr std::string_view name = "users";
  static constexpr auto primary_key = pgorm::identity(&User::id);
  static constexpr auto unique = pgorm::columns(&User::email);
  static constexpr auto defaults = pgorm::defaults(pgorm::default_sql(&User::created_at, "now()"),
                                                   pgorm::default_value(&User::role, "member"));
};
using pgorm::col;

// One row. The SQL is fixed at compile time:
static_assert(decltype(pgorm::insert(User{}))::sql() ==
              "INSERT INTO users (email, name, role, created_at) VALUES ($1, $2, "
              "coalesce($3, 'member'), coalesce($4, now()))");
// doc-end(schema)

// doc-begin(defaults)
// The seed app's table: "isActive" boolean DEFAULT true, "bio" text DEFAULT '(none)'.
struct Member {
  std::string id{};
  bool is_active{};                                    // always written, false included
  pgorm::defaulted<std::optional<std::string>> bio{};  // NULL, a value, or the default
  pgorm::defaulted<pgorm::timestamptz> joined_at{};    // a value or the default
};
template <>
struct pgorm::table_traits<Member> {
  using naming = pgorm::naming::camel_case;
  static constexpr auto primary_key = pgorm::key(&Member::id);
  static constexpr auto defaults = pgorm::defaults(pgorm::default_value(&Member::is_active, true),
                                                   pgorm::default_value(&Member::bio, "(none)"),
                                                   pgorm::default_sql(&Member::joined_at, "now()"));
};
static_assert(decltype(pgorm::insert(Member{}))::sql() ==
              R"(INSERT INTO member (id, "isActive", bio, "joinedAt") VALUES ($1, $2, )"
              R"(CASE WHEN $3 THEN '(none)' ELSE $4 END, coalesce($5, now())))");

void member_examples(pgorm::connection& conn) {
  pgorm::insert(Member{.id = "m1", .is_active = false}).exec(conn);   // isActive = false
  pgorm::insert(Member{.id = "m2", .bio = std::nullopt}).exec(conn);  // bio = NULL
  pgorm::insert(Member{.id = "m3"}).exec(conn);                       // false, '(none)', now()
  Member m = pgorm::insert(Member{.id = "m4", .bio = pgorm::use_default})
                 .returning_all()
                 .one(conn);  // reading fills in every value:
  use(m.bio.value(), *m.joined_at, m.joined_at.has_value());
  // The column's value type is T: compare and assign it as such.
  // clang-format off
  pgorm::update<Member>().set(pgorm::col<&Member::bio> = "hi")
      .where(pgorm::col<&Member::is_active> == false).exec(conn);
  // clang-format on
}
// doc-end(defaults)

// doc-begin(examples)
void examples(pgorm::connection& conn, std::vector<User> users, std::int64_t id,
              std::optional<std::string> role) {
  // clang-format off
  User u = pgorm::insert(User{.email = "ada@example.com"}).returning_all().one(conn);
  // u.id, u.role == "member" and u.created_at come from the server.

  // Many rows in one statement, ids back in VALUES order:
  auto ids = pgorm::insert(users).returning(col<&User::id>).all(conn);  // vector<tuple<int64_t>>

  // Upserts:
  pgorm::insert(users).on_conflict(col<&User::email>).do_nothing().exec(conn);  // skips: uncounted
  pgorm::insert(users)
      .on_conflict(col<&User::email>)
      .do_update(col<&User::name> = pgorm::excluded<&User::name>)
      .where(col<&User::name>.is_null())  // only fill in missing names
      .exec(conn);

  // UPDATE and DELETE:
  static_assert(decltype(pgorm::update<User>().set(col<&User::name> = "x")
                             .where(col<&User::id> == 1))::sql() ==
                "UPDATE users SET name = $1 WHERE id = $2");
  auto n = pgorm::update<User>()
               .set(col<&User::role> = "admin")
               .where(col<&User::id> == id)
               .exec(conn);  // rows updated
  auto [gone] = pgorm::remove<User>()
                    .where(col<&User::id> == id)
                    .returning(col<&User::email>)
                    .one(conn);  // std::tuple<std::string>
  pgorm::remove<User>().all_rows().exec(conn);  // explicit: every row

  // Conditions chosen at run time (the SQL is then rendered at run time):
  pgorm::filter<User> f;
  if (role) f &= col<&User::role> == *role;
  pgorm::update<User>().set(col<&User::name> = std::nullopt).where(f).exec(conn);

  // Bound builders:
  auto stmt = pgorm::remove<User>().where(col<&User::id> == 7).bind(conn);
  stmt.exec();
  // clang-format on
  use(u, ids, n, gone);
}
// doc-end(examples)
static_assert(std::is_same_v<decltype(pgorm::insert(std::vector<User>{})
                                          .returning(col<&User::id>)
                                          .all(std::declval<pgorm::connection&>())),
                             std::vector<std::tuple<std::int64_t>>>);
