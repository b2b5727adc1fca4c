// SPDX-License-Identifier: MIT
// The migration runner of migrate.hpp.
#include "pgorm/migrate.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <chrono>
#include <ctime>
#include <fstream>
#include <map>
#include <sstream>
#include <system_error>

#include <fmt/format.h>

#include "pgorm/connection.hpp"
#include "pgorm/detail/identifier.hpp"
#include "pgorm/detail/sql_scanner.hpp"
#include "pgorm/transaction.hpp"

namespace pgorm::migrate {

namespace {

using pgorm::detail::quote_identifier;

constexpr oid bytea_oid = 17;

// The deadline of a migration's own statements: options::timeout, or, for its zero, none. A
// zero passed to connection::exec would mean the connection's query_timeout (30 s by default),
// which a long CREATE INDEX or data migration must not be cut by.
std::chrono::milliseconds migration_timeout(const options& opts) {
  return opts.timeout.count() > 0 ? opts.timeout : pgorm::no_timeout;
}

// Versions compare as numbers of any width: "0010" after "9", "20240101000000" after "0003".
std::string numeric_key(std::string_view version) {
  const std::size_t first = version.find_first_not_of('0');
  return first == std::string_view::npos ? std::string("0") : std::string(version.substr(first));
}

bool version_less(std::string_view a, std::string_view b) {
  const std::string x = numeric_key(a);
  const std::string y = numeric_key(b);
  return x.size() != y.size() ? x.size() < y.size() : x < y;
}

bool all_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    throw migration_error(fmt::format("pgorm: cannot read migration file {}", path.string()),
                          path.filename().string());
  }
  std::ostringstream text;
  text << in.rdbuf();
  return std::move(text).str();
}

std::string tracking_table(const options& opts) {
  std::string name;
  if (!opts.tracking_schema.empty()) name = quote_identifier(opts.tracking_schema) + ".";
  return name + quote_identifier(opts.tracking_table);
}

std::string checksum(connection& conn, std::string_view sql) {
  const auto* bytes = reinterpret_cast<const std::byte*>(sql.data());
  const param p = param::binary({bytes, sql.size()}, bytea_oid);
  auto r = conn.exec("select encode(sha256($1::bytea), 'hex')", {p});
  return std::string(r.value(0, 0));
}

struct record {
  std::string version;
  std::string name;
  std::string checksum;
  std::string applied_at;
  std::int64_t duration_ms = 0;
  bool success = false;
};

bool table_exists(connection& conn, const options& opts) {
  const std::string name = tracking_table(opts);
  auto r = conn.exec("select to_regclass($1) is not null", {param::text(name)});
  return r.value(0, 0) == "t";
}

void ensure_table(connection& conn, const options& opts) {
  conn.exec(
      fmt::format("CREATE TABLE IF NOT EXISTS {} (\n"
                  "  version text PRIMARY KEY,\n"
                  "  name text NOT NULL,\n"
                  "  checksum text NOT NULL,\n"
                  "  applied_at timestamptz NOT NULL DEFAULT now(),\n"
                  "  duration_ms bigint NOT NULL DEFAULT 0,\n"
                  "  success boolean NOT NULL\n"
                  ")",
                  tracking_table(opts)));
}

// Recorded migrations by numeric version.
std::map<std::string, record> read_records(connection& conn, const options& opts) {
  std::map<std::string, record> out;
  if (!table_exists(conn, opts)) return out;
  auto r =
      conn.exec(fmt::format("select version, name, checksum, applied_at::text, duration_ms, "
                            "success from {} order by version",
                            tracking_table(opts)));
  for (int i = 0; i < r.rows(); ++i) {
    record rec{std::string(r.value(i, 0)),
               std::string(r.value(i, 1)),
               std::string(r.value(i, 2)),
               std::string(r.value(i, 3)),
               std::stoll(std::string(r.value(i, 4))),
               r.value(i, 5) == "t"};
    out.emplace(numeric_key(rec.version), std::move(rec));
  }
  return out;
}

