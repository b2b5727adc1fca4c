// SPDX-License-Identifier: MIT
#pragma once

/// \file
/// A single PostgreSQL connection over libpq.
///
/// Thread safety: a connection (and a result) may be used by one thread at a time; different
/// connections are independent. Move a connection between threads freely, but do not share it.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <memory>
#include <optional>
#include <span>
#include <stop_token>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "pgorm/detail/deadline.hpp"
#include "pgorm/error.hpp"
#include "pgorm/executor.hpp"
#include "pgorm/export.hpp"
#include "pgorm/fwd.hpp"
#include "pgorm/notification.hpp"
#include "pgorm/observer.hpp"
#include "pgorm/param_pack.hpp"
#include "pgorm/query_methods.hpp"
#include "pgorm/result.hpp"
#include "pgorm/sql_text.hpp"

namespace pgorm {

/// What stands between pgorm and PostgreSQL: connect_options::pooler (docs/scaling.md). Every
/// mode but `none` is a transaction-mode pooler; they differ only in prepared statements.
///
/// Example: `pgorm::connect_options o; o.pooler = pgorm::pooler_mode::transaction;`
enum class pooler_mode {
  /// A PostgreSQL server, or a pooler in session mode (each client keeps its server session).
  none,
  /// A pooler in transaction mode (PgBouncer `pool_mode = transaction`, or a managed pooler on
  /// its transaction port): each transaction may run on another server session, so nothing
  /// may outlive a transaction on the server. pgorm then uses only unnamed statements, sends no
  /// session settings, enforces connect_options::statement_timeout per statement (client-side
  /// deadline and cancel request), skips the pool's DISCARD ALL reset, and refuses what needs a
  /// session (LISTEN, migrations' session lock) with pooler_unsupported.
  transaction,
  /// As `transaction`, through a pooler that keeps protocol-level named prepared statements
  /// in transaction mode: PgBouncer >= 1.21 with `max_prepared_statements` > 0. pgorm keeps its
  /// statement cache (connect_options::prepare): each statement is prepared once per pgorm
  /// connection, and the pooler prepares it again on each server session that has not seen it.
  /// A statement evicted from the cache is forgotten rather than DEALLOCATEd (the pooler frees
  /// it with the client connection). Only for a pooler configured so: PgBouncer < 1.21, or
  /// `max_prepared_statements = 0`, fails with "prepared statement ... does not exist".
  ///
  /// Example: `o.pooler = pgorm::pooler_mode::transaction_prepared;  // PgBouncer 1.24`
  transaction_prepared,
};

/// An operation that needs a server session of its own was asked of a connection whose
/// connect_options::pooler is pooler_mode::transaction: LISTEN, migrations, session settings.
/// what() names the operation and says why. A usage_error: the call cannot work there.
///
/// Example: `catch (const pgorm::pooler_unsupported& e) { /* connect directly instead */ }`
class PGORM_API pooler_unsupported : public usage_error {
 public:
  using usage_error::usage_error;
};

/// True when `sql` is a LISTEN statement: its first keyword, after white space and SQL
/// comments (`--` and nested `/* */`), is LISTEN in any case. The one check that
/// connection::exec() and listeners share to refuse LISTEN behind a transaction pooler.
///
/// Example: `pgorm::is_listen_statement("/* x */ listen jobs")` is true.
[[nodiscard]] PGORM_API bool is_listen_statement(std::string_view sql) noexcept;

/// Options for opening a connection.
struct connect_options {
  /// Deadline of one connection attempt to one host (TLS and authentication included), to the
  /// millisecond. A multi-host string (`host=a,b`) gets it per host, tried in order, so a
  /// black-holed first host does not use up the time of the others. Zero means: the conninfo's
  /// connect_timeout (or PGCONNECT_TIMEOUT), else none.
  std::chrono::milliseconds connect_timeout{std::chrono::seconds(5)};
  /// The default deadline of every call on the connection that does not pass its own: a
  /// statement, a streamed query, a pipeline, a COPY, BEGIN/COMMIT/ROLLBACK, DISCARD. It covers
  /// the whole call (prepare, execute, retry and reading every row). Past it the statement is
  /// cancelled on the server and query_canceled is thrown (the connection stays usable), or,
  /// when the server does not answer within cancel_grace, the connection is closed and
  /// connection_error is thrown. Zero means none (calls wait as long as the server takes;
  /// TCP keepalives still notice a dead peer).
  std::chrono::milliseconds query_timeout{std::chrono::seconds(30)};
  /// How long a call waits, after its deadline, for the server to acknowledge the cancel
  /// request and end the statement before the connection is closed instead.
  std::chrono::milliseconds cancel_grace{80};
  /// Prepare each distinct SQL text with parameters once per connection, under a name derived
  /// from the text, and reuse it. false: only unnamed statements. pooler_mode::transaction
  /// sets it false (a prepared statement may vanish between two queries there);
  /// pooler_mode::transaction_prepared leaves it as it is.
  bool prepare = true;
  /// Set pooler_mode::transaction when connecting through a transaction-mode pooler such as
  /// PgBouncer (see pooler_mode): implies prepare = false (pooler_mode::transaction_prepared,
  /// for PgBouncer >= 1.21 with max_prepared_statements, keeps it); statement_timeout becomes a
  /// per-statement client deadline (the shorter of it and query_timeout); non-empty `settings`
  /// throw pooler_unsupported, since a pooler cannot keep session settings. Not detected
  /// automatically: PgBouncer forwards the server's own server_version and answers SQL as the
  /// server does, so nothing on the wire tells a pooler apart reliably.
  pooler_mode pooler = pooler_mode::none;
  /// The most prepared statements kept per connection; the least recently used is deallocated.
  std::size_t statement_cache_size = 256;
  /// Server-side statement_timeout for the session (0: the server's setting). A statement that
  /// runs longer is cancelled by the server: query_canceled. Sent with the startup packet (as
  /// `options=-c statement_timeout=...`), so it is the session's default: RESET ALL and
  /// DISCARD ALL (a pool's reset) return to it.
  std::chrono::milliseconds statement_timeout{0};
  /// Session settings (name, value), e.g. {{"search_path", "app,public"}}, sent with the startup
  /// packet like statement_timeout, so they survive RESET ALL and DISCARD ALL. A name must be
  /// a setting name (letters, digits, '_' and '.'); anything else is a usage_error.
  std::vector<std::pair<std::string, std::string>> settings{};
  /// Receives query events (see observer.hpp); none when empty.
  std::shared_ptr<observer> events{};
};

/// A statement of a connection's prepared-statement cache (connection::prepare_cached()).
struct prepared_statement {
  /// The server-side name to pass to PQsendQueryPrepared; "" when not prepared.
  std::string name;
};

/// Transaction state of a connection's session (libpq's PQtransactionStatus).
enum class transaction_status { idle, active, in_transaction, in_error, unknown };

namespace detail {
class param_arrays;
struct cancel_state;
struct connection_access;
struct notice_sink;
struct statement_entry;

/// A statement of the cache, for pgorm's own senders (the pipeline): its name and its entry,
/// both valid until the cache changes. Empty when not prepared.
struct prepared_ref {
  const std::string* name = nullptr;
  statement_entry* entry = nullptr;
};

/// Runs a transaction function on a connection. Declared here, defined by pgorm/transaction.hpp.
template <class F>
struct transaction_entry;

/// True when pgorm/transaction.hpp is visible; else a compile error saying to include it.
template <class F>
consteval bool transactions_visible() {
  static_assert(defined_type<transaction_entry<F>>,
                "pgorm: conn.transaction(fn) needs #include \"pgorm/transaction.hpp\" (or "
                "\"pgorm/pgorm.hpp\")");
  return defined_type<transaction_entry<F>>;
}
}  // namespace detail

/// One open libpq connection. Move-only RAII: the destructor closes it.
///
/// Opens from a URL (`postgresql://user@host:5432/db?sslmode=require`) or a key=value string
/// (`host=/tmp port=5432 dbname=app`); libpq's PG* environment variables fill what is left
/// out, as libpq documents. Not thread-safe: one thread at a time.
///
/// Example:
/// ```
/// pgorm::connection conn{"postgresql://app@localhost/app", {.connect_timeout = 2s}};
/// auto r = conn.exec("select $1::int * 2", {pgorm::param::text("21")});
/// ```
class PGORM_API connection : public query_methods<connection> {
 public:
  /// Connects, or throws connection_error (whose text never contains the password).
  ///
  /// Unless the connection string says otherwise, TCP keepalives are on (keepalives_idle=30,
  /// keepalives_interval=10, keepalives_count=3) and tcp_user_timeout=30000, so a peer that
  /// vanished is noticed within about a minute even on an idle connection.
  explicit connection(std::string_view conninfo, connect_options options = {});
  /// Connects like the constructor above, but gives up promptly (connection_error) when `stop`
  /// is requested from another thread, e.g. by a pool that is shutting down.
  ///
  /// Example: `std::stop_source s; pgorm::connection c{url, {}, s.get_token()};`
  connection(std::string_view conninfo, connect_options options, std::stop_token stop);
  connection(connection&& other) noexcept;
  connection& operator=(connection&& other) noexcept;
  connection(const connection&) = delete;
  connection& operator=(const connection&) = delete;
  ~connection();

