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
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "pgorm/connection.hpp"
#include "pgorm/migrate.hpp"
#include "pgorm/version.hpp"

namespace {

namespace migrate = pgorm::migrate;

constexpr int exit_ok = 0;
constexpr int exit_failure = 1;
constexpr int exit_usage = 2;
constexpr int exit_pending = 3;

std::string json_string(std::string_view text) {
  std::string out = "\"";
  for (char c : text) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          out += fmt::format("\\u{:04x}", static_cast<unsigned>(static_cast<unsigned char>(c)));
        } else {
          out += c;
        }
    }
  }
  out += '"';
  return out;
}

std::string json_int_or_null(int value) { return value > 0 ? std::to_string(value) : "null"; }

std::chrono::milliseconds from_seconds(double seconds) {
  return std::chrono::milliseconds(static_cast<std::int64_t>(std::llround(seconds * 1000.0)));
}

struct settings {
  std::string database_url;
  bool database_url_on_command_line = false;
  std::string dir = "migrations";
  bool json = false;
  std::string tracking_table = "pgorm_migrations";
  std::string tracking_schema;
  double connect_timeout = 5;
  double lock_timeout = 10;
  double timeout = 0;
};

migrate::options migrate_options(const settings& s) {
  migrate::options o;
  o.tracking_table = s.tracking_table;
  o.tracking_schema = s.tracking_schema;
  o.timeout = from_seconds(s.timeout);
  o.lock_timeout = from_seconds(s.lock_timeout);
  return o;
}

pgorm::connection connect(const settings& s) {
  pgorm::connect_options o;
  // At least 1 ms: a zero would mean "the URL's connect_timeout, else none".
  o.connect_timeout = std::max(from_seconds(s.connect_timeout), std::chrono::milliseconds(1));
  return pgorm::connection{s.database_url, o};
}

std::string applied_json(const std::vector<migrate::applied_migration>& list) {
  std::string items;
  for (const auto& m : list) {
    items += fmt::format("{}{{\"version\":{},\"name\":{},\"file\":{},\"duration_ms\":{}}}",
                         items.empty() ? "" : ",", json_string(m.version), json_string(m.name),
                         json_string(m.file), m.duration.count());
  }
  return "[" + items + "]";
}

std::string status_json(const migrate::migration_status& m) {
  return fmt::format(
      R"({{"version":{},"name":{},"file":{},"state":{},"checksum":{},"recorded_checksum":{},)"
      R"("applied_at":{},"duration_ms":{}}})",
      json_string(m.version), json_string(m.name), json_string(m.file),
      json_string(migrate::to_string(m.state)), json_string(m.checksum),
      json_string(m.recorded_checksum), m.applied_at ? json_string(*m.applied_at) : "null",
      m.duration_ms ? std::to_string(*m.duration_ms) : "null");
}

// What a run did before an error: filled in as apply() reports progress.
struct run_log {
  std::vector<migrate::applied_migration> applied;
  std::size_t planned = 0;
  bool started = false;
};

std::string kind_of(const std::exception& e) {
  if (dynamic_cast<const pgorm::migration_lock_timeout*>(&e) != nullptr) return "lock_timeout";
  if (dynamic_cast<const pgorm::migration_error*>(&e) != nullptr) return "migration";
  if (dynamic_cast<const pgorm::connection_error*>(&e) != nullptr) return "connection";
  if (dynamic_cast<const pgorm::sql_error*>(&e) != nullptr) return "sql";
  if (dynamic_cast<const pgorm::usage_error*>(&e) != nullptr) return "usage";
  return "error";
}

void print_error(const settings& s, const std::exception& e, const run_log* log = nullptr) {
  const auto* m = dynamic_cast<const pgorm::migration_error*>(&e);
  std::string path;
  if (m != nullptr && !m->file().empty()) {
    path = (std::filesystem::path(s.dir) / m->file()).string();
  }
  if (s.json) {
    std::string out = fmt::format(R"({{"ok":false,"exit_code":{},"kind":{},"error":{})",
                                  exit_failure, json_string(kind_of(e)), json_string(e.what()));
    if (m != nullptr) {
      out += fmt::format(R"(,"file":{},"path":{},"version":{},"line":{},"column":{},"sqlstate":{},)"
                         R"("message":{},"hint":{})",
                         json_string(m->file()), json_string(path), json_string(m->version()),
                         json_int_or_null(m->line()), json_int_or_null(m->column()),
                         json_string(m->sqlstate()), json_string(m->details().message),
                         json_string(m->hint()));
    }
    if (log != nullptr) out += ",\"applied\":" + applied_json(log->applied);
    std::printf("%s}\n", out.c_str());
    return;
  }
  std::string_view what = e.what();
  if (what.substr(0, 7) == "pgorm: ") what.remove_prefix(7);  // pgorm's errors say it already
  std::fprintf(stderr, "pgorm: error: %.*s\n", static_cast<int>(what.size()), what.data());
  if (m != nullptr && m->line() > 0) {
    std::fprintf(stderr, "  --> %s:%d%s\n", path.c_str(), m->line(),
                 m->column() > 0 ? fmt::format(":{}", m->column()).c_str() : "");
  }
  if (log != nullptr && log->started) {
    if (log->applied.empty()) {
      std::fprintf(stderr, "pgorm: nothing was applied in this run\n");
    } else {
      std::string files;
      for (const auto& a : log->applied) files += (files.empty() ? "" : ", ") + a.file;
      std::fprintf(stderr,
                   "pgorm: %zu of %zu migration(s) were applied in this run before it: %s\n",
                   log->applied.size(), log->planned, files.c_str());
    }
  }
}

