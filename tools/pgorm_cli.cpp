// SPDX-License-Identifier: MIT
// `pgorm`: the migration runner on the command line (docs/migrations.md).
//
//   pgorm migrate apply    [--dir migrations] [--json] [connection options]
//   pgorm migrate status   [--dir migrations] [--json] [connection options]
//   pgorm migrate resolve  (--applied VERSION | --rolled-back VERSION) [--dir] [--json] [...]
//   pgorm migrate baseline VERSION [--dir migrations] [--json] [connection options]
//   pgorm migrate new NAME [--dir migrations] [--timestamp] [--json]
//   pgorm --version
//
// Connection options: --database-url URL (default: env DATABASE_URL, which keeps the password
// off the command line), --connect-timeout SECONDS (5), --lock-timeout SECONDS (10),
// --timeout SECONDS (per migration; none), --table, --schema.
//
// Exit codes: 0 success (status: up to date); 1 failure (a migration failed, a file changed
// after it was applied, status found failed/changed/missing migrations, the lock timed out,
// the database is unreachable); 2 usage (bad arguments, no database URL); 3 status: only
// pending migrations (`apply` will apply them). With --json, stdout holds one JSON object,
// errors included.
#include <string>
#include <string_view>

#include <CLI/CLI.hpp>

#include "pgorm/migrate.hpp"
#include "pgorm/migrate_cli.hpp"
#include "pgorm/version.hpp"

namespace {

namespace migrate = pgorm::migrate;
namespace cli = pgorm::migrate::detail;  // the verbs, shared with pgorm::migrate::main<T...>()

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "pgorm: PostgreSQL migrations (docs/migrations.md). Exit codes: 0 ok, 1 failure, "
      "2 usage, 3 status: pending migrations.",
      "pgorm"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "pgorm " PGORM_VERSION_STRING, "Print the version and exit");
  cli::cli_settings s;
  std::string version;
  std::string name;
  std::string resolve_applied;
  std::string resolve_rolled_back;
  bool timestamp = false;
  // --json is known before parsing, so that even a usage error comes out as JSON.
  // So is whether the URL came on the command line (CLI11 counts the environment's too).
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--json") s.json = true;
    if (arg == "--database-url" || arg.substr(0, 15) == "--database-url=") {
      s.database_url_on_command_line = true;
    }
  }

  auto* migrate_cmd = app.add_subcommand("migrate", "Apply and inspect versioned SQL migrations");
  migrate_cmd->require_subcommand(1);
  const auto common = [&](CLI::App* cmd, bool needs_database) {
    if (needs_database) {
      cmd->add_option("--database-url", s.database_url,
                      "libpq URL or key=value string (default: env DATABASE_URL; prefer the "
                      "variable: a password on the command line is visible to ps)")
          ->envname("DATABASE_URL");
      cmd->add_option("--connect-timeout", s.connect_timeout,
                      "seconds to wait for the connection (default 5)")
          ->check(CLI::PositiveNumber);
      cmd->add_option("--lock-timeout", s.lock_timeout,
                      "seconds to wait while another runner holds the migration lock "
                      "(default 10; 0: do not wait)")
          ->check(CLI::NonNegativeNumber);
      cmd->add_option("--timeout", s.timeout,
                      "seconds each migration may take (default 0: no limit)")
          ->check(CLI::NonNegativeNumber);
      cmd->add_option("--table", s.tracking_table, "tracking table (default pgorm_migrations)");
      cmd->add_option("--schema", s.tracking_schema,
                      "schema of the tracking table (default: the search_path's first)");
    }
    cmd->add_option("--dir", s.dir, "directory of NNNN_name.sql files (default migrations)");
    cmd->add_flag("--json", s.json, "print one JSON object (errors too) instead of text");
  };
  auto* apply = migrate_cmd->add_subcommand(
      "apply", "Apply pending migrations in version order, reporting each as it goes");
  common(apply, true);
  auto* status = migrate_cmd->add_subcommand(
      "status",
      "List migrations as applied, pending, failed, changed or missing; exit 0 when up to "
      "date, 3 when only pending, 1 otherwise");
  common(status, true);
  auto* resolve = migrate_cmd->add_subcommand(
      "resolve",
      "Mark one migration as applied, or a failed one as rolled back, without "
      "running anything");
  common(resolve, true);
  auto* resolve_applied_opt =
      resolve->add_option("--applied", resolve_applied, "the version applied by hand, e.g. 0004");
  auto* resolve_rolled_back_opt = resolve->add_option(
      "--rolled-back", resolve_rolled_back, "the failed version rolled back by hand, e.g. 0004");
  resolve_applied_opt->excludes(resolve_rolled_back_opt);
  auto* baseline = migrate_cmd->add_subcommand(
      "baseline", "Mark every migration up to VERSION as applied without running them");
  common(baseline, true);
  baseline->add_option("version", version, "the last version to mark, e.g. 0004")->required();
  auto* create =
      migrate_cmd->add_subcommand("new", "Create the next migration file NNNN_<name>.sql");
  common(create, false);
  create->add_option("name", name, "what the migration does, e.g. \"add users\"")->required();
  create->add_flag("--timestamp", timestamp, "name it YYYYMMDDHHMMSS_<name>.sql");

  try {
    app.parse(argc, argv);
  } catch (const CLI::Success& e) {
    return app.exit(e);  // --help, --version
  } catch (const CLI::ParseError& e) {
    if (s.json) return cli::cli_usage_error(s, e.what());
    app.exit(e);
    return cli::exit_usage;
  }

  if (resolve->parsed() && resolve_applied.empty() && resolve_rolled_back.empty()) {
    return cli::cli_usage_error(s, "resolve needs --applied VERSION or --rolled-back VERSION");
  }
  const bool needs_database = !create->parsed();
  if (needs_database && s.database_url.empty()) {
    return cli::cli_usage_error(s, "no database: set DATABASE_URL (or pass --database-url)");
  }
  cli::cli_warn_password(s);
  if (apply->parsed()) return cli::cli_apply(s);
  if (status->parsed()) return cli::cli_status(s);
  if (resolve->parsed()) {
    const bool mark_applied = !resolve_applied.empty();
    return cli::cli_resolve(
        s, mark_applied ? resolve_applied : resolve_rolled_back,
        mark_applied ? migrate::resolution::applied : migrate::resolution::rolled_back);
  }
  if (baseline->parsed()) return cli::cli_baseline(s, version);
  if (create->parsed()) return cli::cli_new(s, name, timestamp);
  return cli::exit_usage;
}