void write_record(connection& conn, const options& opts, const migration_file& f,
                  const std::string& sum, std::int64_t duration_ms, bool success) {
  const std::string duration = std::to_string(duration_ms);
  conn.exec(fmt::format("insert into {} (version, name, checksum, applied_at, duration_ms, "
                        "success) values ($1, $2, $3, clock_timestamp(), $4::bigint, "
                        "$5::boolean) on conflict (version) do update set name = excluded.name, "
                        "checksum = excluded.checksum, applied_at = excluded.applied_at, "
                        "duration_ms = excluded.duration_ms, success = excluded.success",
                        tracking_table(opts)),
            {param::text(f.version), param::text(f.name), param::text(sum), param::text(duration),
             param::text(success ? "true" : "false")});
}

// A session-level advisory lock for the tracking table: concurrent runners (processes or
// threads, each with its own connection) apply one at a time (PG docs 9.27.10).
class advisory_lock {
 public:
  advisory_lock(connection& conn, const options& opts) : conn_(conn) {
    const std::string key_sql =
        "hashtextextended('pgorm_migrations:' || coalesce(nullif($1, ''), current_schema(), "
        "'') || '.' || $2, 0)";
    auto r = conn_.exec("select " + key_sql,
                        {param::text(opts.tracking_schema), param::text(opts.tracking_table)});
    key_ = std::string(r.value(0, 0));
    // Waits while another runner applies: as long as a migration may take (opts.timeout).
    const std::array<param, 1> key{param::text(key_)};
    conn_.exec("select pg_advisory_lock($1::bigint)", key, data_format::text,
               migration_timeout(opts));
  }
  advisory_lock(const advisory_lock&) = delete;
  advisory_lock& operator=(const advisory_lock&) = delete;
  advisory_lock(advisory_lock&&) = delete;
  advisory_lock& operator=(advisory_lock&&) = delete;
  ~advisory_lock() {
    try {
      conn_.exec("select pg_advisory_unlock($1::bigint)", {param::text(key_)});
    } catch (...) {  // NOLINT(bugprone-empty-catch): a broken connection has released it
    }
  }

 private:
  connection& conn_;
  std::string key_;
};

// apply() runs each migration in a transaction of its own (BEGIN ... COMMIT): inside the
// caller's transaction that BEGIN would not nest and its COMMIT would commit the caller's work
// early, and a no-transaction migration (CREATE INDEX CONCURRENTLY) cannot run in one at all.
void refuse_inside_transaction(const connection& conn) {
  const std::string_view why = pgorm::detail::transaction_in_progress(conn);
  if (why.empty()) return;
  throw usage_error(
      fmt::format("pgorm: migrate::apply() was called on a connection that is already in a "
                  "transaction ({}); it runs each migration in a transaction of its own, whose "
                  "COMMIT would commit the caller's work early. Call it outside the transaction; "
                  "the caller's transaction was left as it was",
                  why));
}

[[noreturn]] void fail(const migration_file& f, const std::exception& e) {
  std::string sqlstate;
  if (const auto* s = dynamic_cast<const sql_error*>(&e)) sqlstate = s->sqlstate();
  throw migration_error(fmt::format("pgorm: migration {} failed and was {}: {}", f.file,
                                    f.transactional ? "rolled back"
                                                    : "stopped (no-transaction: "
                                                      "earlier statements stay)",
                                    e.what()),
                        f.file, f.version, sqlstate);
}

}  // namespace

std::string_view to_string(state s) noexcept {
  switch (s) {
    case state::pending:
      return "pending";
    case state::applied:
      return "applied";
    case state::failed:
      return "failed";
    case state::changed:
      return "changed";
    case state::missing:
      return "missing";
  }
  return "unknown";
}

