// SPDX-License-Identifier: MIT
// An application's own migrations CLI (docs/migrations.md, "Your own migrations CLI"): the
// `pgorm` CLI cannot see your structs, so the verbs that need them (generate, check, diff, push)
// come from one call in a small program of yours that lists them.
//
//   migrate_app generate "add users"   diff the structs against ./migrations replayed into a
//                                      throwaway server; write 0001_add_users.sql
//   migrate_app apply                  apply ./migrations to $DATABASE_URL, one by one
//   migrate_app status                 exit 0 up to date, 3 pending, 1 failed/changed/missing
//   migrate_app check                  exit 1 when $DATABASE_URL differs from the structs
//   migrate_app help                   every verb and option
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "pgorm/migrate_cli.hpp"
#include "pgorm/types.hpp"

namespace app {

enum class role : std::uint8_t { member, admin };

struct User {
  std::int64_t id;
  std::string email;
  std::optional<std::string> name;
  bool email_verified;
  role kind;
  pgorm::timestamptz created_at;
};

struct Session {
  std::int64_t id;
  std::int64_t user_id;
  std::string token;
  pgorm::timestamptz expires_at;
  std::optional<pgorm::timestamptz> revoked_at;
};

}  // namespace app

// A PostgreSQL enum type: generate writes its CREATE TYPE before the table that uses it.
template <>
struct pgorm::enum_traits<app::role> {
  static constexpr std::string_view type_name = "user_role";
  static constexpr std::array values{std::pair{app::role::member, "member"},
                                     std::pair{app::role::admin, "admin"}};
};

template <>
struct pgorm::table_traits<app::User> {
  static constexpr std::string_view name = "users";
  static constexpr auto primary_key = pgorm::identity(&app::User::id);
  static constexpr auto renames = pgorm::rename(&app::User::email_verified, "emailVerified");
  static constexpr auto defaults =
      pgorm::defaults(pgorm::default_value(&app::User::email_verified, false),
                      pgorm::default_sql(&app::User::kind, "'member'"),
                      pgorm::default_sql(&app::User::created_at, "now()"));
  static constexpr auto unique = pgorm::columns(&app::User::email);
};

template <>
struct pgorm::table_traits<app::Session> {
  static constexpr std::string_view name = "sessions";
  static constexpr auto primary_key = pgorm::identity(&app::Session::id);
  static constexpr auto unique = pgorm::columns(&app::Session::token);
  static constexpr auto foreign_keys =
      pgorm::foreign_keys(pgorm::foreign_key(&app::Session::user_id, &app::User::id)
                              .on_delete(pgorm::fk_action::cascade));
  static constexpr auto indexes = pgorm::indexes(
      pgorm::index(&app::Session::user_id, &app::Session::expires_at).where("revoked_at IS NULL"));
};

// Every table of the application, in one place: the whole program.
int main(int argc, char** argv) {
  return pgorm::migrate::main<app::User, app::Session>(argc, argv);
}
