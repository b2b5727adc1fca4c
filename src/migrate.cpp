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
#include <utility>

#include <fmt/format.h>

#include "pgorm/connection.hpp"
#include "pgorm/detail/identifier.hpp"
#include "pgorm/detail/sql_scanner.hpp"
#include "pgorm/transaction.hpp"
#include "sha256.hpp"

namespace pgorm::migrate {

namespace {

using pgorm::detail::quote_identifier;
namespace sql = pgorm::detail::sql;
using steady = std::chrono::steady_clock;

std::chrono::milliseconds since(steady::time_point start) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(steady::now() - start);
}

// "10 s", "300 ms": for messages about timeouts.
std::string seconds_text(std::chrono::milliseconds d) {
  if (d.count() % 1000 == 0) return fmt::format("{} s", d.count() / 1000);
  return fmt::format("{} ms", d.count());
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

// A migration from its file name ("0003_add_index.sql") and contents; throws for a name that
// is not <digits>_<name>.sql.
migration_file make_file(std::string file, std::string sql) {
  const std::string_view stem = std::string_view(file).substr(0, file.size() - 4);
  const std::size_t us = stem.find('_');
  if (us == std::string::npos || us == 0 || us + 1 == stem.size() ||
      !all_digits(stem.substr(0, us))) {
    throw migration_error(
        fmt::format("pgorm: migration file {} is not named <version>_<name>.sql (e.g. "
                    "0001_create_users.sql or 20240131120000_create_users.sql); rename it",
                    file),
        file);
  }
  migration_file f;
  f.version = std::string(stem.substr(0, us));
  f.name = std::string(stem.substr(us + 1));
  f.file = std::move(file);
  f.sql = std::move(sql);
  f.transactional = !wants_no_transaction(f.sql);
  f.checksum = pgorm::detail::sha256_hex(f.sql);
  return f;
}

std::vector<migration_file> sorted(std::vector<migration_file> files) {
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

bool is_sql_file_name(std::string_view name) {
  return name.size() > 4 && name.substr(name.size() - 4) == ".sql";
}

std::string tracking_table(const options& opts) {
  std::string name;
  if (!opts.tracking_schema.empty()) name = quote_identifier(opts.tracking_schema) + ".";
  return name + quote_identifier(opts.tracking_table);
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
                  std::int64_t duration_ms, bool success) {
  const std::string duration = std::to_string(duration_ms);
  conn.exec(fmt::format("insert into {} (version, name, checksum, applied_at, duration_ms, "
                        "success) values ($1, $2, $3, clock_timestamp(), $4::bigint, "
                        "$5::boolean) on conflict (version) do update set name = excluded.name, "
                        "checksum = excluded.checksum, applied_at = excluded.applied_at, "
                        "duration_ms = excluded.duration_ms, success = excluded.success",
                        tracking_table(opts)),
            {param::text(f.version), param::text(f.name), param::text(f.checksum),
             param::text(duration), param::text(success ? "true" : "false")});
}

migration_status status_of(const migration_file& f, const record* rec) {
  migration_status s;
  s.version = f.version;
  s.name = f.name;
  s.file = f.file;
  s.checksum = f.checksum;
  if (rec == nullptr) {
    s.state = state::pending;
    return s;
  }
  s.recorded_checksum = rec->checksum;
  s.applied_at = rec->applied_at;
  s.duration_ms = rec->duration_ms;
  s.state = !rec->success                 ? state::failed
            : rec->checksum != f.checksum ? state::changed
                                          : state::applied;
  return s;
}

void report(const options& opts, const progress& p) {
  if (opts.on_progress) opts.on_progress(p);
}

// Who holds the advisory lock `key` (pg_locks keeps a bigint key as classid = high 32 bits,
// objid = low 32 bits, objsubid = 1): its process id and a description, or {0, ""}.
std::pair<int, std::string> lock_holder(connection& conn, const std::string& key) noexcept {
  try {
    const auto r = conn.exec(
        "select l.pid, coalesce(a.application_name, ''), coalesce(host(a.client_addr), ''), "
        "coalesce(to_char(a.backend_start, 'YYYY-MM-DD HH24:MI:SSOF'), '') "
        "from pg_locks l left join pg_stat_activity a on a.pid = l.pid "
        "where l.locktype = 'advisory' and l.granted "
        "and l.database = (select oid from pg_database where datname = current_database()) "
        "and l.classid = (($1::bigint >> 32) & 4294967295)::oid "
        "and l.objid = ($1::bigint & 4294967295)::oid and l.objsubid = 1 limit 1",
        {param::text(key)});
    if (r.rows() == 0) return {0, {}};
    const int pid = std::stoi(std::string(r.value(0, 0)));
    std::string text = fmt::format("server process {}", pid);
    std::string more;
    const auto add = [&more](std::string_view label, std::string_view value) {
      if (value.empty()) return;
      more += fmt::format("{}{} {}", more.empty() ? "" : ", ", label, value);
    };
    add("application_name", r.value(0, 1).empty() ? "" : fmt::format("\"{}\"", r.value(0, 1)));
    add("client", r.value(0, 2));
    add("connected since", r.value(0, 3));
    if (!more.empty()) text += " (" + more + ")";
    return {pid, text};
  } catch (...) {  // the description is a courtesy: never mask the real outcome
    return {0, {}};
  }
}

// A session-level advisory lock for the tracking table: concurrent runners (processes or
// threads, each with its own connection) apply one at a time (PG docs 9.27.10). Waits at most
// options::lock_timeout for another runner to finish.
class advisory_lock {
 public:
  advisory_lock(connection& conn, const options& opts) : conn_(conn) {
    if (conn_.pooler() != pooler_mode::none) {
      // A session lock would be taken in one server session and released in another, and
      // each migration's statements could run in different ones.
      detail::throw_pooler_unsupported(
          "running migrations",
          "they hold a session-level advisory lock across transactions; run them on a direct "
          "connection to the server (not through PgBouncer in transaction mode)");
    }
    const std::string key_sql =
        "hashtextextended('pgorm_migrations:' || coalesce(nullif($1, ''), current_schema(), "
        "'') || '.' || $2, 0)";
    auto r = conn_.exec("select " + key_sql,
                        {param::text(opts.tracking_schema), param::text(opts.tracking_table)});
    key_ = std::string(r.value(0, 0));
    const std::array<param, 1> key{param::text(key_)};
    if (conn_.exec("select pg_try_advisory_lock($1::bigint)", key).value(0, 0) == "t") return;

    const std::chrono::milliseconds limit =
        std::max(opts.lock_timeout, std::chrono::milliseconds(0));
    const auto start = steady::now();
    if (limit.count() > 0) {
      const auto holder = lock_holder(conn_, key_);
      const std::string detail = holder.second.empty() ? "another runner" : holder.second;
      report(opts, {.kind = progress_kind::waiting_for_lock, .detail = detail});
      try {
        conn_.exec("select pg_advisory_lock($1::bigint)", key, data_format::text, limit);
        return;
      } catch (const query_canceled&) {  // the deadline passed: report it below
      }
    }
    const auto holder = lock_holder(conn_, key_);
    const std::chrono::milliseconds waited = since(start);
    throw migration_lock_timeout(
        fmt::format("pgorm: gave up waiting for the migration lock of {} after {} "
                    "(options::lock_timeout, --lock-timeout): {} holds it, probably applying "
                    "migrations; nothing was applied. Try again when it is done",
                    tracking_table(opts), seconds_text(limit == pgorm::no_timeout ? waited : limit),
                    holder.second.empty() ? std::string("another session") : holder.second),
        waited, holder.first);
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

// ---- where in the file --------------------------------------------------------------------

// Characters of `s`: code points when the client encoding is UTF-8, else bytes.
std::size_t characters(std::string_view s, bool utf8) {
  if (!utf8) return s.size();
  return static_cast<std::size_t>(std::count_if(
      s.begin(), s.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0U) != 0x80U; }));
}

// The byte offset of the 1-based character `pos` of `s` (the server counts characters).
std::size_t byte_of_character(std::string_view s, int pos, bool utf8) {
  const auto wanted = static_cast<std::size_t>(pos - 1);
  if (!utf8) return std::min(wanted, s.size());
  std::size_t seen = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if ((static_cast<unsigned char>(s[i]) & 0xC0U) == 0x80U) continue;
    if (seen++ == wanted) return i;
  }
  return s.size();
}

// 1-based line, and column in characters, of byte `at` of `text`.
std::pair<int, int> line_and_column(std::string_view text, std::size_t at, bool utf8) {
  at = std::min(at, text.size());
  int line = 1;
  std::size_t line_start = 0;
  for (std::size_t i = 0; i < at; ++i) {
    if (text[i] == '\n') {
      ++line;
      line_start = i + 1;
    }
  }
  return {line, static_cast<int>(characters(text.substr(line_start, at - line_start), utf8)) + 1};
}

bool client_is_utf8(connection& conn) noexcept {
  try {
    const auto r = conn.exec("select current_setting('client_encoding')");
    return r.value(0, 0) == "UTF8";
  } catch (...) {
    return true;  // PostgreSQL's usual client encoding
  }
}

// ---- CREATE INDEX and the INVALID index a failed concurrent build leaves ------------------

struct index_target {
  std::string index;  // the index's name as stored in pg_class (case-folded, unquoted)
  std::string table;  // the table as written (possibly qualified and quoted): for to_regclass
  std::string shown;  // the index's name as written, for messages
};

// `CREATE [UNIQUE] INDEX [CONCURRENTLY] [IF NOT EXISTS] name ON [ONLY] table ...`: the index's
// name and its table, when the statement names the index.
std::optional<index_target> created_index(std::string_view text) {
  sql::scanner scanner(text);
  sql::token t;
  const auto next = [&]() -> bool {
    while (scanner.next(t)) {
      if (!t.is_blank()) return true;
    }
    return false;
  };
  const auto is_word = [&](std::string_view lower) {
    return t.kind == sql::token_kind::word && sql::equals_word(t.text(text), lower);
  };
  if (!next() || !is_word("create") || !next()) return std::nullopt;
  if (is_word("unique") && !next()) return std::nullopt;
  if (!is_word("index") || !next()) return std::nullopt;
  if (is_word("concurrently") && !next()) return std::nullopt;
  if (is_word("if")) {
    if (!next() || !is_word("not") || !next() || !is_word("exists") || !next()) return std::nullopt;
  }
  index_target target;
  if (t.kind == sql::token_kind::word && !is_word("on")) {
    target.shown = std::string(t.text(text));
    for (const char c : t.text(text)) {
      target.index += static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
    }
  } else if (t.kind == sql::token_kind::quoted_identifier && t.text(text).front() == '"' &&
             t.terminated) {
    target.shown = std::string(t.text(text));
    const std::string_view inner = t.text(text).substr(1, t.end - t.begin - 2);
    for (std::size_t i = 0; i < inner.size(); ++i) {
      target.index += inner[i];
      if (inner[i] == '"') ++i;  // "" is one quote
    }
  } else {
    return std::nullopt;  // unnamed: the server picks a fresh name each time
  }
  if (!next() || !is_word("on") || !next()) return std::nullopt;
  if (is_word("only") && !next()) return std::nullopt;
  const std::size_t begin = t.begin;
  std::size_t end = t.begin;
  bool want_name = true;
  do {
    const bool name =
        t.kind == sql::token_kind::word || t.kind == sql::token_kind::quoted_identifier;
    const bool dot = t.kind == sql::token_kind::other && t.text(text) == ".";
    if (want_name ? !name : !dot) break;
    if (name) end = t.end;
    want_name = !want_name;
  } while (next());
  if (end == begin) return std::nullopt;
  target.table = std::string(text.substr(begin, end - begin));
  return target;
}

// True when the index `target` names exists and is INVALID (pg_index.indisvalid: a failed
// CREATE INDEX CONCURRENTLY leaves it behind). False when it is valid, absent, or the check
// itself failed.
bool index_is_invalid(connection& conn, const index_target& target) noexcept {
  try {
    const auto r = conn.exec(
        "select count(*) from pg_index i join pg_class c on c.oid = i.indexrelid "
        "where not i.indisvalid and c.relname = $1 "
        "and c.relnamespace = (select relnamespace from pg_class where oid = to_regclass($2))",
        {param::text(target.index), param::text(target.table)});
    return r.value(0, 0) != "0";
  } catch (...) {
    return false;
  }
}

// ---- running one migration ----------------------------------------------------------------

// Where a migration stopped: the statement that failed (or none: its COMMIT), and why.
struct stop {
  const sql::statement* statement = nullptr;
  std::string why;  // the error's what() or pgorm's own message
  std::string sqlstate;
  std::string message;
  std::string hint;
  int position = 0;
  std::string note;  // appended to the message (the INVALID index left behind)
};

class migration_clock {
 public:
  explicit migration_clock(std::chrono::milliseconds limit) : limit_(limit) {}
  [[nodiscard]] std::chrono::milliseconds elapsed() const { return since(start_); }
  // The deadline of the next statement: what is left of options::timeout, or none.
  [[nodiscard]] std::chrono::milliseconds remaining() const {
    if (limit_.count() <= 0) return pgorm::no_timeout;
    return std::max(limit_ - elapsed(), std::chrono::milliseconds(1));
  }

 private:
  steady::time_point start_ = steady::now();
  std::chrono::milliseconds limit_;
};

stop stop_from(const std::exception& e, const sql::statement* st) {
  stop s;
  s.statement = st;
  s.why = e.what();
  if (const auto* q = dynamic_cast<const sql_error*>(&e)) {
    s.sqlstate = q->sqlstate();
    s.message = q->message();
    s.hint = q->hint();
    s.position = q->position();
  }
  return s;
}

// Runs the statements of `f`; returns where it stopped, or nothing when all succeeded.
std::optional<stop> run_statements(connection& conn, const migration_file& f,
                                   const std::vector<sql::statement>& statements,
                                   const migration_clock& clock) {
  for (const sql::statement& st : statements) {
    const std::string_view text = st.text(f.sql);
    const std::optional<index_target> index = f.transactional ? std::nullopt : created_index(text);
    try {
      conn.exec(text, clock.remaining());
    } catch (const connection_error&) {
      throw;
    } catch (const error& e) {
      stop s = stop_from(e, &st);
      if (index && index_is_invalid(conn, *index)) {
        s.note = fmt::format(
            "; it left the INVALID index {0} behind, which a rerun with IF NOT EXISTS would "
            "skip: drop it (DROP INDEX CONCURRENTLY {0}) before applying again",
            index->shown);
      }
      return s;
    }
    if (index && index_is_invalid(conn, *index)) {
      stop s;
      s.statement = &st;
      s.why = fmt::format(
          "the index {0} on {1} is INVALID: an earlier CREATE INDEX CONCURRENTLY failed and "
          "left it, and this statement did not rebuild it (IF NOT EXISTS skips it). Drop it "
          "(DROP INDEX CONCURRENTLY {0}) and apply again",
          index->shown, index->table);
      return s;
    }
  }
  return std::nullopt;
}

[[noreturn]] void fail(connection& conn, const migration_file& f, const stop& s,
                       const std::vector<applied_migration>& applied) {
  failure details{.file = f.file,
                  .version = f.version,
                  .sqlstate = s.sqlstate,
                  .message = s.message,
                  .hint = s.hint,
                  .applied = applied};
  std::string where = s.statement == nullptr ? " at COMMIT" : "";
  if (s.statement != nullptr) {
    const bool utf8 = client_is_utf8(conn);
    std::size_t at = s.statement->first_token;
    if (s.position > 0) {
      at = s.statement->begin + byte_of_character(s.statement->text(f.sql), s.position, utf8);
    }
    const auto [line, column] = line_and_column(f.sql, at, utf8);
    details.line = line;
    if (s.position > 0) details.column = column;
    where = details.column > 0 ? fmt::format(" at line {}, column {}", line, column)
                               : fmt::format(" in the statement at line {}", line);
  }
  std::string text = fmt::format(
      "pgorm: migration {} failed{} and was {}: {}{}", f.file, where,
      f.transactional ? "rolled back" : "stopped (no-transaction: earlier statements stay)", s.why,
      s.note);
  if (!s.hint.empty()) text += fmt::format(" (hint: {})", s.hint);
  throw migration_error(text, std::move(details));
}

std::vector<sql::statement> statements_of(std::string_view text) {
  std::vector<sql::statement> out;
  sql::statement_splitter splitter(text);
  sql::statement st;
  while (splitter.next(st)) {
    if (st.has_content) out.push_back(st);
  }
  return out;
}

void check_version(std::string_view version, std::string_view what) {
  if (!all_digits(version)) {
    throw migration_error(
        fmt::format("pgorm: {} version \"{}\" must be digits, e.g. 0004", what, version),
        std::string{});
  }
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
  for (const sql::statement& st : statements_of(sql)) out.emplace_back(st.text(sql));
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
        fmt::format("pgorm: the migrations directory {} does not exist", dir.string()),
        std::string{});
  }
  std::vector<migration_file> files;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (!entry.is_regular_file() || !is_sql_file_name(entry.path().filename().string())) continue;
    migration_file f = make_file(entry.path().filename().string(), read_file(entry.path()));
    f.path = entry.path();
    files.push_back(std::move(f));
  }
  return sorted(std::move(files));
}

