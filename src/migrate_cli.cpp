// SPDX-License-Identifier: MIT
// The migrations CLI, compiled once: the verbs that need no structs (shared by tools/pgorm_cli.cpp
// and pgorm::migrate::main<T...>()), and main<T...>()'s own parser and schema verbs (generate,
// check, diff, push, reset). docs/migrations.md describes both.
#include "pgorm/migrate_cli.hpp"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <initializer_list>
#include <iterator>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include <fmt/format.h>

#include "pgorm/connection.hpp"
#include "pgorm/transaction.hpp"
#include "pgorm/version.hpp"

namespace pgorm::migrate::detail {

namespace {

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

std::string applied_json(const std::vector<applied_migration>& list) {
  std::string items;
  for (const auto& m : list) {
    items += fmt::format("{}{{\"version\":{},\"name\":{},\"file\":{},\"duration_ms\":{}}}",
                         items.empty() ? "" : ",", json_string(m.version), json_string(m.name),
                         json_string(m.file), m.duration.count());
  }
  return "[" + items + "]";
}

std::string status_json(const migration_status& m) {
  return fmt::format(
      R"({{"version":{},"name":{},"file":{},"state":{},"checksum":{},"recorded_checksum":{},)"
      R"("applied_at":{},"duration_ms":{}}})",
      json_string(m.version), json_string(m.name), json_string(m.file),
      json_string(to_string(m.state)), json_string(m.checksum), json_string(m.recorded_checksum),
      m.applied_at ? json_string(*m.applied_at) : "null",
      m.duration_ms ? std::to_string(*m.duration_ms) : "null");
}

/// The statuses as the items of a JSON array, comma-separated, without the brackets.
std::string status_json_items(const std::vector<migration_status>& list) {
  std::string items;
  for (const auto& m : list) {
    if (!items.empty()) items += ',';
    items += status_json(m);
  }
  return items;
}

std::string changes_json(const schema::diff_result& d) {
  std::string items;
  for (const auto& c : d.changes) {
    items += fmt::format(
        R"({}{{"kind":{},"table":{},"object":{},"description":{},"sql":{},"destructive":{}}})",
        items.empty() ? "" : ",", json_string(schema::to_string(c.kind)), json_string(c.table),
        json_string(c.object), json_string(c.description), json_string(c.sql),
        c.destructive ? "true" : "false");
  }
  return "[" + items + "]";
}

// What a run did before an error: filled in as apply() reports progress.
struct run_log {
  std::vector<applied_migration> applied;
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

// Where the files of the settings' migrations are (or were, for an embedded set), for the path
// of a failed migration in messages.
std::filesystem::path files_dir(const cli_settings& s) {
  if (s.embedded != nullptr) return s.embedded->directory;
  return s.dir;
}

void print_error(const cli_settings& s, const std::exception& e, const run_log* log,
                 const std::filesystem::path& dir) {
  const auto* m = dynamic_cast<const pgorm::migration_error*>(&e);
  std::string path;
  if (m != nullptr && !m->file().empty()) path = (dir / m->file()).string();
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
    fmt::print(s.io.out, "{}}}\n", out);
    std::fflush(s.io.out);
    return;
  }
  std::string_view what = e.what();
  if (what.substr(0, 7) == "pgorm: ") what.remove_prefix(7);  // pgorm's errors say it already
  fmt::print(s.io.err, "{}: error: {}\n", s.program, what);
  if (m != nullptr && m->line() > 0) {
    fmt::print(s.io.err, "  --> {}:{}{}\n", path, m->line(),
               m->column() > 0 ? fmt::format(":{}", m->column()) : "");
  }
  if (log != nullptr && log->started) {
    if (log->applied.empty()) {
      fmt::print(s.io.err, "{}: nothing was applied in this run\n", s.program);
    } else {
      std::string files;
      for (const auto& a : log->applied) files += (files.empty() ? "" : ", ") + a.file;
      fmt::print(s.io.err, "{}: {} of {} migration(s) were applied in this run before it: {}\n",
                 s.program, log->applied.size(), log->planned, files);
    }
  }
  std::fflush(s.io.err);
}

// apply() with progress on `out` as it goes; fills `log`. Throws what apply() throws.
std::vector<applied_migration> apply_with_progress(const cli_settings& s, connection& conn,
                                                   const migration_source& source, run_log& log,
                                                   std::string_view label = {}) {
  options opts = cli_options(s);
  opts.on_progress = [&](const progress& p) {
    log.started = true;
    log.planned = p.count;
    if (p.kind == progress_kind::applied) {
      log.applied.push_back(
          {p.migration->version, p.migration->name, p.migration->file, p.duration});
    }
    if (s.json) return;
    std::FILE* out = s.io.out;
    switch (p.kind) {
      case progress_kind::waiting_for_lock:
        fmt::print(out, "waiting up to {:g} s for the migration lock, held by {}\n", s.lock_timeout,
                   p.detail);
        break;
      case progress_kind::starting:
        fmt::print(out, "[{}/{}] {}applying {}\n", p.index, p.count, label, p.migration->file);
        break;
      case progress_kind::applied:
        fmt::print(out, "[{}/{}] {}applied  {} in {} ms\n", p.index, p.count, label,
                   p.migration->file, p.duration.count());
        break;
      case progress_kind::failed:
        fmt::print(out, "[{}/{}] {}FAILED   {} after {} ms\n", p.index, p.count, label,
                   p.migration->file, p.duration.count());
        break;
    }
    std::fflush(out);
  };
  return apply(conn, source, opts);
}

}  // namespace

migration_source cli_source(const cli_settings& s) {
  if (s.embedded != nullptr) return *s.embedded;
  return s.dir;
}

options cli_options(const cli_settings& s) {
  options o;
  o.tracking_table = s.tracking_table;
  o.tracking_schema = s.tracking_schema;
  o.timeout = from_seconds(s.timeout);
  o.lock_timeout = from_seconds(s.lock_timeout);
  return o;
}

connection cli_connect(const cli_settings& s) {
  connect_options o;
  // At least 1 ms: a zero would mean "the URL's connect_timeout, else none".
  o.connect_timeout = std::max(from_seconds(s.connect_timeout), std::chrono::milliseconds(1));
  return connection{s.database_url, o};
}

void cli_print_error(const cli_settings& s, const std::exception& e) {
  print_error(s, e, nullptr, files_dir(s));
}

int cli_usage_error(const cli_settings& s, std::string_view message) {
  if (s.json) {
    fmt::print(s.io.out, "{{\"ok\":false,\"exit_code\":{},\"kind\":\"usage\",\"error\":{}}}\n",
               exit_usage, json_string(message));
    std::fflush(s.io.out);
  } else {
    fmt::print(s.io.err, "{}: error: {}\n", s.program, message);
    std::fflush(s.io.err);
  }
  return exit_usage;
}

void cli_warn_password(const cli_settings& s) {
  if (s.database_url_on_command_line && !pgorm::detail::conninfo_secrets(s.database_url).empty()) {
    fmt::print(s.io.err,
               "{}: warning: the password in {} is visible to other users of this machine (ps, "
               "/proc); set DATABASE_URL instead, or use a ~/.pgpass file\n",
               s.program, s.url_option);
  }
}

int cli_status(const cli_settings& s) {
  try {
    connection conn = cli_connect(s);
    const migration_source source = cli_source(s);
    const auto list = status(conn, source, cli_options(s));
    const status_summary sum = summarize(list);
    const int code = sum.needs_attention() ? exit_failure
                     : sum.up_to_date()    ? exit_ok
                                           : exit_pending;
    std::FILE* out = s.io.out;
    if (s.json) {
      const std::string items = status_json_items(list);
      fmt::print(
          out,
          "{{\"ok\":{},\"exit_code\":{},\"up_to_date\":{},\"summary\":{{\"applied\":{},"
          "\"pending\":{},\"failed\":{},\"changed\":{},\"missing\":{}}},\"migrations\":[{}]}}"
          "\n",
          code == exit_ok, code, sum.up_to_date(), sum.applied, sum.pending, sum.failed,
          sum.changed, sum.missing, items);
      std::fflush(out);
      return code;
    }
    if (list.empty()) {
      fmt::print(out, "no migrations in {}\n", source.embedded() ? source.describe() : s.dir);
    }
    for (const auto& m : list) {
      fmt::print(out, "{:<8} {}{}\n", to_string(m.state),
                 m.file.empty() ? m.version + "_" + m.name : m.file,
                 m.applied_at
                     ? fmt::format("  (at {}, {} ms)", *m.applied_at, m.duration_ms.value_or(0))
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
      fmt::print(out, "up to date{}{}\n", counts.empty() ? "" : ": ", counts);
    } else if (code == exit_pending) {
      fmt::print(out, "not up to date: {} (`{}` applies them)\n", counts, s.apply_command);
    } else {
      fmt::print(out,
                 "needs attention: {} (a failed migration is retried by apply once fixed, or "
                 "`resolve --rolled-back`; a changed file must be restored; a missing one put "
                 "back)\n",
                 counts);
    }
    std::fflush(out);
    return code;
  } catch (const std::exception& e) {
    cli_print_error(s, e);
    return exit_failure;
  }
}

int cli_apply(const cli_settings& s) {
  run_log log;
  const auto start = std::chrono::steady_clock::now();
  std::vector<applied_migration> ran;
  try {
    connection conn = cli_connect(s);
    ran = apply_with_progress(s, conn, cli_source(s), log);
  } catch (const std::exception& e) {
    print_error(s, e, &log, files_dir(s));
    return exit_failure;
  }
  const auto total = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - start);
  if (s.json) {
    fmt::print(s.io.out, "{{\"ok\":true,\"exit_code\":0,\"applied\":{},\"duration_ms\":{}}}\n",
               applied_json(ran), total.count());
  } else if (ran.empty()) {
    fmt::print(s.io.out, "nothing to apply: the database is up to date\n");
  } else {
    fmt::print(s.io.out, "{} migration(s) applied in {} ms; the database is at version {}\n",
               ran.size(), total.count(), ran.back().version);
  }
  std::fflush(s.io.out);
  return exit_ok;
}

int cli_resolve(const cli_settings& s, std::string_view version, resolution how) {
  try {
    connection conn = cli_connect(s);
    const auto st = resolve(conn, cli_source(s), version, how, cli_options(s));
    if (s.json) {
      fmt::print(s.io.out, "{{\"ok\":true,\"exit_code\":0,\"resolved\":{}}}\n", status_json(st));
    } else {
      fmt::print(s.io.out, "{} {}: now {}\n",
                 how == resolution::applied ? "marked as applied:" : "marked as rolled back:",
                 st.file.empty() ? st.version + "_" + st.name : st.file, to_string(st.state));
    }
    std::fflush(s.io.out);
    return exit_ok;
  } catch (const std::exception& e) {
    cli_print_error(s, e);
    return exit_failure;
  }
}

int cli_baseline(const cli_settings& s, std::string_view version) {
  try {
    connection conn = cli_connect(s);
    const auto marked = baseline(conn, cli_source(s), version, cli_options(s));
    if (s.json) {
      const std::string items = status_json_items(marked);
      fmt::print(s.io.out, "{{\"ok\":true,\"exit_code\":0,\"baselined\":[{}]}}\n", items);
    } else {
      for (const auto& m : marked) fmt::print(s.io.out, "baseline {}\n", m.file);
      fmt::print(s.io.out, "{} migration(s) marked as applied up to {}\n", marked.size(), version);
    }
    std::fflush(s.io.out);
    return exit_ok;
  } catch (const std::exception& e) {
    cli_print_error(s, e);
    return exit_failure;
  }
}

int cli_new(const cli_settings& s, std::string_view name, bool timestamp) {
  try {
    const auto path = create(s.dir, name, {.timestamp = timestamp, .sql = {}});
    if (s.json) {
      fmt::print(s.io.out, "{{\"ok\":true,\"exit_code\":0,\"file\":{}}}\n",
                 json_string(path.string()));
    } else {
      fmt::print(s.io.out, "created {}\n", path.string());
    }
    std::fflush(s.io.out);
    return exit_ok;
  } catch (const std::exception& e) {
    cli_print_error(s, e);
    return exit_failure;
  }
}

// ---- main<T...>() ------------------------------------------------------------------------------

namespace {

constexpr std::string_view usage_text =
    "usage: {0} COMMAND [options]\n"
    "\n"
    "commands (docs/migrations.md, \"Your own migrations CLI\"):\n"
    "  generate NAME        diff the structs against the migrations replayed into a shadow\n"
    "                       server and write the difference as the next NNNN_name.sql\n"
    "  apply | deploy       apply the pending migrations\n"
    "  status               list the migrations; exit 0 up to date, 3 pending, 1 otherwise\n"
    "  check                exit 1 when the live database differs from the structs (CI)\n"
    "  diff                 print the SQL that would bring the live database to the structs\n"
    "  resolve --applied V | --rolled-back V\n"
    "                       record one migration as applied / a failed one as rolled back\n"
    "  baseline V           mark every migration up to V as applied\n"
    "  new NAME             create an empty NNNN_name.sql\n"
    "  reset --force        drop everything in the database's schemas, then apply every\n"
    "                       migration (development only)\n"
    "  push                 apply the diff to the live database, no migration file\n"
    "                       (development; --accept-data-loss for destructive changes)\n"
    "  help, --version\n"
    "\n"
    "options:\n"
    "  --url URL            the database (also --database-url); default: env DATABASE_URL\n"
    "  --dir DIR            the migrations directory (default migrations; in a program\n"
    "                       with embedded migrations: those, and their source directory\n"
    "                       for generate and new)\n"
    "  --json               print one JSON object on stdout, errors included\n"
    "  --connect-timeout S  seconds to wait for the connection (default 5)\n"
    "  --lock-timeout S     seconds to wait for the migration lock (default 10)\n"
    "  --timeout S          seconds each migration may take (default: no limit)\n"
    "  --table T, --schema S  the tracking table (default pgorm_migrations, search_path)\n"
    "  --shadow-url URL     generate: a disposable database to replay into instead of a\n"
    "                       throwaway server (everything in its schemas is dropped first)\n"
    "  --timestamp          generate, new: name the file YYYYMMDDHHMMSS_name.sql\n"
    "exit codes: 0 ok, 1 failure or drift, 2 usage, 3 status: pending migrations\n";

struct schema_args {
  std::string verb;
  std::string name;  // generate, new: NAME; baseline: VERSION
  std::string resolve_applied;
  std::string resolve_rolled_back;
  std::string shadow_url;
  bool timestamp = false;
  bool force = false;
  bool accept_data_loss = false;
  bool url_given = false;
};

std::optional<double> parse_seconds(std::string_view text) {
  double value = 0;
  const auto* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (ec != std::errc{} || ptr != end || !std::isfinite(value) || value < 0) return std::nullopt;
  return value;
}

// Parses argv into `s` and `a`; returns a message for a usage error, "" when fine.
std::string parse(int argc, const char* const* argv, cli_settings& s, schema_args& a) {
  std::vector<std::string_view> positional;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    std::optional<std::string_view> inline_value;
    if (arg.substr(0, 2) == "--") {
      if (const auto eq = arg.find('='); eq != std::string_view::npos) {
        inline_value = arg.substr(eq + 1);
        arg = arg.substr(0, eq);
      }
    } else {
      positional.push_back(arg);
      continue;
    }
    std::string error;
    const auto value = [&]() -> std::optional<std::string_view> {
      if (inline_value) return inline_value;
      if (i + 1 < argc) return std::string_view(argv[++i]);
      error = fmt::format("{} needs a value", arg);
      return std::nullopt;
    };
    const auto seconds = [&](double& out, bool positive) {
      const auto v = value();
      if (!v) return;
      const auto parsed = parse_seconds(*v);
      if (!parsed || (positive && *parsed <= 0)) {
        error = fmt::format("{}: '{}' is not a {} number of seconds", arg, *v,
                            positive ? "positive" : "non-negative");
        return;
      }
      out = *parsed;
    };
    const auto flag = [&](bool& out) {
      if (inline_value) {
        error = fmt::format("{} takes no value", arg);
        return;
      }
      out = true;
    };
    if (arg == "--url" || arg == "--database-url") {
      s.url_option = std::string(arg);
      if (const auto v = value()) {
        s.database_url = std::string(*v);
        s.database_url_on_command_line = true;
        a.url_given = true;
      }
    } else if (arg == "--dir") {
      if (const auto v = value()) {
        s.dir = std::string(*v);
        s.dir_on_command_line = true;
      }
    } else if (arg == "--json") {
      flag(s.json);
    } else if (arg == "--connect-timeout") {
      seconds(s.connect_timeout, true);
    } else if (arg == "--lock-timeout") {
      seconds(s.lock_timeout, false);
    } else if (arg == "--timeout") {
      seconds(s.timeout, false);
    } else if (arg == "--table") {
      if (const auto v = value()) s.tracking_table = std::string(*v);
    } else if (arg == "--schema") {
      if (const auto v = value()) s.tracking_schema = std::string(*v);
    } else if (arg == "--shadow-url") {
      if (const auto v = value()) a.shadow_url = std::string(*v);
    } else if (arg == "--applied") {
      if (const auto v = value()) a.resolve_applied = std::string(*v);
    } else if (arg == "--rolled-back") {
      if (const auto v = value()) a.resolve_rolled_back = std::string(*v);
    } else if (arg == "--timestamp") {
      flag(a.timestamp);
    } else if (arg == "--force") {
      flag(a.force);
    } else if (arg == "--accept-data-loss") {
      flag(a.accept_data_loss);
    } else if (arg == "--help") {
      a.verb = "help";
    } else if (arg == "--version") {
      a.verb = "version";
    } else {
      return fmt::format("unknown option {} (`{} help` lists them)", arg, s.program);
    }
    if (!error.empty()) return error;
  }
  if (a.verb == "help" || a.verb == "version") return {};
  if (positional.empty()) return "no command: generate, apply, status, check, diff, ... (help)";
  a.verb = std::string(positional.front());
  const bool takes_argument = a.verb == "generate" || a.verb == "new" || a.verb == "baseline";
  if (takes_argument) {
    if (positional.size() < 2) {
      return fmt::format("{} needs {}", a.verb, a.verb == "baseline" ? "VERSION" : "NAME");
    }
    a.name = std::string(positional[1]);
  }
  if (positional.size() > (takes_argument ? 2U : 1U)) {
    return fmt::format("unexpected argument '{}'", positional[takes_argument ? 2 : 1]);
  }
  const auto only_for = [&](bool given, std::string_view option,
                            std::initializer_list<std::string_view> verbs) -> std::string {
    if (!given || std::find(verbs.begin(), verbs.end(), a.verb) != verbs.end()) return {};
    return fmt::format("{} does not apply to {}", option, a.verb);
  };
  for (std::string m : {only_for(!a.shadow_url.empty(), "--shadow-url", {"generate"}),
                        only_for(a.timestamp, "--timestamp", {"generate", "new"}),
                        only_for(a.force, "--force", {"reset"}),
                        only_for(a.accept_data_loss, "--accept-data-loss", {"push"}),
                        only_for(!a.resolve_applied.empty() || !a.resolve_rolled_back.empty(),
                                 "--applied/--rolled-back", {"resolve"})}) {
    if (!m.empty()) return m;
  }
  if (a.verb == "resolve") {
    if (a.resolve_applied.empty() == a.resolve_rolled_back.empty()) {
      return "resolve needs exactly one of --applied VERSION and --rolled-back VERSION";
    }
  }
  return {};
}

// Drops every table, view, sequence, type and routine of `schema_name` that no extension owns,
// in one transaction, tables first (their identity sequences go with them: IF EXISTS). Returns
// how many objects it dropped.
std::size_t wipe_schema(connection& conn, const std::string& schema_name) {
  std::size_t dropped = 0;
  conn.transaction([&](pgorm::transaction& tx) {
    auto r = tx.exec(
        "with ns as (select oid from pg_namespace where nspname = $1), "
        "ext as (select objid, classid from pg_depend where deptype = 'e') "
        "select case c.relkind when 'v' then 2 when 'm' then 2 when 'S' then 3 else 1 end as "
        "o, format('DROP %s IF EXISTS %I.%I CASCADE', case c.relkind when 'v' then "
        "'VIEW' when 'm' then 'MATERIALIZED VIEW' when 'S' then 'SEQUENCE' when 'f' then "
        "'FOREIGN TABLE' else 'TABLE' end, $1, c.relname) "
        "from pg_class c where c.relnamespace = (select oid from ns) and c.relkind in ('r', "
        "'p', 'v', 'm', 'S', 'f') and not c.relispartition and (c.oid, 'pg_class'::regclass) "
        "not in (select objid, classid from ext) "
        "union all select 4, format('DROP TYPE IF EXISTS %I.%I CASCADE', $1, t.typname) "
        "from pg_type t where t.typnamespace = (select oid from ns) and (t.typtype in ('e', "
        "'d', 'r') or (t.typtype = 'c' and (select relkind from pg_class where oid = "
        "t.typrelid) = 'c')) and (t.oid, 'pg_type'::regclass) not in (select objid, classid "
        "from ext) "
        "union all select 5, format('DROP ROUTINE IF EXISTS %s CASCADE', p.oid::regprocedure) "
        "from pg_proc p where p.pronamespace = (select oid from ns) and p.prokind in ('f', 'p') "
        "and (p.oid, 'pg_proc'::regclass) not in (select objid, classid from ext) "
        "order by 1, 2",
        {param::text(schema_name)});
    for (int i = 0; i < r.rows(); ++i) tx.exec(r.value(i, 1));
    dropped = static_cast<std::size_t>(r.rows());
  });
  return dropped;
}

// The schemas reset and the shadow wipe clear: the search_path's first, the structs' own and
// the tracking table's.
std::vector<std::string> schemas_to_wipe(connection& conn, const cli_settings& s,
                                         std::span<const schema::detail::table_spec> tables) {
  std::vector<std::string> out;
  const auto add = [&out](std::string_view name) {
    if (!name.empty() && std::find(out.begin(), out.end(), name) == out.end()) {
      out.emplace_back(name);
    }
  };
  auto r = conn.exec("select coalesce(current_schema(), '')");
  add(r.value(0, 0));
  for (const auto& t : tables) add(t.schema);
  add(s.tracking_schema);
  return out;
}

std::size_t wipe(connection& conn, const cli_settings& s,
                 std::span<const schema::detail::table_spec> tables,
                 std::vector<std::string>& schemas) {
  schemas = schemas_to_wipe(conn, s, tables);
  std::size_t dropped = 0;
  for (const auto& name : schemas) dropped += wipe_schema(conn, name);
  return dropped;
}

std::string joined(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}

// Applies each change's statements in one transaction.
void run_changes(connection& conn, const schema::diff_result& d) {
  conn.transaction([&](pgorm::transaction& tx) {
    for (const auto& change : d.changes) {
      for (const auto& statement : split_statements(change.sql)) tx.exec(statement);
    }
  });
}

int run_generate(const cli_settings& s, const schema_args& a, const cli_schema& schema) {
  std::vector<migration_file> files;
  if (std::filesystem::exists(s.dir)) files = load(std::filesystem::path(s.dir));
  shadow_database shadow;
  std::vector<std::string> wiped;
  if (a.shadow_url.empty()) {
    if (!s.json) {
      fmt::print(s.io.out, "starting a throwaway shadow server to replay {} migration(s)\n",
                 files.size());
      std::fflush(s.io.out);
    }
    shadow = schema.start_shadow();
  } else {
    shadow.conninfo = a.shadow_url;
  }
  cli_settings shadow_settings = s;
  shadow_settings.database_url = shadow.conninfo;
  connection conn = cli_connect(shadow_settings);
  if (!a.shadow_url.empty()) {
    const std::size_t dropped = wipe(conn, s, schema.tables, wiped);
    if (!s.json) {
      fmt::print(s.io.out, "shadow database: dropped {} object(s) in schema(s) {}\n", dropped,
                 joined(wiped));
    }
  }
  run_log log;
  try {
    // A first generate may find no directory yet: create() makes it.
    if (!files.empty()) {
      apply_with_progress(s, conn, std::filesystem::path(s.dir), log, "shadow: ");
    }
  } catch (const std::exception& e) {
    print_error(s, e, &log, s.dir);
    return exit_failure;
  }
  const schema::diff_result d = schema::detail::diff_tables(conn, schema.tables);
  if (d.in_sync()) {
    if (s.json) {
      fmt::print(s.io.out, "{{\"ok\":true,\"exit_code\":0,\"file\":null,\"changes\":[]}}\n");
    } else {
      fmt::print(s.io.out,
                 "no changes: the {} migration(s) of {} already match the structs; nothing "
                 "written\n",
                 files.size(), s.dir);
    }
    std::fflush(s.io.out);
    return exit_ok;
  }
  const auto path = create(s.dir, a.name, {.timestamp = a.timestamp, .sql = d.sql()});
  if (s.json) {
    fmt::print(s.io.out,
               "{{\"ok\":true,\"exit_code\":0,\"file\":{},\"destructive\":{},\"changes\":{}}}\n",
               json_string(path.string()), d.destructive(), changes_json(d));
  } else {
    fmt::print(s.io.out, "{}wrote {}{}\n", d.report(), path.string(),
               d.destructive() ? " (REVIEW: it contains destructive changes)" : "");
  }
  std::fflush(s.io.out);
  return exit_ok;
}

int run_check(const cli_settings& s, const cli_schema& schema, bool print_sql) {
  connection conn = cli_connect(s);
  const schema::diff_result d = schema::detail::diff_tables(conn, schema.tables);
  const int code = d.in_sync() ? exit_ok : exit_failure;
  if (s.json) {
    fmt::print(s.io.out, "{{\"ok\":{},\"exit_code\":{},\"in_sync\":{},\"changes\":{}}}\n",
               d.in_sync(), code, d.in_sync(), changes_json(d));
  } else if (print_sql) {
    fmt::print(s.io.out, "{}",
               d.in_sync() ? "-- in sync: the database matches the structs\n" : d.sql());
  } else {
    fmt::print(s.io.out, "{}", d.report());
  }
  std::fflush(s.io.out);
  return code;
}

int run_push(const cli_settings& s, const schema_args& a, const cli_schema& schema) {
  connection conn = cli_connect(s);
  const schema::diff_result d = schema::detail::diff_tables(conn, schema.tables);
  if (d.in_sync()) {
    if (s.json) {
      fmt::print(s.io.out, "{{\"ok\":true,\"exit_code\":0,\"changes\":[]}}\n");
    } else {
      fmt::print(s.io.out, "{}", d.report());
    }
    std::fflush(s.io.out);
    return exit_ok;
  }
  if (d.destructive() && !a.accept_data_loss) {
    throw usage_error(fmt::format(
        "push: refusing destructive changes without --accept-data-loss (nothing was run):\n{}",
        d.report()));
  }
  run_changes(conn, d);
  if (s.json) {
    fmt::print(s.io.out, "{{\"ok\":true,\"exit_code\":0,\"changes\":{}}}\n", changes_json(d));
  } else {
    fmt::print(s.io.out, "{}pushed {} change(s) to the database (no migration file written)\n",
               d.report(), d.changes.size());
  }
  std::fflush(s.io.out);
  return exit_ok;
}

int run_reset(const cli_settings& s, const schema_args& a, const cli_schema& schema) {
  if (!a.force) {
    return cli_usage_error(
        s,
        "reset drops every table, type and function in the database's schemas: it is for a "
        "disposable development database only; pass --force to confirm");
  }
  std::vector<std::string> schemas;
  {
    connection conn = cli_connect(s);
    const std::size_t dropped = wipe(conn, s, schema.tables, schemas);
    if (!s.json) {
      fmt::print(s.io.out, "reset: dropped {} object(s) in schema(s) {}\n", dropped,
                 joined(schemas));
      std::fflush(s.io.out);
    }
  }
  return cli_apply(s);
}

}  // namespace

