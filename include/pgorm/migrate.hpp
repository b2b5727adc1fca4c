// SPDX-License-Identifier: MIT
#pragma once

/// \file
/// The migration runner: versioned SQL files (`0001_create_users.sql` or
/// `20240131120000_create_users.sql`), read from a directory at run time or embedded in the
/// binary (cmake/pgorm_embed_migrations.cmake), applied in version order, each in its own
/// transaction (unless its first line is `-- pgorm: no-transaction`), recorded in a tracking
/// table (`pgorm_migrations`: version, name, sha256 checksum, applied_at, duration_ms, success),
/// under a session advisory lock so concurrent runners apply each file exactly once. See
/// docs/migrations.md; the `pgorm migrate` CLI (tools/pgorm_cli.cpp) wraps these functions.
///
/// ```cpp
/// pgorm::connection conn{std::getenv("DATABASE_URL")};
/// auto applied = pgorm::migrate::apply(conn, "migrations");   // throws migration_error
/// for (const auto& s : pgorm::migrate::status(conn, "migrations")) use(s.version, s.state);
/// ```

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "pgorm/error.hpp"
#include "pgorm/export.hpp"
#include "pgorm/fwd.hpp"

namespace pgorm::migrate {

/// One migration apply() ran.
struct applied_migration {
  std::string version;                 ///< "0003"
  std::string name;                    ///< "add_index"
  std::string file;                    ///< "0003_add_index.sql"
  std::chrono::milliseconds duration;  ///< how long it took
};

/// Everything the runner knows about a failed migration: migration_error carries it.
struct failure {
  std::string file;      ///< the migration file's name, e.g. "0003_add_index.sql", or ""
  std::string version;   ///< its version, e.g. "0003", or ""
  std::string sqlstate;  ///< the SQLSTATE of the server's error, or ""
  /// 1-based line in the file: of the server's error position when it gave one, else of the
  /// first line of the statement that failed; 0 when no statement of a file failed.
  int line = 0;
  /// 1-based column (in characters) of the server's error position; 0 when it gave none.
  int column = 0;
  std::string message;  ///< the server's message, e.g. "division by zero", or ""
  std::string hint;     ///< the server's hint, or ""
  /// The migrations this run applied (and committed) before the failure, in order.
  std::vector<applied_migration> applied{};
};

}  // namespace pgorm::migrate

namespace pgorm {

/// A migration could not be loaded, checked or applied. Names the file (and its version) when
/// one is concerned; when the server rejected the SQL, what() includes its message, sqlstate()
/// its SQLSTATE, line() the line of the file, and hint() its hint. applied() lists what the
/// same apply() committed before the failure.
///
/// Example: `catch (const pgorm::migration_error& e) { std::cerr << e.file() << ':' << e.line();
/// }`
class PGORM_API migration_error : public error {
 public:
  /// An error about `file` (version `version`), with no server error.
  migration_error(const std::string& what, std::string file, std::string version = {},
                  std::string sqlstate = {})
      : migration_error(what, migrate::failure{.file = std::move(file),
                                               .version = std::move(version),
                                               .sqlstate = std::move(sqlstate),
                                               .line = 0,
                                               .column = 0,
                                               .message = {},
                                               .hint = {},
                                               .applied = {}}) {}
  /// An error with everything the runner knows (migrate::failure).
  migration_error(const std::string& what, migrate::failure details)
      : error(what), details_(std::make_shared<const migrate::failure>(std::move(details))) {}

  /// The migration file's name (e.g. "0003_add_index.sql"), or "" when no file is concerned.
  [[nodiscard]] const std::string& file() const noexcept { return details_->file; }
  /// The migration's version (e.g. "0003"), or "".
  [[nodiscard]] const std::string& version() const noexcept { return details_->version; }
  /// The SQLSTATE of the server error that failed the migration, or "".
  [[nodiscard]] const std::string& sqlstate() const noexcept { return details_->sqlstate; }
  /// The 1-based line of the file where it failed (see migrate::failure::line), or 0.
  [[nodiscard]] int line() const noexcept { return details_->line; }
  /// The 1-based column of the server's error position on line(), or 0.
  [[nodiscard]] int column() const noexcept { return details_->column; }
  /// The server's hint, or "".
  [[nodiscard]] const std::string& hint() const noexcept { return details_->hint; }
  /// The migrations the same run applied before this failure.
  [[nodiscard]] const std::vector<migrate::applied_migration>& applied() const noexcept {
    return details_->applied;
  }
  /// All of the above.
  [[nodiscard]] const migrate::failure& details() const noexcept { return *details_; }

