// SPDX-License-Identifier: MIT
// An application's own migration tool: the `pgorm` CLI cannot see your structs, so `diff` and
// `check` live in a small program of yours that includes them (docs/migrations.md).
//
//   migrate_app check                 exit 1 when the database and the structs disagree (CI)
//   migrate_app diff                  print the migration SQL that would bring the db in line
//   migrate_app generate "add tags"   write that SQL as the next file of ./migrations
//   migrate_app apply                 apply ./migrations (like `pgorm migrate apply`)
//   migrate_app create                create the tables from the structs (a scratch database)
//
// The database comes from DATABASE_URL; the directory from MIGRATIONS_DIR (default migrations).
// Exit codes as the pgorm CLI: 0 ok, 1 failure or drift, 2 usage.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>

#include "pgorm/connection.hpp"
#include "pgorm/migrate.hpp"
#include "pgorm/schema.hpp"
#include "pgorm/types.hpp"

namespace app {

struct User {
  std::int64_t id;
  std::string email;
  std::optional<std::string> name;
  bool email_verified;
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

template <>
struct pgorm::table_traits<app::User> {
  static constexpr std::string_view name = "users";
  static constexpr auto primary_key = pgorm::identity(&app::User::id);
  static constexpr auto renames = pgorm::rename(&app::User::email_verified, "emailVerified");
  static constexpr auto defaults =
      pgorm::defaults(pgorm::default_value(&app::User::email_verified, false),
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

namespace {

// Every table of the application, in one place.
pgorm::schema::diff_result diff(pgorm::connection& conn) {
  return pgorm::schema::diff<app::User, app::Session>(conn);
}

int usage() {
  std::fputs(
      "usage: migrate_app check | diff | generate NAME | apply | create\n"
      "  (DATABASE_URL names the database, MIGRATIONS_DIR the directory)\n",
      stderr);
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) return usage();
  const std::string_view command = argv[1];
  const char* url = std::getenv("DATABASE_URL");
  const char* dir_env = std::getenv("MIGRATIONS_DIR");
  const std::string dir = dir_env != nullptr && *dir_env != '\0' ? dir_env : "migrations";
  if (url == nullptr || *url == '\0') {
    std::fputs("migrate_app: set DATABASE_URL\n", stderr);
    return 2;
  }
  try {
    pgorm::connection conn{url};
    if (command == "check") {
      const auto d = diff(conn);
      std::fputs(d.report().c_str(), d.in_sync() ? stdout : stderr);
      return d.in_sync() ? 0 : 1;
    }
    if (command == "diff") {
      const auto d = diff(conn);
      std::fputs(d.in_sync() ? "-- in sync\n" : d.sql().c_str(), stdout);
      return 0;
    }
    if (command == "generate" && argc == 3) {
      const auto d = diff(conn);
      if (d.in_sync()) {
        std::puts("in sync: no migration written");
        return 0;
      }
      const auto path = d.write_migration(dir, argv[2]);
      std::printf("wrote %s%s\n", path.string().c_str(),
                  d.destructive() ? " (REVIEW: it contains destructive changes)" : "");
      return 0;
    }
    if (command == "apply") {
      for (const auto& m : pgorm::migrate::apply(conn, dir)) {
        std::printf("applied %s\n", m.file.c_str());
      }
      return 0;
    }
    if (command == "create") {
      pgorm::schema::create<app::User, app::Session>(conn, {.if_not_exists = true});
      return 0;
    }
  } catch (const pgorm::error& e) {
    std::fprintf(stderr, "migrate_app: %s\n", e.what());
    return 1;
  }
  return usage();
}
