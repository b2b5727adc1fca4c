// SPDX-License-Identifier: MIT
#pragma once

/// \file
/// The migration runner: a directory of versioned SQL files (`0001_create_users.sql` or
/// `20240131120000_create_users.sql`), applied in version order, each in its own transaction
/// (unless its first line is `-- pgorm: no-transaction`), recorded in a tracking table
/// (`pgorm_migrations`: version, name, sha256 checksum, applied_at, duration_ms, success), with a
/// session advisory lock so concurrent runners apply each file exactly once. See
/// docs/migrations.md; the `pgorm migrate` CLI (tools/pgorm_cli.cpp) wraps these functions.
///
/// ```cpp
/// pgorm::connection conn{std::getenv("DATABASE_URL")};
/// auto applied = pgorm::migrate::apply(conn, "migrations");   // throws migration_error
/// for (const auto& s : pgorm::migrate::status(conn, "migrations")) use(s.version, s.state);
/// ```

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pgorm/error.hpp"
#include "pgorm/fwd.hpp"

namespace pgorm {

/// A migration could not be loaded, checked or applied. Names the file (and its version) when
/// one is concerned; when the server rejected the SQL, what() includes its message and
/// sqlstate() its SQLSTATE.
///
/// Example: `catch (const pgorm::migration_error& e) { std::cerr << e.file() << ": " << e.what();
/// }`
class migration_error : public error {
 public:
  migration_error(const std::string& what, std::string file, std::string version = {},
                  std::string sqlstate = {})
      : error(what),
        file_(std::move(file)),
        version_(std::move(version)),
        sqlstate_(std::move(sqlstate)) {}

  /// The migration file's name (e.g. "0003_add_index.sql"), or "" when no file is concerned.
  [[nodiscard]] const std::string& file() const noexcept { return file_; }
  /// The migration's version (e.g. "0003"), or "".
  [[nodiscard]] const std::string& version() const noexcept { return version_; }
  /// The SQLSTATE of the server error that failed the migration, or "".
  [[nodiscard]] const std::string& sqlstate() const noexcept { return sqlstate_; }

 private:
  std::string file_;
  std::string version_;
  std::string sqlstate_;
};

}  // namespace pgorm

namespace pgorm::migrate {

/// Where the runner keeps its records and how it locks.
struct options {
  /// The tracking table, unquoted; created on first use (in `tracking_schema`, or the first
  /// schema of the search_path when that is "").
  std::string tracking_table = "pgorm_migrations";
  /// The tracking table's schema, unquoted; "" for the search_path.
  std::string tracking_schema{};
  /// Deadline of each migration (its SQL and its COMMIT; each statement of a no-transaction
  /// one) and of apply()'s wait for the advisory lock while another runner applies. Zero, the
  /// default, means none: a migration may take as long as it needs, whatever the connection's
  /// connect_options::query_timeout (TCP keepalives still notice a dead server). Past it the
  /// statement is cancelled and the migration fails (migration_error, SQLSTATE 57014). The
  /// runner's own bookkeeping statements have the connection's query_timeout.
  ///
  /// Example: `pgorm::migrate::apply(conn, "migrations", {.timeout = std::chrono::minutes(10)});`
  std::chrono::milliseconds timeout{0};
};

/// One migration file, as read from the directory.
struct migration_file {
  std::string version;         ///< the digits before the first '_': "0003", "20240131120000"
  std::string name;            ///< the rest of the stem: "add_index"
  std::string file;            ///< the file name: "0003_add_index.sql"
  std::filesystem::path path;  ///< the full path
  std::string sql;             ///< the contents
  bool transactional = true;   ///< false when the first line is `-- pgorm: no-transaction`
};

/// Reads the migration files of `dir`, sorted by version (numerically). Files not ending in
/// ".sql" are ignored.
///
/// Throws migration_error, naming the file, for a .sql file whose name is not
/// `<digits>_<name>.sql`, for two files with the same version, and when `dir` is missing.
/// Example: `for (auto& f : pgorm::migrate::load("migrations")) std::puts(f.file.c_str());`
std::vector<migration_file> load(const std::filesystem::path& dir);

/// The state of one migration.
enum class state : unsigned char {
  pending,  ///< not applied yet
  applied,  ///< applied, and the file is unchanged
  failed,   ///< the last attempt failed (rolled back); the next apply() retries it
  changed,  ///< applied, but the file's checksum differs from the recorded one (an error)
  missing,  ///< recorded as applied, but no file has this version any more
};

/// "pending", "applied", "failed", "changed" or "missing".
std::string_view to_string(state s) noexcept;

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

/// The state of every migration file of `dir` (in version order), followed by the recorded
/// migrations whose file is gone (state::missing). Creates the tracking table if needed.
///
/// Throws migration_error (bad directory or file names), sql_error, connection_error.
/// Example: `auto st = pgorm::migrate::status(conn, "migrations");`
std::vector<migration_status> status(connection& conn, const std::filesystem::path& dir,
                                     const options& opts = {});

/// One migration apply() ran.
struct applied_migration {
  std::string version;                 ///< "0003"
  std::string name;                    ///< "add_index"
  std::string file;                    ///< "0003_add_index.sql"
  std::chrono::milliseconds duration;  ///< how long it took
};

/// Applies the pending (and previously failed) migrations of `dir` in version order, under a
/// session advisory lock (pg_advisory_lock) so that concurrent runners wait for each other
/// and each migration runs exactly once. Each migration runs in its own transaction together
/// with its tracking row, unless it starts with `-- pgorm: no-transaction` (then its
/// statements run one by one, for CREATE INDEX CONCURRENTLY). Returns what it ran; an empty
/// vector when nothing was pending.
///
/// Before running anything, every applied file's checksum is compared with the recorded one:
/// a changed file throws migration_error naming it. A migration that fails is rolled back,
/// recorded with success = false, and stops the run with migration_error naming the file
/// (the server's message and SQLSTATE included); the next apply() retries it.
///
/// Throws usage_error, before anything is sent, when `conn` is already in a transaction (a
/// pgorm::transaction, or a BEGIN of its own): the migrations' own COMMITs would commit the
/// caller's work early. Call it on a connection that is not in a transaction.
///
/// Example: `auto ran = pgorm::migrate::apply(conn, "migrations");`
std::vector<applied_migration> apply(connection& conn, const std::filesystem::path& dir,
                                     const options& opts = {});

/// Marks every migration of `dir` whose version is at most `version` as applied, without
/// running it (for a database that already has that schema). Returns the migrations it
/// marked; already applied ones are left alone.
///
/// Throws migration_error when `version` is not all digits.
/// Example: `pgorm::migrate::baseline(conn, "migrations", "0004");`
std::vector<migration_status> baseline(connection& conn, const std::filesystem::path& dir,
                                       std::string_view version, const options& opts = {});

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
std::filesystem::path create(const std::filesystem::path& dir, std::string_view name,
                             const create_options& opts = {});

/// The slug create() uses: "Add users!" gives "add_users".
std::string slug(std::string_view name);

/// True when the first line of a migration's SQL is `-- pgorm: no-transaction`.
bool wants_no_transaction(std::string_view sql) noexcept;

/// Splits SQL into statements at each ';' outside quotes, dollar quotes, comments, parentheses
/// and `BEGIN ATOMIC ... END` bodies (psql's rules). Each statement is its exact text, comments
/// included; statements with nothing but white space and comments are dropped. Used for
/// no-transaction migrations.
///
/// Example: `split_statements("select 1; select ';'")` gives {"select 1", " select ';'"}.
std::vector<std::string> split_statements(std::string_view sql);

}  // namespace pgorm::migrate