 private:
  // Shared so that copying an exception (which must not throw) only bumps a count.
  std::shared_ptr<const migrate::failure> details_;
};

/// apply(), baseline() or resolve() gave up waiting for the migration lock, which another
/// runner held for longer than migrate::options::lock_timeout. Nothing was applied or
/// recorded; the connection stays usable. what() names the holder (process id, application
/// name, client address) when the server shows it.
///
/// Example: `catch (const pgorm::migration_lock_timeout& e) { retry_later(e.holder_pid()); }`
class PGORM_API migration_lock_timeout : public migration_error {
 public:
  migration_lock_timeout(const std::string& what, std::chrono::milliseconds waited, int holder_pid)
      : migration_error(what, migrate::failure{}), waited_(waited), holder_pid_(holder_pid) {}

  /// How long it waited.
  [[nodiscard]] std::chrono::milliseconds waited() const noexcept { return waited_; }
  /// The server process id of the session holding the lock, or 0 when it was not seen.
  [[nodiscard]] int holder_pid() const noexcept { return holder_pid_; }

 private:
  std::chrono::milliseconds waited_;
  int holder_pid_;
};

}  // namespace pgorm

namespace pgorm::migrate {

/// One migration file, as read from a directory or an embedded set.
struct migration_file {
  std::string version;         ///< the digits before the first '_': "0003", "20240131120000"
  std::string name;            ///< the rest of the stem: "add_index"
  std::string file;            ///< the file name: "0003_add_index.sql"
  std::filesystem::path path;  ///< the full path; "" for an embedded file
  std::string sql;             ///< the contents
  bool transactional = true;   ///< false when the first line is `-- pgorm: no-transaction`
  std::string checksum{};      ///< sha256 of the contents, 64 hex digits (the tracking table's)
};

/// One file of an embedded set: what the CMake helper pgorm_embed_migrations() generates.
struct embedded_file {
  std::string_view file;    ///< "0001_create_users.sql"
  std::string_view sql;     ///< the file's bytes
  std::string_view sha256;  ///< CMake's file(SHA256) of the file, 64 hex digits ("": unchecked)
};

/// A migrations directory compiled into the program by pgorm_embed_migrations() (see
/// docs/migrations.md), so that a deployed binary carries its migrations. Any static array of
/// embedded_file works too.
///
/// Example: `pgorm::migrate::apply(conn, app_migrations());` (app_migrations.hpp, generated)
struct embedded_migrations {
  std::string_view name;                   ///< the set's name, e.g. "app_migrations"
  std::string_view directory;              ///< the directory it was made from (for messages)
  std::span<const embedded_file> files{};  ///< the files, in any order
};

/// Where migrations come from: a directory read at run time, or an embedded set. Converts
/// implicitly from either, so apply(conn, "migrations") and apply(conn, app_migrations())
/// both work.
///
/// Example: `pgorm::migrate::migration_source src = use_files ? dir : app_migrations();`
class PGORM_API migration_source {
 public:
  // NOLINTBEGIN(google-explicit-constructor): implicit on purpose, see above
  /// The .sql files of a directory, read when they are needed.
  migration_source(std::filesystem::path dir) : dir_(std::move(dir)) {}
  /// The directory `dir`.
  migration_source(const char* dir) : dir_(dir) {}
  /// The directory `dir`.
  migration_source(const std::string& dir) : dir_(dir) {}
  /// The directory `dir`.
  migration_source(std::string_view dir) : dir_(dir) {}
  /// An embedded set; it must outlive the source (the generated ones are static).
  migration_source(const embedded_migrations& set) : set_(&set) {}
  // NOLINTEND(google-explicit-constructor)

  /// Reads the migrations, sorted by version: load(dir) or load(set).
  [[nodiscard]] std::vector<migration_file> load() const;
  /// True for an embedded set.
  [[nodiscard]] bool embedded() const noexcept { return set_ != nullptr; }
  /// The directory ("" for an embedded set).
  [[nodiscard]] const std::filesystem::path& directory() const noexcept { return dir_; }
  /// For messages: `directory "migrations"` or `embedded set "app_migrations"`.
  [[nodiscard]] std::string describe() const;