  /// Runs one or more ;-separated statements through the simple query protocol, with text
  /// results, and returns the result of the last one. Throws sql_error (or a subclass) when the
  /// server rejects a statement, connection_error when the connection fails. The deadline is
  /// connect_options::query_timeout.
  result exec(std::string_view sql);
  /// exec(sql) with its own deadline (zero: the connection's default; pgorm::no_timeout: none);
  /// see connect_options::query_timeout for what
  /// happens when it passes.
  ///
  /// Example: `conn.exec("vacuum analyze users", std::chrono::minutes(5));`
  result exec(std::string_view sql, std::chrono::milliseconds timeout);

  /// Runs one statement with `$1, $2, ...` parameters through the extended protocol.
  /// `result_format` chooses text or binary results for all columns. The deadline is
  /// connect_options::query_timeout.
  result exec(std::string_view sql, std::span<const param> params,
              data_format result_format = data_format::text);
  result exec(std::string_view sql, std::initializer_list<param> params,
              data_format result_format = data_format::text) {
    return exec(sql, std::span<const param>(params.begin(), params.size()), result_format);
  }
  /// exec() with its own deadline for the whole call (preparing the statement included): when
  /// `timeout` passes before the result arrives, the statement is cancelled on the server and
  /// query_canceled is thrown; the connection stays usable. When the server does not answer the
  /// cancel within connect_options::cancel_grace, the connection is closed and connection_error
  /// is thrown instead. A zero timeout means the connection's default
  /// (connect_options::query_timeout); pgorm::no_timeout means none.
  result exec(std::string_view sql, std::span<const param> params, data_format result_format,
              std::chrono::milliseconds timeout);
  /// exec() of a statement whose shape a builder knows (see statement_shape.hpp): the cache
  /// finds it by the compile-time key, and a binary result whose columns match the shape's row
  /// layout says so (result::checked_layout()), checked once per prepared statement. Zero
  /// timeout: the connection's default.
  ///
  /// Example: `auto r = conn.exec(pgorm::statement_shape{.sql = "select 1"}, {}, fmt);`
  result exec(const statement_shape& shape, const param_pack& params, data_format result_format,
              std::chrono::milliseconds timeout = {});