int run_schema_cli(int argc, const char* const* argv, const cli_schema& schema,
                   const cli_streams& io) {
  cli_settings s;
  s.io = io;
  if (argc > 0 && argv[0] != nullptr && *argv[0] != '\0') {
    s.program = std::filesystem::path(argv[0]).filename().string();
  }
  s.apply_command = s.program + " apply";
  for (int i = 1; i < argc; ++i) {
    if (std::string_view(argv[i]) == "--json") s.json = true;
  }
  schema_args a;
  if (const std::string message = parse(argc, argv, s, a); !message.empty()) {
    return cli_usage_error(s, message);
  }
  if (a.verb == "help") {
    fmt::print(io.out, fmt::runtime(usage_text), s.program);
    std::fflush(io.out);
    return exit_ok;
  }
  if (a.verb == "version") {
    fmt::print(io.out, "{} (pgorm {})\n", s.program, PGORM_VERSION_STRING);
    std::fflush(io.out);
    return exit_ok;
  }
  static constexpr std::string_view verbs[] = {"generate", "apply", "deploy",  "status",
                                               "check",    "diff",  "resolve", "baseline",
                                               "new",      "reset", "push"};
  if (std::find(std::begin(verbs), std::end(verbs), a.verb) == std::end(verbs)) {
    return cli_usage_error(
        s, fmt::format("unknown command '{}' (`{} help` lists them)", a.verb, s.program));
  }
  const bool needs_database = a.verb != "generate" && a.verb != "new";
  if (needs_database && !a.url_given) {
    if (const char* env = std::getenv("DATABASE_URL"); env != nullptr) s.database_url = env;
  }
  if (needs_database && s.database_url.empty()) {
    return cli_usage_error(s, "no database: set DATABASE_URL (or pass --url)");
  }
  cli_warn_password(s);
  if (schema.embedded != nullptr && !s.dir_on_command_line) {
    s.embedded = schema.embedded;
    // generate and new write next to the files the set was made from.
    s.dir = std::string(schema.embedded->directory);
    if (a.verb == "generate" && !std::filesystem::is_directory(s.dir)) {
      return cli_usage_error(
          s, fmt::format("generate writes into the migrations directory: the embedded set was "
                         "made from {}, which is not here; pass --dir",
                         s.dir));
    }
  }
  if (a.verb == "generate" && a.shadow_url.empty() && schema.start_shadow == nullptr) {
    return cli_usage_error(s, "generate needs --shadow-url here (no throwaway server)");
  }
  try {
    if (a.verb == "apply" || a.verb == "deploy") return cli_apply(s);
    if (a.verb == "status") return cli_status(s);
    if (a.verb == "resolve") {
      const bool applied = !a.resolve_applied.empty();
      return cli_resolve(s, applied ? a.resolve_applied : a.resolve_rolled_back,
                         applied ? resolution::applied : resolution::rolled_back);
    }
    if (a.verb == "baseline") return cli_baseline(s, a.name);
    if (a.verb == "new") return cli_new(s, a.name, a.timestamp);
    if (a.verb == "generate") return run_generate(s, a, schema);
    if (a.verb == "check") return run_check(s, schema, false);
    if (a.verb == "diff") return run_check(s, schema, true);
    if (a.verb == "push") return run_push(s, a, schema);
    if (a.verb == "reset") return run_reset(s, a, schema);
  } catch (const std::exception& e) {
    cli_print_error(s, e);
    return exit_failure;
  }
  return exit_usage;
}

}  // namespace pgorm::migrate::detail