 private:
  std::filesystem::path dir_;
  const embedded_migrations* set_ = nullptr;
};

/// What options::on_progress hears about.
enum class progress_kind : unsigned char {
  waiting_for_lock,  ///< another runner holds the lock: waiting (detail: who holds it)
  starting,          ///< a migration is about to run
  applied,           ///< it ran and was committed and recorded
  failed,            ///< it failed (detail: the error); the run stops
};

/// One step of apply(), for options::on_progress.
struct progress {
  progress_kind kind = progress_kind::starting;
  /// The migration concerned; nullptr for waiting_for_lock.
  const migration_file* migration = nullptr;
  std::size_t index = 0;  ///< its 1-based position among the migrations this run applies
  std::size_t count = 0;  ///< how many migrations this run applies (0 while waiting for lock)
  std::chrono::milliseconds duration{0};  ///< applied, failed: how long it took
  std::string_view detail{};              ///< waiting_for_lock, failed: see progress_kind
};

/// Where the runner keeps its records, how it locks, and what it reports.
struct options {
  /// The tracking table, unquoted; created on first use (in `tracking_schema`, or the first
  /// schema of the search_path when that is "").
  std::string tracking_table = "pgorm_migrations";
  /// The tracking table's schema, unquoted; "" for the search_path.
  std::string tracking_schema{};
  /// Deadline of each migration (all of its statements and its COMMIT). Zero, the default,
  /// means none: a migration may take as long as it needs, whatever the connection's
  /// connect_options::query_timeout (TCP keepalives still notice a dead server). Past it the
  /// statement is cancelled and the migration fails (migration_error, SQLSTATE 57014). The
  /// runner's own bookkeeping statements have the connection's query_timeout.
  ///
  /// Example: `pgorm::migrate::apply(conn, "migrations", {.timeout = std::chrono::minutes(10)});`
  std::chrono::milliseconds timeout{0};
  /// How long apply(), baseline() and resolve() wait for the migration lock while another
  /// runner holds it: 10 s by default (as Prisma); past it they throw migration_lock_timeout,
  /// having applied nothing. Zero: do not wait. pgorm::no_timeout: wait as long as it takes.
  std::chrono::milliseconds lock_timeout{std::chrono::seconds(10)};
  /// Called by apply() as it goes: while it waits for the lock, before each migration, after
  /// each one is committed, and when one fails. Called outside the migrations' transactions;
  /// an exception it throws stops the run and propagates.
  ///
  /// Example: `{.on_progress = [](const pgorm::migrate::progress& p) { log(p.kind); }}`
  std::function<void(const progress&)> on_progress{};
};

/// Reads the migration files of `dir`, sorted by version (numerically). Files not ending in
/// ".sql" are ignored.
///
/// Throws migration_error, naming the file, for a .sql file whose name is not
/// `<digits>_<name>.sql`, for two files with the same version, and when `dir` is missing.
/// Example: `for (auto& f : pgorm::migrate::load("migrations")) std::puts(f.file.c_str());`
PGORM_API std::vector<migration_file> load(const std::filesystem::path& dir);

/// Reads an embedded set, sorted by version, with the same checks as load(dir); also throws
/// migration_error when a file's contents do not match the sha256 recorded at build time.
///
/// Example: `auto files = pgorm::migrate::load(app_migrations());`
PGORM_API std::vector<migration_file> load(const embedded_migrations& set);

/// The state of one migration.
enum class state : unsigned char {
  pending,  ///< not applied yet
  applied,  ///< applied, and the file is unchanged
  failed,   ///< the last attempt failed (rolled back); the next apply() retries it
  changed,  ///< applied, but the file's checksum differs from the recorded one (an error)
  missing,  ///< recorded as applied, but no file has this version any more
};

/// "pending", "applied", "failed", "changed" or "missing".
PGORM_API std::string_view to_string(state s) noexcept;

/// A migration and its state, as status() reports it.
struct migration_status {
  std::string version;                      ///< "0003"
  std::string name;                         ///< "add_index"
  std::string file;                         ///< "0003_add_index.sql" ("" for missing)
  migrate::state state = state::pending;    ///< see migrate::state
  std::string checksum;                     ///< sha256 of the file, hex ("" for missing)
  std::string recorded_checksum;            ///< the tracking table's checksum, "" when none
  std::optional<std::string> applied_at;    ///< when it was (last) run, as the server prints it
  std::optional<std::int64_t> duration_ms;  ///< how long it took
};

/// The state of every migration of `source` (in version order), followed by the recorded
/// migrations whose file is gone (state::missing). Does not create the tracking table.
///
/// Throws migration_error (bad directory or file names), sql_error, connection_error.
/// Example: `auto st = pgorm::migrate::status(conn, "migrations");`
PGORM_API std::vector<migration_status> status(connection& conn, const migration_source& source,
                                               const options& opts = {});

/// How many migrations status() found in each state, and what that means for a deploy.
struct status_summary {
  std::size_t applied = 0;  ///< state::applied
  std::size_t pending = 0;  ///< state::pending
  std::size_t failed = 0;   ///< state::failed
  std::size_t changed = 0;  ///< state::changed
  std::size_t missing = 0;  ///< state::missing