int run_status(const settings& s) {
  pgorm::connection conn = connect(s);
  const auto list = migrate::status(conn, s.dir, migrate_options(s));
  const migrate::status_summary sum = migrate::summarize(list);
  const int code = sum.needs_attention() ? exit_failure : sum.up_to_date() ? exit_ok : exit_pending;
  if (s.json) {
    std::string items;
    for (const auto& m : list) items += (items.empty() ? "" : ",") + status_json(m);
    std::printf(
        "{\"ok\":%s,\"exit_code\":%d,\"up_to_date\":%s,\"summary\":{\"applied\":%zu,"
        "\"pending\":%zu,\"failed\":%zu,\"changed\":%zu,\"missing\":%zu},\"migrations\":[%s]}\n",
        code == exit_ok ? "true" : "false", code, sum.up_to_date() ? "true" : "false", sum.applied,
        sum.pending, sum.failed, sum.changed, sum.missing, items.c_str());
    return code;
  }
  if (list.empty()) std::printf("no migrations in %s\n", s.dir.c_str());
  for (const auto& m : list) {
    std::printf(
        "%-8s %s%s\n", std::string(migrate::to_string(m.state)).c_str(),
        m.file.empty() ? (m.version + "_" + m.name).c_str() : m.file.c_str(),
        m.applied_at
            ? fmt::format("  (at {}, {} ms)", *m.applied_at, m.duration_ms.value_or(0)).c_str()
            : "");
  }
  std::string counts;
  const auto count = [&counts](std::size_t n, std::string_view what) {
    if (n > 0) counts += fmt::format("{}{} {}", counts.empty() ? "" : ", ", n, what);
  };
  count(sum.applied, "applied");
  count(sum.pending, "pending");
  count(sum.failed, "failed");
  count(sum.changed, "changed");
  count(sum.missing, "missing");
  if (code == exit_ok) {
    std::printf("up to date%s%s\n", counts.empty() ? "" : ": ", counts.c_str());
  } else if (code == exit_pending) {
    std::printf("not up to date: %s (`pgorm migrate apply` applies them)\n", counts.c_str());
  } else {
    std::printf(
        "needs attention: %s (a failed migration is retried by apply once fixed, or "
        "`resolve --rolled-back`; a changed file must be restored; a missing one put back)\n",
        counts.c_str());
  }
  return code;
}

int run_apply(const settings& s) {
  pgorm::connection conn = connect(s);
  run_log log;
  migrate::options opts = migrate_options(s);
  opts.on_progress = [&](const migrate::progress& p) {
    log.started = true;
    log.planned = p.count;
    if (p.kind == migrate::progress_kind::applied) {
      log.applied.push_back(
          {p.migration->version, p.migration->name, p.migration->file, p.duration});
    }
    if (s.json) return;
    switch (p.kind) {
      case migrate::progress_kind::waiting_for_lock:
        std::printf("waiting up to %g s for the migration lock, held by %.*s\n", s.lock_timeout,
                    static_cast<int>(p.detail.size()), p.detail.data());
        break;
      case migrate::progress_kind::starting:
        std::printf("[%zu/%zu] applying %s\n", p.index, p.count, p.migration->file.c_str());
        break;
      case migrate::progress_kind::applied:
        std::printf("[%zu/%zu] applied  %s in %lld ms\n", p.index, p.count,
                    p.migration->file.c_str(), static_cast<long long>(p.duration.count()));
        break;
      case migrate::progress_kind::failed:
        std::printf("[%zu/%zu] FAILED   %s after %lld ms\n", p.index, p.count,
                    p.migration->file.c_str(), static_cast<long long>(p.duration.count()));
        break;
    }
    std::fflush(stdout);
  };
  const auto start = std::chrono::steady_clock::now();
  std::vector<migrate::applied_migration> ran;
  try {
    ran = migrate::apply(conn, s.dir, opts);
  } catch (const std::exception& e) {
    log.started = true;
    print_error(s, e, &log);
    return exit_failure;
  }
  const auto total = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - start);
  if (s.json) {
    std::printf("{\"ok\":true,\"exit_code\":0,\"applied\":%s,\"duration_ms\":%lld}\n",
                applied_json(ran).c_str(), static_cast<long long>(total.count()));
  } else if (ran.empty()) {
    std::printf("nothing to apply: the database is up to date\n");
  } else {
    std::printf("%zu migration(s) applied in %lld ms; the database is at version %s\n", ran.size(),
                static_cast<long long>(total.count()), ran.back().version.c_str());
  }
  return exit_ok;
}