  /// Asks the server to cancel the statement running on this connection, and waits (at most
  /// connect_options::connect_timeout) until the server has taken the request in. Thread-safe:
  /// call it from another thread while this one waits in exec(), even while the connection is
  /// being closed. The cancelled statement throws query_canceled. The request can never reach
  /// a statement that starts after cancel() returned: the connection sends its next statement
  /// only once the server has acknowledged every cancel request. Does nothing when the
  /// connection is closed; harmless when no statement runs. Throws connection_error when the
  /// request cannot be delivered.
  void cancel() const;

  /// Runs DISCARD ALL (drops session state: settings, temp tables, prepared statements,
  /// advisory locks) and forgets the prepared-statement cache accordingly.
  void discard_all();
  /// discard_all() within a deadline: when `timeout` passes first, the statement is cancelled
  /// (query_canceled; the session was not reset) or, on a dead or black-holed link, the
  /// connection is closed (connection_error). A zero timeout means the connection's default.
  /// The pool resets returned connections this way (pool_options::reset_timeout).
  ///
  /// Example: `conn.discard_all(std::chrono::seconds(2));`
  void discard_all(std::chrono::milliseconds timeout);

  /// The cached prepared statement for `sql` with the types of `params` (its name), preparing
  /// it first (one round trip) when the cache does not hold it; empty (name "") when statements
  /// are not prepared (connect_options::prepare is false) or the text cannot be cached. For code
  /// that sends statements itself, such as pgorm::pipeline; valid until the cache evicts it.
  ///
  /// Example: `auto s = conn.prepare_cached("select $1::int", {pgorm::param::text("1")});`
  prepared_statement prepare_cached(std::string_view sql, std::span<const param> params);
  prepared_statement prepare_cached(std::string_view sql, std::initializer_list<param> params) {
    return prepare_cached(sql, std::span<const param>(params.begin(), params.size()));
  }

