// SPDX-License-Identifier: MIT
// The code blocks of docs/tables.md, compiled (never run). Each region between
// `doc-begin(name)` and `doc-end(name)` appears verbatim (dedented) in the page; the
// static_asserts after a region pin what the page says about it. Check with
// tools/check_docs.py. The structs are at global scope (their table_traits specializations
// must be); this file is never linked with another snippet file.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "pgorm/pgorm.hpp"

// doc-begin(user)
struct User {
  std::int64_t id;
  std::string email;
  std::optional<std::string> name;
  bool is_email_verified = false;
  std::int32_t age;
  std::string role;
  pgorm::defaulted<pgorm::timestamptz> created_at;  // insert(): now() unless set
};

template <>
struct pgorm::table_traits<User> {
  static constexpr std::string_view name = "users";
  static constexpr auto primary_key = pgorm::identity(&User::id);
  static constexpr auto unique = pgorm::columns(&User::email);
  static constexpr auto renames =
      pgorm::renames(pgorm::rename(&User::is_email_verified, "isEmailVerified"));
  static constexpr auto defaults =
      pgorm::defaults(pgorm::default_sql(&User::created_at, "now()"),  // SQL, copied verbatim
                      pgorm::default_value(&User::age, 0),             // -> 0
                      pgorm::default_value(&User::role, "member"));    // -> 'member'
  static constexpr auto checks = pgorm::checks(pgorm::check("age_positive", "age >= 0"));
};

static_assert(pgorm::table<User>::select_list ==
              R"(id, email, name, "isEmailVerified", age, role, created_at)");
static_assert(pgorm::table<User>::column_of<&User::created_at>().default_sql == "now()");
// doc-end(user)
static_assert(pgorm::table<User>::column_of<&User::role>().default_sql == "'member'");
static_assert(pgorm::table<User>::column_of<&User::age>().default_sql == "0");

// doc-begin(keys)
struct Session {
  std::int64_t id;
  std::int64_t user_id;
  std::string token;
  pgorm::timestamptz expires_at;
};
template <>
struct pgorm::table_traits<Session> {
  static constexpr std::string_view schema = "auth";  // auth.session
  static constexpr auto primary_key =
      pgorm::identity(&Session::id, pgorm::identity_kind::by_default);
  static constexpr auto foreign_keys = pgorm::foreign_keys(
      pgorm::foreign_key(&Session::user_id, &User::id).on_delete(pgorm::fk_action::cascade));
  static constexpr auto indexes = pgorm::indexes(
      pgorm::index(&Session::user_id, &Session::expires_at).where("expires_at > now()"),
      pgorm::index(&Session::token).unique().named("sessions_token_idx"));
};

struct Membership {
  std::int64_t org_id;
  std::int64_t user_id;
  std::string handle;
};
template <>
struct pgorm::table_traits<Membership> {
  static constexpr auto primary_key = pgorm::columns(&Membership::org_id, &Membership::user_id);
  static constexpr auto unique = pgorm::uniques(
      pgorm::columns(&Membership::org_id, &Membership::handle).named("membership_handle_key"));
};

struct Invite {
  std::int64_t org_id;
  std::int64_t user_id;
  std::string email;
};
template <>
struct pgorm::table_traits<Invite> {  // a composite foreign key
  static constexpr auto foreign_keys =
      pgorm::foreign_key(pgorm::columns(&Invite::org_id, &Invite::user_id),
                         pgorm::columns(&Membership::org_id, &Membership::user_id));
};
// doc-end(keys)
static_assert(pgorm::table<Session>::qualified_name == "auth.session");
static_assert(pgorm::table<Membership>::primary_key_columns == "org_id, user_id");
static_assert(pgorm::table<Invite>::foreign_keys.size() == 1);

namespace docs::tables {

template <class... T>
void use(const T&... /*values*/) {}

// doc-begin(find)
void map_columns(const pgorm::result& res) {
  for (int i = 0; i < res.columns(); ++i) {
    if (const pgorm::column_info* c = pgorm::table<User>::find(res.column_name(i))) use(c->index);
  }
}
// doc-end(find)

}  // namespace docs::tables

// doc-begin(naming)
// Better Auth's tables: quoted camelCase columns, in the auth schema, without a rename each.
struct auth_tables {
  static constexpr std::string_view schema = "auth";
  using naming = pgorm::naming::camel_case;
};

struct Account {
  std::string id;
  std::string user_id;
  std::string provider_id;
  std::optional<std::string> access_token;
  pgorm::timestamptz created_at;
};
template <>
struct pgorm::table_traits<Account> : auth_tables {
  static constexpr auto primary_key = pgorm::key(&Account::id);
  static constexpr auto renames = pgorm::rename(&Account::provider_id, "provider");  // wins
};

static_assert(pgorm::table<Account>::select_list ==
              R"(id, "userId", provider, "accessToken", "createdAt")");
static_assert(pgorm::table<Account>::qualified_name == "auth.account");
// doc-end(naming)

// doc-begin(naming_own)
// A policy of your own: a type with a static constexpr write(field, out).
struct upper_snake {
  template <class Out>
  static constexpr void write(std::string_view field, Out& out) {
    for (char c : field) out.append(c >= 'a' && c <= 'z' ? static_cast<char>(c - 32) : c);
  }
};
static_assert(pgorm::naming_policy<upper_snake>);
// doc-end(naming_own)