int run_resolve(const settings& s, const std::string& applied, const std::string& rolled_back) {
  const bool mark_applied = !applied.empty();
  const std::string& version = mark_applied ? applied : rolled_back;
  pgorm::connection conn = connect(s);
  const auto st = migrate::resolve(
      conn, s.dir, version,
      mark_applied ? migrate::resolution::applied : migrate::resolution::rolled_back,
      migrate_options(s));
  if (s.json) {
    std::printf("{\"ok\":true,\"exit_code\":0,\"resolved\":%s}\n", status_json(st).c_str());
  } else {
    std::printf("%s %s: now %s\n", mark_applied ? "marked as applied:" : "marked as rolled back:",
                st.file.empty() ? (st.version + "_" + st.name).c_str() : st.file.c_str(),
                std::string(migrate::to_string(st.state)).c_str());
  }
  return exit_ok;
}

int run_baseline(const settings& s, const std::string& version) {
  pgorm::connection conn = connect(s);
  const auto marked = migrate::baseline(conn, s.dir, version, migrate_options(s));
  if (s.json) {
    std::string items;
    for (const auto& m : marked) items += (items.empty() ? "" : ",") + status_json(m);
    std::printf("{\"ok\":true,\"exit_code\":0,\"baselined\":[%s]}\n", items.c_str());
  } else {
    for (const auto& m : marked) std::printf("baseline %s\n", m.file.c_str());
    std::printf("%zu migration(s) marked as applied up to %s\n", marked.size(), version.c_str());
  }
  return exit_ok;
}

int run_new(const settings& s, const std::string& name, bool timestamp) {
  const auto path = migrate::create(s.dir, name, {.timestamp = timestamp, .sql = {}});
  if (s.json) {
    std::printf("{\"ok\":true,\"exit_code\":0,\"file\":%s}\n", json_string(path.string()).c_str());
  } else {
    std::printf("created %s\n", path.string().c_str());
  }
  return exit_ok;
}

// A usage error: plain text on stderr, or with --json one object on stdout.
int usage_error(bool json, const std::string& message) {
  if (json) {
    std::printf("{\"ok\":false,\"exit_code\":%d,\"kind\":\"usage\",\"error\":%s}\n", exit_usage,
                json_string(message).c_str());
  } else {
    std::fprintf(stderr, "pgorm: error: %s\n", message.c_str());
  }
  return exit_usage;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "pgorm: PostgreSQL migrations (docs/migrations.md). Exit codes: 0 ok, 1 failure, "
      "2 usage, 3 status: pending migrations.",
      "pgorm"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "pgorm " PGORM_VERSION_STRING, "Print the version and exit");
  settings s;
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
    if (s.json) return usage_error(true, e.what());
    app.exit(e);
    return exit_usage;
  }

  if (resolve->parsed() && resolve_applied.empty() && resolve_rolled_back.empty()) {
    return usage_error(s.json, "resolve needs --applied VERSION or --rolled-back VERSION");
  }
  const bool needs_database = !create->parsed();
  if (needs_database && s.database_url.empty()) {
    return usage_error(s.json, "no database: set DATABASE_URL (or pass --database-url)");
  }
  if (s.database_url_on_command_line && !pgorm::detail::conninfo_secrets(s.database_url).empty()) {
    std::fprintf(stderr,
                 "pgorm: warning: the password in --database-url is visible to other users of "
                 "this machine (ps, /proc); set DATABASE_URL instead, or use a ~/.pgpass file\n");
  }
  try {
    if (apply->parsed()) return run_apply(s);
    if (status->parsed()) return run_status(s);
    if (resolve->parsed()) return run_resolve(s, resolve_applied, resolve_rolled_back);
    if (baseline->parsed()) return run_baseline(s, version);
    if (create->parsed()) return run_new(s, name, timestamp);
  } catch (const std::exception& e) {
    print_error(s, e);
    return exit_failure;
  }
  return exit_usage;
}