bool wants_no_transaction(std::string_view sql) noexcept {
  const std::string_view line = sql.substr(0, sql.find('\n'));
  std::string compact;
  for (char c : line) {
    if (std::isspace(static_cast<unsigned char>(c)) == 0) {
      compact += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
  }
  return compact == "--pgorm:no-transaction";
}

std::vector<std::string> split_statements(std::string_view sql) {
  std::vector<std::string> out;
  pgorm::detail::sql::statement_splitter splitter(sql);
  pgorm::detail::sql::statement st;
  while (splitter.next(st)) {
    if (st.has_content) out.emplace_back(st.text(sql));
  }
  return out;
}

std::string slug(std::string_view name) {
  std::string out;
  bool pending_sep = false;
  for (char c : name) {
    const auto u = static_cast<unsigned char>(c);
    if (std::isalnum(u) != 0 && u < 0x80) {
      if (pending_sep && !out.empty()) out += '_';
      pending_sep = false;
      out += static_cast<char>(std::tolower(u));
    } else {
      pending_sep = true;
    }
  }
  return out;
}

std::vector<migration_file> load(const std::filesystem::path& dir) {
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) {
    throw migration_error(
        fmt::format("pgorm: the migrations directory {} does not exist", dir.string()), {});
  }
  std::vector<migration_file> files;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (!entry.is_regular_file() || entry.path().extension() != ".sql") continue;
    const std::string file = entry.path().filename().string();
    const std::string stem = entry.path().stem().string();
    const std::size_t us = stem.find('_');
    if (us == std::string::npos || us == 0 || us + 1 == stem.size() ||
        !all_digits(std::string_view(stem).substr(0, us))) {
      throw migration_error(
          fmt::format("pgorm: migration file {} is not named <version>_<name>.sql (e.g. "
                      "0001_create_users.sql or 20240131120000_create_users.sql); rename it",
                      file),
          file);
    }
    migration_file f;
    f.version = stem.substr(0, us);
    f.name = stem.substr(us + 1);
    f.file = file;
    f.path = entry.path();
    f.sql = read_file(entry.path());
    f.transactional = !wants_no_transaction(f.sql);
    files.push_back(std::move(f));
  }
  std::sort(files.begin(), files.end(), [](const migration_file& a, const migration_file& b) {
    return version_less(a.version, b.version);
  });
  for (std::size_t i = 1; i < files.size(); ++i) {
    if (numeric_key(files[i - 1].version) == numeric_key(files[i].version)) {
      throw migration_error(fmt::format("pgorm: migration files {} and {} have the same version; "
                                        "renumber one of them",
                                        files[i - 1].file, files[i].file),
                            files[i].file, files[i].version);
    }
  }
  return files;
}

std::vector<migration_status> status(connection& conn, const std::filesystem::path& dir,
                                     const options& opts) {
  const auto files = load(dir);
  auto records = read_records(conn, opts);
  std::vector<migration_status> out;
  for (const auto& f : files) {
    migration_status s;
    s.version = f.version;
    s.name = f.name;
    s.file = f.file;
    s.checksum = checksum(conn, f.sql);
    const auto it = records.find(numeric_key(f.version));
    if (it == records.end()) {
      s.state = state::pending;
    } else {
      const record& rec = it->second;
      s.recorded_checksum = rec.checksum;
      s.applied_at = rec.applied_at;
      s.duration_ms = rec.duration_ms;
      s.state = !rec.success                 ? state::failed
                : rec.checksum != s.checksum ? state::changed
                                             : state::applied;
      records.erase(it);
    }
    out.push_back(std::move(s));
  }
  for (const auto& [key, rec] : records) {
    if (!rec.success) continue;
    migration_status s;
    s.version = rec.version;
    s.name = rec.name;
    s.state = state::missing;
    s.recorded_checksum = rec.checksum;
    s.applied_at = rec.applied_at;
    s.duration_ms = rec.duration_ms;
    out.push_back(std::move(s));
  }
  return out;
}