  /// The name of the cached prepared statement for `sql` with the types of `params`,
  /// preparing it first (one round trip) when the cache does not hold it; "" when statements
  /// are not prepared (connect_options::prepare is false) or the text cannot be cached. For
  /// code that sends statements itself, such as pgorm::pipeline; the name stays valid until
  /// the cache evicts it (statement_cache_size newer statements later).
  std::string prepared_name(std::string_view sql, std::span<const param> params);

  /// The most statements the cache keeps (connect_options::statement_cache_size).
  [[nodiscard]] std::size_t statement_cache_capacity() const noexcept {
    return options_.statement_cache_size == 0 ? 1 : options_.statement_cache_size;
  }

  /// Number of statements currently prepared on this connection by the cache.
  [[nodiscard]] std::size_t prepared_statements() const noexcept;

  /// The observer that receives this connection's query events, or nullptr.
  [[nodiscard]] observer* events() const noexcept { return options_.events.get(); }
  /// The pooler this connection was opened through (connect_options::pooler).
  [[nodiscard]] pooler_mode pooler() const noexcept { return options_.pooler; }

  /// Replaces the observer that receives this connection's query events.
  void set_observer(std::shared_ptr<observer> events) noexcept;

  /// Runs one statement like exec(sql, params, format), but hands each row to `on_row` as a
  /// one-row result as soon as it arrives (libpq single-row mode), so a large result never sits
  /// in memory whole. An exception from `on_row` cancels the statement on the server, drains
  /// the connection and propagates.
  void exec_each(std::string_view sql, std::span<const param> params, data_format result_format,
                 const std::function<void(const result&)>& on_row);
  /// exec_each() with its own deadline for the whole stream (zero: the connection's default;
  /// pgorm::no_timeout: none).
  void exec_each(std::string_view sql, std::span<const param> params, data_format result_format,
                 const std::function<void(const result&)>& on_row,
                 std::chrono::milliseconds timeout);

  /// A round trip with the server (an empty query) within `timeout` (zero: the connection's
  /// default): true when it answered and the session is idle. Never throws; past the
  /// deadline, or on a broken link, the connection is closed and false returned. Not reported
  /// to the observer. The pool checks idle connections with it.
  ///
  /// Example: `if (!conn.ping(std::chrono::milliseconds(200))) reconnect();`
  [[nodiscard]] bool ping(std::chrono::milliseconds timeout) noexcept;

