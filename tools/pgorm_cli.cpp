// SPDX-License-Identifier: MIT
// `pgorm`: the migration runner on the command line (docs/migrations.md).
//
//   pgorm migrate apply    [--database-url URL] [--dir migrations] [--json]
//   pgorm migrate status   [--database-url URL] [--dir migrations] [--json]
//   pgorm migrate baseline VERSION [--database-url URL] [--dir migrations] [--json]
//   pgorm migrate new NAME [--dir migrations] [--timestamp] [--json]
//   pgorm --version
//
// Exit codes: 0 success; 1 failure (a migration failed, a file changed after it was applied,
// status found failed/changed migrations, the database is unreachable); 2 usage (bad
// arguments, no database URL).
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "pgorm/connection.hpp"
#include "pgorm/migrate.hpp"
#include "pgorm/version.hpp"

namespace {

constexpr int exit_ok = 0;
constexpr int exit_failure = 1;
constexpr int exit_usage = 2;

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

struct settings {
  std::string database_url;
  std::string dir = "migrations";
  bool json = false;
  std::string tracking_table = "pgorm_migrations";
  std::string tracking_schema;
};

pgorm::migrate::options migrate_options(const settings& s) {
  return {.tracking_table = s.tracking_table, .tracking_schema = s.tracking_schema};
}

std::string status_json(const pgorm::migrate::migration_status& m) {
  return fmt::format(
      R"({{"version":{},"name":{},"file":{},"state":{},"checksum":{},"recorded_checksum":{},)"
      R"("applied_at":{},"duration_ms":{}}})",
      json_string(m.version), json_string(m.name), json_string(m.file),
      json_string(pgorm::migrate::to_string(m.state)), json_string(m.checksum),
      json_string(m.recorded_checksum), m.applied_at ? json_string(*m.applied_at) : "null",
      m.duration_ms ? std::to_string(*m.duration_ms) : "null");
}

void print_error(const settings& s, const std::exception& e) {
  if (s.json) {
    std::string file;
    if (const auto* m = dynamic_cast<const pgorm::migration_error*>(&e)) file = m->file();
    std::printf("{\"ok\":false,\"error\":%s,\"file\":%s}\n", json_string(e.what()).c_str(),
                json_string(file).c_str());
  } else {
    std::fprintf(stderr, "pgorm: error: %s\n", e.what());
  }
}

int run_status(const settings& s) {
  pgorm::connection conn{s.database_url};
  const auto list = pgorm::migrate::status(conn, s.dir, migrate_options(s));
  bool bad = false;
  for (const auto& m : list) {
    bad = bad || m.state == pgorm::migrate::state::failed ||
          m.state == pgorm::migrate::state::changed;
  }
  if (s.json) {
    std::string items;
    for (const auto& m : list) items += (items.empty() ? "" : ",") + status_json(m);
    std::printf("{\"ok\":%s,\"migrations\":[%s]}\n", bad ? "false" : "true", items.c_str());
  } else {
    if (list.empty()) std::printf("no migrations in %s\n", s.dir.c_str());
    for (const auto& m : list) {
      std::printf(
          "%-8s %s%s\n", std::string(pgorm::migrate::to_string(m.state)).c_str(),
          m.file.empty() ? (m.version + "_" + m.name).c_str() : m.file.c_str(),
          m.applied_at
              ? fmt::format("  (at {}, {} ms)", *m.applied_at, m.duration_ms.value_or(0)).c_str()
              : "");
    }
  }
  return bad ? exit_failure : exit_ok;
}

int run_apply(const settings& s) {
  pgorm::connection conn{s.database_url};
  const auto ran = pgorm::migrate::apply(conn, s.dir, migrate_options(s));
  if (s.json) {
    std::string items;
    for (const auto& m : ran) {
      items += fmt::format("{}{{\"version\":{},\"name\":{},\"file\":{},\"duration_ms\":{}}}",
                           items.empty() ? "" : ",", json_string(m.version), json_string(m.name),
                           json_string(m.file), m.duration.count());
    }
    std::printf("{\"ok\":true,\"applied\":[%s]}\n", items.c_str());
  } else if (ran.empty()) {
    std::printf("nothing to apply: the database is up to date\n");
  } else {
    for (const auto& m : ran) {
      std::printf("applied  %s (%lld ms)\n", m.file.c_str(),
                  static_cast<long long>(m.duration.count()));
    }
    std::printf("%zu migration(s) applied\n", ran.size());
  }
  return exit_ok;
}

int run_baseline(const settings& s, const std::string& version) {
  pgorm::connection conn{s.database_url};
  const auto marked = pgorm::migrate::baseline(conn, s.dir, version, migrate_options(s));
  if (s.json) {
    std::string items;
    for (const auto& m : marked) items += (items.empty() ? "" : ",") + status_json(m);
    std::printf("{\"ok\":true,\"baselined\":[%s]}\n", items.c_str());
  } else {
    for (const auto& m : marked) std::printf("baseline %s\n", m.file.c_str());
    std::printf("%zu migration(s) marked as applied up to %s\n", marked.size(), version.c_str());
  }
  return exit_ok;
}

int run_new(const settings& s, const std::string& name, bool timestamp) {
  const auto path = pgorm::migrate::create(s.dir, name, {.timestamp = timestamp, .sql = {}});
  if (s.json) {
    std::printf("{\"ok\":true,\"file\":%s}\n", json_string(path.string()).c_str());
  } else {
    std::printf("created %s\n", path.string().c_str());
  }
  return exit_ok;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "pgorm: PostgreSQL migrations (docs/migrations.md). Exit codes: 0 ok, 1 failure, "
      "2 usage.",
      "pgorm"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "pgorm " PGORM_VERSION_STRING, "Print the version and exit");
  settings s;
  std::string version;
  std::string name;
  bool timestamp = false;

