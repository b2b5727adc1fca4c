// SPDX-License-Identifier: MIT
#pragma once

/// \file
/// pgorm::migrate::main<T...>(argc, argv): turns a program's `main` into a migrations CLI over
/// the structs it lists, with the verbs of Prisma's `migrate` and drizzle-kit: `generate NAME`
/// (replays the migrations into a throwaway shadow server, diffs the structs against it and
/// writes the next numbered SQL file), `apply`/`deploy`, `status`, `check`/`diff`, `resolve`,
/// `baseline`, `new`, `reset` and `push`. See docs/migrations.md, "Your own migrations CLI".
///
/// Only the list of types is compiled in the program; the verbs live in the library. The
/// shadow server of `generate` is a pgorm::testing::server, so link pgorm::testing too (or
/// pass `--shadow-url` to use a disposable database of yours; without pgorm::testing installed,
/// generate needs it).
///
/// ```cpp
/// int main(int argc, char** argv) { return pgorm::migrate::main<User, Session>(argc, argv); }
/// ```

#include <cstdio>
#include <exception>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>

#include "pgorm/export.hpp"
#include "pgorm/migrate.hpp"
#include "pgorm/schema.hpp"
// Installed without pgorm::testing (PGORM_BUILD_TESTING=OFF), generate needs --shadow-url.
#if __has_include("pgorm/testing/server.hpp")
#include "pgorm/testing/server.hpp"
#define PGORM_MIGRATE_CLI_SHADOW_SERVER 1
#else
#define PGORM_MIGRATE_CLI_SHADOW_SERVER 0
#endif