  /// LISTEN on `channel` (quoted as an identifier, so case and any character are kept; see
  /// docs/notifications.md). Notifications then queue on this connection until
  /// wait_for_notification() takes them, while other statements run too. Throws usage_error
  /// for a name that cannot be a channel (empty, over max_channel_length bytes, NUL byte).
  ///
  /// Example: `conn.listen("jobs");`
  void listen(std::string_view channel);
  /// UNLISTEN `channel` (quoted like listen()); notifications already queued stay queued.
  void unlisten(std::string_view channel);
  /// UNLISTEN * : stops listening on every channel.
  void unlisten_all();
  /// pgorm::notify(*this, channel, payload): `select pg_notify($1, $2)` (see notification.hpp).
  ///
  /// Example: `conn.notify("jobs", "42");`
  void notify(std::string_view channel, std::string_view payload = {});
  /// The next notification for a channel this connection listens on, waiting at most `timeout`
  /// for one to arrive; std::nullopt when none came in time. Notifications that arrived while
  /// other statements ran were queued by libpq and are returned first, oldest first, without
  /// waiting. A zero (or negative) timeout only takes what has already arrived; pgorm::no_timeout
  /// is a usage_error (call it in a loop to wait longer). Sends nothing; throws
  /// connection_error when the connection is lost (after returning what arrived before).
  /// Notifications reach a session only between its transactions.
  ///
  /// Example: `while (auto n = conn.wait_for_notification(1s)) handle(*n);`
  [[nodiscard]] std::optional<notification> wait_for_notification(
      std::chrono::milliseconds timeout);
  /// wait_for_notification() until `deadline` (a past deadline only takes what has arrived).
  [[nodiscard]] std::optional<notification> wait_for_notification(
      std::chrono::steady_clock::time_point deadline);

  /// The deadline calls use when they pass none (connect_options::query_timeout).
  [[nodiscard]] std::chrono::milliseconds default_timeout() const noexcept {
    return options_.query_timeout;
  }

  /// Runs fn(pgorm::transaction&) in a transaction: commit when it returns, rollback when it
  /// throws. Needs pgorm/transaction.hpp (see there for options and retries).
  template <class F>
  decltype(auto) transaction(F&& fn) {
    if constexpr (detail::transactions_visible<F>()) {
      return detail::transaction_entry<F>::run(*this, std::forward<F>(fn));
    }
  }
  template <class F>
  decltype(auto) transaction(F&& fn, const transaction_options& options) {
    if constexpr (detail::transactions_visible<F>()) {
      return detail::transaction_entry<F>::run(*this, std::forward<F>(fn), options);
    }
  }

  /// Server version as an integer, e.g. 150018 for 15.18.
  [[nodiscard]] int server_version() const;
  /// Process id of the server backend serving this connection.
  [[nodiscard]] int backend_pid() const;
  /// True while the connection is open and healthy as far as libpq knows.
  [[nodiscard]] bool is_open() const noexcept;
  [[nodiscard]] transaction_status status() const noexcept;
  /// A description of where this connection goes (host, port, dbname, user), safe to log.
  [[nodiscard]] const std::string& description() const noexcept { return description_; }

  /// Closes the connection; further use throws connection_error. Idempotent.
  void close() noexcept;

  [[nodiscard]] pg_conn* native_handle() const noexcept { return conn_; }

 private:
  friend struct detail::connection_access;

  connection(std::string_view conninfo, connect_options options, const std::stop_token* stop);
  [[nodiscard]] pg_conn* checked_handle() const;
  // The result of `res` (carrying `checked`, the columns already found to match), or throws
  // the error it holds.
  [[nodiscard]] result check(pg_result* res, std::string_view sql, const param_pack& params,
                             const checked_columns* checked = nullptr);
  // `sql` NUL-terminated (in sql_buf_), for libpq; usage_error when it contains a NUL byte.
  const char* c_sql(std::string_view sql);

  using statement_entry = detail::statement_entry;
  struct statement_cache;
  // The cache's statement for `shape` with the types in `a`, prepared first (one round trip,
  // within `d`) on a miss; nullptr when the text cannot be cached.
  statement_entry* cached_statement(const statement_shape& shape, const param_pack& params,
                                    const detail::param_arrays& a, const detail::deadline& d);
  void note_checked(const statement_shape& shape, std::span<const param> params,
                    const checked_columns* checked) noexcept;
  detail::prepared_ref prepare_cached_within(const statement_shape& shape, const param_pack& params,
                                             const detail::deadline& d);