std::vector<migration_file> load(const embedded_migrations& set) {
  std::vector<migration_file> files;
  for (const embedded_file& e : set.files) {
    if (!is_sql_file_name(e.file)) {
      throw migration_error(fmt::format("pgorm: embedded migration {} of set \"{}\" does not end "
                                        "in .sql",
                                        e.file, set.name),
                            std::string(e.file));
    }
    migration_file f = make_file(std::string(e.file), std::string(e.sql));
    if (!e.sha256.empty() && e.sha256 != f.checksum) {
      throw migration_error(
          fmt::format("pgorm: embedded migration {} of set \"{}\" does not match the sha256 "
                      "recorded when it was embedded ({} at build time, {} now); rebuild",
                      f.file, set.name, e.sha256.substr(0, 12), f.checksum.substr(0, 12)),
          f.file, f.version);
    }
    files.push_back(std::move(f));
  }
  return sorted(std::move(files));
}

std::vector<migration_file> migration_source::load() const {
  return set_ != nullptr ? migrate::load(*set_) : migrate::load(dir_);
}

std::string migration_source::describe() const {
  if (set_ != nullptr) return fmt::format("embedded set \"{}\"", set_->name);
  return fmt::format("directory \"{}\"", dir_.string());
}

std::vector<migration_status> status(connection& conn, const migration_source& source,
                                     const options& opts) {
  const auto files = source.load();
  auto records = read_records(conn, opts);
  std::vector<migration_status> out;
  for (const auto& f : files) {
    const auto it = records.find(numeric_key(f.version));
    out.push_back(status_of(f, it == records.end() ? nullptr : &it->second));
    if (it != records.end()) records.erase(it);
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

status_summary summarize(const std::vector<migration_status>& list) noexcept {
  status_summary s;
  for (const auto& m : list) {
    switch (m.state) {
      case state::applied:
        ++s.applied;
        break;
      case state::pending:
        ++s.pending;
        break;
      case state::failed:
        ++s.failed;
        break;
      case state::changed:
        ++s.changed;
        break;
      case state::missing:
        ++s.missing;
        break;
    }
  }
  return s;
}

std::vector<applied_migration> apply(connection& conn, const migration_source& source,
                                     const options& opts) {
  refuse_inside_transaction(conn);
  const auto files = source.load();
  advisory_lock lock(conn, opts);
  ensure_table(conn, opts);
  // Read the records only now, under the lock: another runner may just have applied some.
  const auto records = read_records(conn, opts);

  std::vector<const migration_file*> todo;
  for (const auto& f : files) {
    const auto it = records.find(numeric_key(f.version));
    if (it != records.end() && it->second.success) {
      if (it->second.checksum != f.checksum) {
        throw migration_error(
            fmt::format("pgorm: migration {} was changed after it was applied (recorded "
                        "checksum {}, file now {}); restore the file and put the change in a new "
                        "migration",
                        f.file, it->second.checksum.substr(0, 12), f.checksum.substr(0, 12)),
            f.file, f.version);
      }
      continue;
    }
    todo.push_back(&f);
  }

  std::vector<applied_migration> ran;
  for (std::size_t i = 0; i < todo.size(); ++i) {
    const migration_file& f = *todo[i];
    const std::vector<sql::statement> statements = statements_of(f.sql);
    report(
        opts,
        {.kind = progress_kind::starting, .migration = &f, .index = i + 1, .count = todo.size()});
    const migration_clock clock(opts.timeout);
    std::optional<stop> stopped;
    try {
      if (f.transactional) {
        conn.exec("BEGIN");
        stopped = run_statements(conn, f, statements, clock);
        if (!stopped) {
          write_record(conn, opts, f, clock.elapsed().count(), true);
          try {
            conn.exec("COMMIT", clock.remaining());
          } catch (const connection_error&) {
            throw;
          } catch (const error& e) {
            stopped = stop_from(e, nullptr);
          }
        }
      } else {
        stopped = run_statements(conn, f, statements, clock);
        if (!stopped) write_record(conn, opts, f, clock.elapsed().count(), true);
      }
    } catch (const connection_error&) {
      throw;
    } catch (const error& e) {  // the runner's own statements (BEGIN, the tracking row)
      stopped = stop_from(e, nullptr);
    }
    if (stopped) {
      // Bounded; past the bound the connection is closed (which rolls back too).
      if (f.transactional && conn.status() != transaction_status::idle) {
        pgorm::detail::rollback_quietly(conn, "ROLLBACK");
      }
      try {
        write_record(conn, opts, f, clock.elapsed().count(), false);
      } catch (...) {  // NOLINT(bugprone-empty-catch): report the migration's own error
      }
      report(opts, {.kind = progress_kind::failed,
                    .migration = &f,
                    .index = i + 1,
                    .count = todo.size(),
                    .duration = clock.elapsed(),
                    .detail = stopped->why});
      fail(conn, f, *stopped, ran);
    }
    ran.push_back({f.version, f.name, f.file, clock.elapsed()});
    report(opts, {.kind = progress_kind::applied,
                  .migration = &f,
                  .index = i + 1,
                  .count = todo.size(),
                  .duration = ran.back().duration});
  }
  return ran;
}

std::vector<migration_status> baseline(connection& conn, const migration_source& source,
                                       std::string_view version, const options& opts) {
  check_version(version, "baseline");
  const auto files = source.load();
  advisory_lock lock(conn, opts);
  ensure_table(conn, opts);
  const auto records = read_records(conn, opts);
  std::vector<migration_status> marked;
  for (const auto& f : files) {
    if (version_less(version, f.version)) break;
    const auto it = records.find(numeric_key(f.version));
    if (it != records.end() && it->second.success) continue;
    write_record(conn, opts, f, 0, true);
    migration_status s = status_of(f, nullptr);
    s.state = state::applied;
    s.recorded_checksum = f.checksum;
    s.duration_ms = 0;
    marked.push_back(std::move(s));
  }
  return marked;
}

migration_status resolve(connection& conn, const migration_source& source, std::string_view version,
                         resolution how, const options& opts) {
  check_version(version, "resolve");
  const auto files = source.load();
  advisory_lock lock(conn, opts);
  ensure_table(conn, opts);
  const auto records = read_records(conn, opts);
  const std::string key = numeric_key(version);
  const auto file = std::find_if(files.begin(), files.end(), [&](const migration_file& f) {
    return numeric_key(f.version) == key;
  });
  const auto rec = records.find(key);
  const record* recorded = rec == records.end() ? nullptr : &rec->second;
  const std::string shown = file != files.end() ? file->file : std::string(version);

  if (how == resolution::applied) {
    if (file == files.end()) {
      throw migration_error(fmt::format("pgorm: resolve --applied {}: no migration of {} has "
                                        "that version",
                                        version, source.describe()),
                            {}, std::string(version));
    }
    if (recorded != nullptr && recorded->success) {
      throw migration_error(
          fmt::format("pgorm: resolve --applied {}: {} is already recorded as applied{}", version,
                      shown,
                      recorded->checksum != file->checksum
                          ? " (and the file was changed since: restore it, and put the change "
                            "in a new migration)"
                          : ""),
          file->file, file->version);
    }
    write_record(conn, opts, *file, 0, true);
    return status_of(*file, &read_records(conn, opts).at(key));
  }

  if (recorded == nullptr || recorded->success) {
    throw migration_error(
        fmt::format("pgorm: resolve --rolled-back {}: {} is {}, not failed; --rolled-back "
                    "forgets a failed attempt (to undo an applied migration, write a new one)",
                    version, shown,
                    recorded == nullptr ? "pending"
                    : file != files.end() && recorded->checksum != file->checksum
                        ? "applied (and changed since)"
                        : "applied"),
        file != files.end() ? file->file : std::string{}, std::string(version));
  }
  conn.exec(fmt::format("delete from {} where version = $1 and not success", tracking_table(opts)),
            {param::text(recorded->version)});
  if (file != files.end()) return status_of(*file, nullptr);
  migration_status s;
  s.version = recorded->version;
  s.name = recorded->name;
  s.state = state::pending;
  return s;
}

std::filesystem::path create(const std::filesystem::path& dir, std::string_view name,
                             const create_options& opts) {
  const std::string s = slug(name);
  if (s.empty()) {
    throw migration_error(fmt::format("pgorm: migration name \"{}\" needs a letter or digit", name),
                          std::string{});
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