std::vector<applied_migration> apply(connection& conn, const std::filesystem::path& dir,
                                     const options& opts) {
  refuse_inside_transaction(conn);
  const auto files = load(dir);
  advisory_lock lock(conn, opts);
  ensure_table(conn, opts);
  // Read the records only now, under the lock: another runner may just have applied some.
  const auto records = read_records(conn, opts);

  std::vector<const migration_file*> todo;
  std::map<const migration_file*, std::string> sums;
  for (const auto& f : files) {
    const std::string sum = checksum(conn, f.sql);
    const auto it = records.find(numeric_key(f.version));
    if (it != records.end() && it->second.success) {
      if (it->second.checksum != sum) {
        throw migration_error(
            fmt::format("pgorm: migration {} was changed after it was applied (recorded "
                        "checksum {}, file now {}); restore the file and put the change in a new "
                        "migration",
                        f.file, it->second.checksum.substr(0, 12), sum.substr(0, 12)),
            f.file, f.version);
      }
      continue;
    }
    todo.push_back(&f);
    sums.emplace(&f, sum);
  }

  std::vector<applied_migration> ran;
  for (const migration_file* f : todo) {
    const auto start = std::chrono::steady_clock::now();
    const auto elapsed = [&] {
      return std::chrono::duration_cast<std::chrono::milliseconds>(
          std::chrono::steady_clock::now() - start);
    };
    try {
      if (f->transactional) {
        conn.exec("BEGIN");
        conn.exec(f->sql, migration_timeout(opts));
        write_record(conn, opts, *f, sums[f], elapsed().count(), true);
        conn.exec("COMMIT", migration_timeout(opts));
      } else {
        for (const std::string& statement : split_statements(f->sql)) {
          conn.exec(statement, migration_timeout(opts));
        }
        write_record(conn, opts, *f, sums[f], elapsed().count(), true);
      }
    } catch (const connection_error&) {
      throw;
    } catch (const error& e) {
      // Bounded; past the bound the connection is closed (which rolls back too).
      if (f->transactional) pgorm::detail::rollback_quietly(conn, "ROLLBACK");
      try {
        write_record(conn, opts, *f, sums[f], elapsed().count(), false);
      } catch (...) {  // NOLINT(bugprone-empty-catch): report the migration's own error
      }
      fail(*f, e);
    }
    ran.push_back({f->version, f->name, f->file, elapsed()});
  }
  return ran;
}

std::vector<migration_status> baseline(connection& conn, const std::filesystem::path& dir,
                                       std::string_view version, const options& opts) {
  if (!all_digits(version)) {
    throw migration_error(
        fmt::format("pgorm: baseline version \"{}\" must be digits, e.g. 0004", version), {});
  }
  const auto files = load(dir);
  advisory_lock lock(conn, opts);
  ensure_table(conn, opts);
  const auto records = read_records(conn, opts);
  std::vector<migration_status> marked;
  for (const auto& f : files) {
    if (version_less(version, f.version)) break;
    const auto it = records.find(numeric_key(f.version));
    if (it != records.end() && it->second.success) continue;
    const std::string sum = checksum(conn, f.sql);
    write_record(conn, opts, f, sum, 0, true);
    migration_status s;
    s.version = f.version;
    s.name = f.name;
    s.file = f.file;
    s.state = state::applied;
    s.checksum = sum;
    s.recorded_checksum = sum;
    s.duration_ms = 0;
    marked.push_back(std::move(s));
  }
  return marked;
}

std::filesystem::path create(const std::filesystem::path& dir, std::string_view name,
                             const create_options& opts) {
  const std::string s = slug(name);
  if (s.empty()) {
    throw migration_error(fmt::format("pgorm: migration name \"{}\" needs a letter or digit", name),
                          {});
  }
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  const auto files = load(dir);
  std::string version;
  const bool last_is_timestamp = !files.empty() && files.back().version.size() == 14;
  if (opts.timestamp || last_is_timestamp) {
    const std::time_t now = std::time(nullptr);
    std::tm utc{};
    gmtime_r(&now, &utc);
    char buf[16]{};
    std::strftime(buf, sizeof buf, "%Y%m%d%H%M%S", &utc);
    version = buf;
    if (!files.empty() && !version_less(files.back().version, version)) {
      version = std::to_string(std::stoull(numeric_key(files.back().version)) + 1);
    }
  } else {
    std::size_t width = 4;
    unsigned long long last = 0;
    for (const auto& f : files) {
      width = std::max(width, f.version.size());
      last = std::max(last, std::stoull(numeric_key(f.version)));
    }
    version = std::to_string(last + 1);
    if (version.size() < width) version.insert(0, width - version.size(), '0');
  }
  const std::string file = version + "_" + s + ".sql";
  const std::filesystem::path path = dir / file;
  if (std::filesystem::exists(path)) {
    throw migration_error(fmt::format("pgorm: migration file {} exists already", file), file,
                          version);
  }
  std::ofstream out(path, std::ios::binary);
  out << "-- " << name << "\n";
  out << (opts.sql.empty() ? std::string("\n") : opts.sql);
  out.close();
  if (!out) {
    throw migration_error(fmt::format("pgorm: cannot write migration file {}", path.string()), file,
                          version);
  }
  return path;
}

}  // namespace pgorm::migrate