  // exec_each()'s stream, without the observer's report; returns the rows it handed on.
  std::int64_t stream_each(pg_conn* conn, std::string_view sql, std::span<const param> params,
                           data_format result_format,
                           const std::function<void(const result&)>& on_row,
                           std::chrono::milliseconds timeout);
  // Sends `sql` through the simple protocol and returns what PQexec() would, within `d`.
  [[nodiscard]] pg_result* run_simple(std::string_view sql, const detail::deadline& d);
  [[nodiscard]] result exec_impl(const statement_shape& shape, const param_pack& params,
                                 data_format result_format, std::chrono::milliseconds timeout);
  [[nodiscard]] result simple_exec(std::string_view sql, std::chrono::milliseconds timeout);
  // simple_exec() for pgorm's own statements (BEGIN, COMMIT): `sql` is NUL-terminated, holds no
  // NUL byte, and neither LISTEN nor a statement that drops prepared ones, so it is sent as it
  // is, without the checks and the copy a caller's text needs. Observed like any statement.
  [[nodiscard]] result exec_own(const char* sql, std::chrono::milliseconds timeout);
  void release() noexcept;

  pg_conn* conn_ = nullptr;
  // The backend's cancel key and the cancel requests other threads have in flight; shared with
  // cancel(), which may run on another thread while the connection closes.
  std::shared_ptr<detail::cancel_state> cancel_;
  std::unique_ptr<statement_cache> cache_;
  connect_options options_;
  std::string description_;
  std::vector<std::string> secrets_;  // password spellings to scrub from any message
  std::string scratch_;               // NUL-terminated copies of text parameters
  std::string sql_buf_;               // a NUL-terminated copy of SQL text, when libpq needs one
  // Where libpq's notice receiver sends server notices (the observer); stable across moves.
  std::shared_ptr<detail::notice_sink> notices_;
  // A pgorm::transaction runs on this object (detail::transaction_scope); stays with the
  // object, not moved. Mutable: the scope marks a connection it only reads through.
  mutable bool in_transaction_scope_ = false;
};

namespace detail {

/// Returns `conninfo` (URL or key=value form) with every password and sslpassword value
/// replaced by "***", and any password in a URL's user-info removed.
PGORM_API std::string redact_conninfo(std::string_view conninfo);

/// Adjusts `options` for its pooler (connect_options::pooler); throws pooler_unsupported for
/// options that need a session. Called by the connection's constructor.
PGORM_API void apply_pooler_mode(connect_options& options);

/// One conninfo per host of a multi-host `conninfo` (`host=a,b`, `hostaddr=`, `port=` lists, or
/// a URL's `a:1,b:2`), each naming only that host and keeping every other parameter; empty when
/// it names fewer than two hosts (or is malformed: the connection attempt reports that). The
/// connection tries them in order, each within the whole connect_timeout.
PGORM_API std::vector<std::string> split_hosts(std::string_view conninfo);

/// Throws pooler_unsupported naming `what` (e.g. "LISTEN") and the limitation.
[[noreturn]] PGORM_API void throw_pooler_unsupported(std::string_view what, std::string_view why);

/// Every spelling of a secret in `conninfo` (raw and percent-decoded), each once, to scrub from
/// messages.
PGORM_API std::vector<std::string> conninfo_secrets(std::string_view conninfo);

/// Returns `text` with the non-empty secrets masked as "***", in one pass over `text` that
/// never searches a mask again. A secret of 4 bytes or more is masked wherever it occurs; a
/// shorter one only where it stands as a value: each neighbour is the start or end of `text`,
/// ASCII white space or one of " ' = : @ ? & , ( ) [ ]. Occurrences that overlap become one
/// "***".
PGORM_API std::string scrub_secrets(std::string text, const std::vector<std::string>& secrets);

}  // namespace detail

}  // namespace pgorm