  auto* migrate = app.add_subcommand("migrate", "Apply and inspect versioned SQL migrations");
  migrate->require_subcommand(1);
  const auto common = [&](CLI::App* cmd, bool needs_database) {
    if (needs_database) {
      cmd->add_option("--database-url", s.database_url,
                      "libpq connection string or URL (default: env DATABASE_URL)")
          ->envname("DATABASE_URL");
      cmd->add_option("--table", s.tracking_table, "tracking table (default pgorm_migrations)");
      cmd->add_option("--schema", s.tracking_schema,
                      "schema of the tracking table (default: the search_path's first)");
    }
    cmd->add_option("--dir", s.dir, "directory of NNNN_name.sql files (default migrations)");
    cmd->add_flag("--json", s.json, "print JSON instead of text");
  };
  auto* apply = migrate->add_subcommand("apply", "Apply pending migrations in version order");
  common(apply, true);
  auto* status = migrate->add_subcommand(
      "status", "List migrations as applied, pending, failed, changed or missing");
  common(status, true);
  auto* baseline = migrate->add_subcommand(
      "baseline", "Mark migrations up to VERSION as applied without running them");
  common(baseline, true);
  baseline->add_option("version", version, "the last version to mark, e.g. 0004")->required();
  auto* create = migrate->add_subcommand("new", "Create the next migration file NNNN_<name>.sql");
  common(create, false);
  create->add_option("name", name, "what the migration does, e.g. \"add users\"")->required();
  create->add_flag("--timestamp", timestamp, "name it YYYYMMDDHHMMSS_<name>.sql");

  try {
    app.parse(argc, argv);
  } catch (const CLI::Success& e) {
    return app.exit(e);  // --help
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return exit_usage;
  }

  const bool needs_database = !create->parsed();
  if (needs_database && s.database_url.empty()) {
    std::fprintf(stderr, "pgorm: error: no database: pass --database-url or set DATABASE_URL\n");
    return exit_usage;
  }
  try {
    if (apply->parsed()) return run_apply(s);
    if (status->parsed()) return run_status(s);
    if (baseline->parsed()) return run_baseline(s, version);
    if (create->parsed()) return run_new(s, name, timestamp);
  } catch (const pgorm::error& e) {
    print_error(s, e);
    return exit_failure;
  } catch (const std::exception& e) {
    print_error(s, e);
    return exit_failure;
  }
  return exit_usage;
}