  /// Every migration is applied and unchanged, and none is missing.
  [[nodiscard]] bool up_to_date() const noexcept {
    return pending == 0 && failed == 0 && changed == 0 && missing == 0;
  }
  /// Something apply() does not settle: a failed, changed or missing migration.
  [[nodiscard]] bool needs_attention() const noexcept {
    return failed != 0 || changed != 0 || missing != 0;
  }
};

/// Counts `list` by state.
///
/// Example: `if (!pgorm::migrate::summarize(pgorm::migrate::status(conn, dir)).up_to_date())`
PGORM_API status_summary summarize(const std::vector<migration_status>& list) noexcept;

/// Applies the pending (and previously failed) migrations of `source` in version order, under
/// a session advisory lock (pg_advisory_lock) so that concurrent runners wait for each other
/// (at most options::lock_timeout: migration_lock_timeout) and each migration runs exactly
/// once. Each migration runs in its own transaction, statement by statement, together with its
/// tracking row, unless it starts with `-- pgorm: no-transaction`: then its statements run one
/// by one outside a transaction (for CREATE INDEX CONCURRENTLY), and it is recorded as applied
/// only when every statement succeeded and every index its CREATE INDEX statements name is
/// valid (a failed concurrent build leaves an INVALID index, which IF NOT EXISTS would skip).
/// Returns what it ran; an empty vector when nothing was pending.
///
/// Before running anything, every applied file's checksum is compared with the recorded one:
/// a changed file throws migration_error naming it. A migration that fails is rolled back,
/// recorded with success = false, and stops the run with migration_error naming the file, the
/// line and the server's message, SQLSTATE and hint, and listing what the run applied before
/// (migration_error::applied()); the next apply() retries it.
///
/// Throws usage_error, before anything is sent, when `conn` is already in a transaction (a
/// pgorm::transaction, or a BEGIN of its own): the migrations' own COMMITs would commit the
/// caller's work early. Call it on a connection that is not in a transaction.
///
/// Example: `auto ran = pgorm::migrate::apply(conn, "migrations");`
PGORM_API std::vector<applied_migration> apply(connection& conn, const migration_source& source,
                                               const options& opts = {});

/// Marks every migration of `source` whose version is at most `version` as applied, without
/// running it (for a database that already has that schema). Returns the migrations it
/// marked; already applied ones are left alone. To mark a single one, use resolve().
///
/// Throws migration_error when `version` is not all digits.
/// Example: `pgorm::migrate::baseline(conn, "migrations", "0004");`
PGORM_API std::vector<migration_status> baseline(connection& conn, const migration_source& source,
                                                 std::string_view version,
                                                 const options& opts = {});

/// What resolve() records.
enum class resolution : unsigned char {
  /// The migration was applied by hand: record it as applied, without running it (it must be
  /// pending or failed). Like `prisma migrate resolve --applied`.
  applied,
  /// The failed migration was rolled back (or cleaned up) by hand: forget the failed attempt,
  /// so that it is pending again (it must be failed). Like `prisma migrate resolve
  /// --rolled-back`.
  rolled_back,
};

/// Records one migration as applied or rolled back without running anything (see resolution),
/// under the migration lock. Returns its state afterwards.
///
/// Throws migration_error when `version` is not all digits, names no migration, or is not in
/// a state the resolution applies to (e.g. --applied on an applied migration).
/// Example: `pgorm::migrate::resolve(conn, "migrations", "0005",
/// pgorm::migrate::resolution::rolled_back);`
PGORM_API migration_status resolve(connection& conn, const migration_source& source,
                                   std::string_view version, resolution how,
                                   const options& opts = {});

/// Options of create().
struct create_options {
  /// Name the file with a UTC timestamp (YYYYMMDDHHMMSS) instead of the next number. A
  /// directory whose newest file is timestamped gets a timestamp anyway.
  bool timestamp = false;
  /// The file's contents after its header comment.
  std::string sql{};
};

/// Creates the next migration file of `dir`: `NNNN_<slug>.sql` with NNNN one more than the
/// highest version (4 digits, or as wide as the widest existing one), where slug is `name` in
/// lower case with runs of other characters turned into '_'. Creates `dir` if needed and
/// returns the new file's path.
///
/// Throws migration_error when the name has no letter or digit or the file cannot be written.
/// Example: `pgorm::migrate::create("migrations", "Add users")` may give
/// "migrations/0004_add_users.sql".
PGORM_API std::filesystem::path create(const std::filesystem::path& dir, std::string_view name,
                                       const create_options& opts = {});

/// The slug create() uses: "Add users!" gives "add_users".
PGORM_API std::string slug(std::string_view name);

/// True when the first line of a migration's SQL is `-- pgorm: no-transaction`.
PGORM_API bool wants_no_transaction(std::string_view sql) noexcept;

/// Splits SQL into the statements apply() runs one by one: at each ';' outside quotes, dollar
/// quotes, comments, parentheses and `BEGIN ATOMIC ... END` bodies (psql's rules). Each
/// statement is its exact text, comments included; statements with nothing but white space
/// and comments are dropped.
///
/// Example: `split_statements("select 1; select ';'")` gives {"select 1", " select ';'"}.
PGORM_API std::vector<std::string> split_statements(std::string_view sql);

}  // namespace pgorm::migrate