namespace pgorm::migrate {

/// Where main() writes: its report (progress, status, JSON) to `out`, errors and warnings to
/// `err`. stdout and stderr by default; a test may pass open_memstream() files.
///
/// Example: `pgorm::migrate::main<User>(argc, argv, {.out = stdout, .err = stdout});`
struct cli_streams {
  std::FILE* out = stdout;  ///< the report
  std::FILE* err = stderr;  ///< errors and warnings
};

namespace detail {

/// Exit codes shared by the `pgorm` CLI and main<T...>() (docs/migrations.md).
inline constexpr int exit_ok = 0;
inline constexpr int exit_failure = 1;
inline constexpr int exit_usage = 2;
inline constexpr int exit_pending = 3;

/// The parsed options both CLIs share, and how to name themselves in messages.
struct cli_settings {
  std::string database_url;
  bool database_url_on_command_line = false;
  std::string dir = "migrations";
  bool dir_on_command_line = false;
  /// The migrations compiled into the program (main<T...>(argc, argv, set)), set only when
  /// --dir did not name a directory: what apply, status, resolve and baseline read.
  const embedded_migrations* embedded = nullptr;
  bool json = false;
  std::string tracking_table = "pgorm_migrations";
  std::string tracking_schema;
  double connect_timeout = 5;
  double lock_timeout = 10;
  double timeout = 0;
  std::string program = "pgorm";                      ///< "pgorm: error: ..."
  std::string apply_command = "pgorm migrate apply";  ///< what status suggests
  std::string url_option = "--database-url";          ///< the URL's option, for warnings
  cli_streams io{};
};

/// Where the settings' migrations come from: the embedded set when there is one, else the
/// directory.
PGORM_API migration_source cli_source(const cli_settings& s);
/// The runner's options from the settings.
PGORM_API options cli_options(const cli_settings& s);
/// Connects with the settings' URL and connect timeout.
PGORM_API connection cli_connect(const cli_settings& s);
/// The verbs that need no structs, shared by the `pgorm` CLI and main<T...>(): each prints its
/// report (text or JSON) and returns the exit code; errors are printed, not thrown.
PGORM_API int cli_apply(const cli_settings& s);
PGORM_API int cli_status(const cli_settings& s);
PGORM_API int cli_resolve(const cli_settings& s, std::string_view version, resolution how);
PGORM_API int cli_baseline(const cli_settings& s, std::string_view version);
PGORM_API int cli_new(const cli_settings& s, std::string_view name, bool timestamp);
/// Prints an error (text on err with the file:line of a failed migration, or one JSON object).
PGORM_API void cli_print_error(const cli_settings& s, const std::exception& e);
/// Prints a usage error and returns exit_usage.
PGORM_API int cli_usage_error(const cli_settings& s, std::string_view message);
/// Warns on err when a URL given on the command line carries a password.
PGORM_API void cli_warn_password(const cli_settings& s);

/// A throwaway database for `generate`: `owner` keeps its server alive.
struct shadow_database {
  std::shared_ptr<void> owner;
  std::string conninfo;
};

/// The structs of main<T...>() and how to start a shadow server.
struct cli_schema {
  std::span<const schema::detail::table_spec> tables;
  shadow_database (*start_shadow)() = nullptr;
  const embedded_migrations* embedded = nullptr;  ///< main<T...>(argc, argv, set)
};

/// main<T...>() after the type-level part.
PGORM_API int run_schema_cli(int argc, const char* const* argv, const cli_schema& schema,
                             const cli_streams& io);

#if PGORM_MIGRATE_CLI_SHADOW_SERVER
inline shadow_database start_shadow_server() {
  auto pg = std::make_shared<pgorm::testing::server>();
  std::string conninfo = pg->conninfo();
  return {std::move(pg), std::move(conninfo)};
}
inline constexpr shadow_database (*default_shadow)() = &start_shadow_server;
#else
inline constexpr shadow_database (*default_shadow)() = nullptr;
#endif

}  // namespace detail

/// A migrations CLI over the tables T...: call it from your program's main. Verbs (run with
/// `help` for the options):
///
/// - `generate NAME`: replay the migrations of `--dir` (default `migrations`) into a throwaway
///   shadow server (or the disposable database `--shadow-url`), diff T... against it and write
///   what differs as the next NNNN_name.sql; exit 0 with "no changes" when nothing differs.
/// - `apply` / `deploy`: apply the pending migrations, reporting each as it goes.
/// - `status`: list the migrations; exit 0 up to date, 3 only pending, 1 failed/changed/missing.
/// - `check` / `diff`: compare the live database with T... (a report / the SQL); exit 1 on drift.
/// - `resolve --applied V` / `--rolled-back V`, `baseline V`, `new NAME`: as `pgorm migrate`.
/// - `reset --force`: drop everything in the database's schemas, then apply every migration
///   (development only).
/// - `push`: apply the diff to the live database directly, without a migration file
///   (development; `--accept-data-loss` for destructive changes).
///
/// The database comes from `--url` or env DATABASE_URL; `--connect-timeout` (5 s) bounds the
/// connection attempt. `--json` makes stdout one JSON object. Returns the exit code: 0 ok,
/// 1 failure or drift, 2 usage, 3 pending (status).
///
/// Example:
/// ```
/// int main(int argc, char** argv) { return pgorm::migrate::main<User, Session>(argc, argv); }
/// ```
template <class... T>
int main(int argc, char** argv, cli_streams io = {}) {
  if constexpr (schema::detail::check_table_list<T...>()) {
    const schema::detail::table_spec specs[] = {schema::detail::spec_of<T>()...};
    return detail::run_schema_cli(argc, argv, {specs, detail::default_shadow, nullptr}, io);
  } else {
    return detail::exit_usage;
  }
}

/// main<T...>() over the migrations compiled into the program (pgorm_embed_migrations()), so
/// that a deployed binary needs no migrations directory: apply/deploy, status, resolve,
/// baseline and reset read `migrations` (checksums as recorded at build time) unless `--dir`
/// names a directory. generate and new write files, so they work on a directory: `--dir`, or
/// by default the one the set was made from (its `directory`), which must exist.
///
/// Example:
/// ```
/// int main(int argc, char** argv) {
///   return pgorm::migrate::main<User, Session>(argc, argv, app::migrations());
/// }
/// ```
template <class... T>
int main(int argc, char** argv, const embedded_migrations& migrations, cli_streams io = {}) {
  if constexpr (schema::detail::check_table_list<T...>()) {
    const schema::detail::table_spec specs[] = {schema::detail::spec_of<T>()...};
    return detail::run_schema_cli(argc, argv, {specs, detail::default_shadow, &migrations}, io);
  } else {
    return detail::exit_usage;
  }
}

}  // namespace pgorm::migrate
