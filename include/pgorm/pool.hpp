// SPDX-License-Identifier: MIT
#pragma once

/// \file
/// A thread-safe pool of PostgreSQL connections: bounded size, acquire timeout, health checks
/// of idle connections, idle shrinking, lifetime rotation and reconnects with backoff. See
/// docs/pool.md.
///
/// Thread safety: every member of pool may be called from any thread at the same time. A lease
/// (and the connection it gives) belongs to one thread at a time, like a connection.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <initializer_list>
#include <memory>
#include <source_location>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include "pgorm/connection.hpp"
#include "pgorm/error.hpp"
#include "pgorm/executor.hpp"
#include "pgorm/export.hpp"
#include "pgorm/query_methods.hpp"
#include "pgorm/transaction.hpp"

namespace pgorm {

/// How a pool behaves. Every field has a usable default; use designated initializers.
///
/// Example: `pgorm::pool db{url, {.max_size = 4, .acquire_timeout = 2s, .lazy = true}};`
struct pool_options {
  /// The most connections open at once (leased, idle and being opened). At least 1.
  std::size_t max_size = 10;
  /// Idle connections kept open however long they sit unused; a background thread opens
  /// connections (up to max_size) to keep this many idle. 0: shrink to nothing.
  std::size_t min_idle = 0;
  /// How long acquire() (and every pool query) waits for a connection before pool_timeout.
  std::chrono::milliseconds acquire_timeout{std::chrono::seconds(5)};
  /// An idle connection unused this long is closed (down to min_idle idle connections).
  std::chrono::milliseconds idle_timeout{std::chrono::seconds(30)};
  /// A connection older than this is closed when it comes back (never while leased). Each
  /// connection gets its own limit within ±10% of this, so they do not all expire at once.
  std::chrono::milliseconds max_lifetime{std::chrono::minutes(30)};
  /// false (eager): the constructor opens max(min_idle, 1) connections, each within
  /// connection.connect_timeout, and throws connection_error when it cannot. true: nothing is
  /// opened until the first acquire.
  bool lazy = false;
  /// An idle connection unused longer than this is checked with a round trip (an empty query) on
  /// acquire; a dead one is replaced without the caller seeing an error. The check only gets
  /// what is left of the acquire's deadline, so it never makes an acquire overshoot it.
  std::chrono::milliseconds health_check_after{500};
  /// Deadline of the reset (DISCARD ALL) of a connection that ran raw SQL (a lease from
  /// acquire(), with_connection(), transaction(), pool::exec, exec_each, query<Row>()). Past it,
  /// on a dead or black-holed link, the connection is closed and dropped instead of kept:
  /// releasing a lease never blocks for longer (plus connect_options::cancel_grace). 0: the
  /// connection's query_timeout.
  std::chrono::milliseconds reset_timeout{std::chrono::seconds(2)};
  /// Delay before the 2nd connection attempt after a failed one; it doubles with each further
  /// failure (with jitter: between half and all of it) up to reconnect_backoff_max.
  std::chrono::milliseconds reconnect_backoff{25};
  /// The longest delay between two connection attempts while the server is unreachable.
  std::chrono::milliseconds reconnect_backoff_max{500};
  /// Leak detection (0: off). A lease held longer than this is reported once, as a
  /// pool_event of kind leak_suspected whose detail names where it was acquired (file, line and
  /// function of the acquire() call); without an observer the warning goes to stderr. The lease
  /// stays valid: this only warns (compare HikariCP's leakDetectionThreshold).
  std::chrono::milliseconds leak_threshold{0};
  /// Options of each connection, including the observer that also receives pool events
  /// (observer::on_pool_event). connection.connect_timeout (5 s by default) is the deadline
  /// of each connection attempt; attempts run on the pool's own threads, so no acquire's
  /// deadline cuts one short. connection.query_timeout is the default deadline of pool::exec
  /// and of every statement on a borrowed connection; statement_timeout and settings are the
  /// session defaults that every borrower sees, after any reset.
  connect_options connection{};
};

/// Why an acquire gave up: see pool_timeout::reason().
enum class pool_timeout_reason {
  exhausted,  ///< all max_size connections stayed in use for the whole acquire_timeout
  /// No new connection could be opened (the last attempt failed), or the server left a health
  /// check of an idle connection unanswered until the acquire's deadline.
  unreachable,
  /// A connection attempt was still running when the acquire gave up (a server slow to accept,
  /// within connection.connect_timeout); its connection goes to the pool for the next caller.
  connecting,
};

/// A pool needed a new connection for an acquire (or a pool query) and the attempt failed:
/// nothing was sent, so the call can be retried as it is (on another host, later). The
/// attempt's own error (connection_error naming host and cause) is nested:
/// std::rethrow_if_nested(e) rethrows it. A connection_error, so code that catches those
/// still does.
///
/// Example:
/// ```
/// try { db.exec("select 1", {}); }
/// catch (const pgorm::pool_connect_error& e) { retry_later(e.what()); }  // nothing was sent
/// ```
class PGORM_API pool_connect_error : public connection_error {
 public:
  using connection_error::connection_error;
};

/// An acquire (or a pool query) waited its timeout without getting a connection. reason()
/// says whether the pool was exhausted, the server unreachable or a connection still being
/// opened; what() says it in words with the counts and, when unreachable, the last connect
/// error. When a connect error is the cause, it is also attached as a nested exception
/// (std::rethrow_if_nested).
///
/// An acquire that is waiting when a connection attempt fails (and no other attempt is still
/// running and no connection is idle) does not wait out its timeout: it throws
/// pool_connect_error at once, naming the cause. pool_timeout with reason unreachable remains
/// for an acquire whose time ran out while the pool was backing off between attempts.
///
/// Example:
/// ```
/// try { auto c = db.acquire(); }
/// catch (const pgorm::pool_timeout& e) {
///   if (e.reason() == pgorm::pool_timeout_reason::unreachable) alert(e.last_connect_error());
/// }
/// ```
class PGORM_API pool_timeout : public error {
 public:
  /// The counts as the pool saw them when the acquire gave up.
  struct counts {
    std::size_t in_use = 0;
    std::size_t idle = 0;
    std::size_t waiting = 0;
    std::size_t max_size = 0;
  };

  pool_timeout(pool_timeout_reason reason, std::chrono::milliseconds waited, counts at_timeout,
               std::string last_connect_error);

  [[nodiscard]] pool_timeout_reason reason() const noexcept { return reason_; }
  /// How long the acquire waited.
  [[nodiscard]] std::chrono::milliseconds waited() const noexcept { return waited_; }
  /// Connections leased out when the acquire gave up.
  [[nodiscard]] std::size_t in_use() const noexcept { return counts_.in_use; }
  /// Idle connections when the acquire gave up (normally 0).
  [[nodiscard]] std::size_t idle() const noexcept { return counts_.idle; }
  /// Other callers waiting for a connection when the acquire gave up.
  [[nodiscard]] std::size_t waiting() const noexcept { return counts_.waiting; }
  [[nodiscard]] std::size_t max_size() const noexcept { return counts_.max_size; }
  /// what() of the pool's last failed connection attempt ("" when none failed yet).
  [[nodiscard]] const std::string& last_connect_error() const noexcept { return *last_error_; }

 private:
  pool_timeout_reason reason_;
  std::chrono::milliseconds waited_;
  counts counts_;
  // Shared so that copying the exception cannot throw.
  std::shared_ptr<const std::string> last_error_;
};

/// Counters of a pool, from pool::stats(). The first three are a snapshot; the totals count
/// since the pool was created.
struct pool_stats {
  std::size_t in_use = 0;                    ///< connections leased out
  std::size_t idle = 0;                      ///< open connections waiting in the pool
  std::size_t waiting = 0;                   ///< callers blocked in acquire()
  std::uint64_t total_opened = 0;            ///< connections opened
  std::uint64_t total_closed = 0;            ///< connections closed (evicted, broken, pool closed)
  std::uint64_t total_acquired = 0;          ///< successful acquires (pool queries included)
  std::uint64_t total_timeouts = 0;          ///< acquires that threw pool_timeout
  std::uint64_t total_connect_failures = 0;  ///< connection attempts that failed
};

namespace detail {

struct pool_state;

/// A pooled connection with its bookkeeping. Internal.
struct pooled_connection {
  connection conn;
  std::chrono::steady_clock::time_point created;
  std::chrono::steady_clock::time_point expires;    ///< created + jittered max_lifetime
  std::chrono::steady_clock::time_point last_used;  ///< when it last went back to the pool
};

/// The detail text of a leak_suspected event: how long the lease has been held and where it
/// was acquired, e.g. "lease held for 1203 ms (threshold 1000 ms), acquired at app.cpp:42 in
/// void handle(request&)".
PGORM_API std::string leak_message(std::chrono::milliseconds held,
                                   std::chrono::milliseconds threshold,
                                   const std::source_location& where);

/// max_lifetime stretched by a factor in [0.9, 1.1), picked by `unit` in [0, 1).
PGORM_API std::chrono::milliseconds jittered_lifetime(std::chrono::milliseconds max_lifetime,
                                                      double unit) noexcept;

/// Delay before the next connection attempt after `failures` consecutive failures (>= 1):
/// base * 2^(failures - 1), capped at `cap`, then scaled into [1/2, 1] of itself by `unit` in
/// [0, 1) ("equal jitter").
PGORM_API std::chrono::milliseconds reconnect_delay(unsigned failures,
                                                    std::chrono::milliseconds base,
                                                    std::chrono::milliseconds cap,
                                                    double unit) noexcept;

/// What both pools' leases (pgorm::lease, pgorm::async::lease) share: move-only ownership of
/// one pooled connection, poisoning, and giving it back once. `GiveBack` names the pool:
/// `GiveBack::state_type` (its shared state), `GiveBack::pooled_type` (a connection with its
/// bookkeeping, whose `conn` member is the connection) and
/// `GiveBack::give_back(state, pooled, poisoned, reset) noexcept`, which takes the connection
/// back (or closes it). Internal.
template <class GiveBack>
class basic_lease {
 public:
  using state_type = typename GiveBack::state_type;
  using pooled_type = typename GiveBack::pooled_type;

  /// An empty lease, holding nothing.
  basic_lease() noexcept = default;
  basic_lease(basic_lease&& other) noexcept = default;
  /// Releases what this lease held, then takes `other`'s connection.
  basic_lease& operator=(basic_lease&& other) noexcept {
    if (this != &other) {
      release();
      state_ = std::move(other.state_);
      conn_ = std::move(other.conn_);
      poisoned_ = other.poisoned_;
      reset_ = other.reset_;
    }
    return *this;
  }
  basic_lease(const basic_lease&) = delete;
  basic_lease& operator=(const basic_lease&) = delete;
  ~basic_lease() { release(); }

  /// The connection. Precondition: the lease is not empty.
  [[nodiscard]] auto& operator*() const noexcept { return conn_->conn; }
  [[nodiscard]] auto* operator->() const noexcept { return &conn_->conn; }
  /// True while the lease holds a connection.
  [[nodiscard]] explicit operator bool() const noexcept { return conn_ != nullptr; }

  /// Marks the connection as not reusable: release() closes it. Call it after an error whose
  /// poisons_connection() is true, or whenever the session's state is unknown.
  void poison() noexcept { poisoned_ = true; }
  [[nodiscard]] bool poisoned() const noexcept { return poisoned_; }

  /// Gives the connection back to its pool now (or closes it). Idempotent; never throws.
  void release() noexcept {
    if (!conn_) return;
    auto state = std::move(state_);  // (moving leaves state_ and conn_ empty)
    auto pc = std::move(conn_);
    if (state) GiveBack::give_back(state, std::move(pc), poisoned_, reset_);
    poisoned_ = false;
  }

 protected:
  /// `reset`: the session is reset (DISCARD ALL) when the connection goes back.
  basic_lease(std::shared_ptr<state_type> state, std::unique_ptr<pooled_type> c,
              bool reset) noexcept
      : state_(std::move(state)), conn_(std::move(c)), reset_(reset) {}

 private:
  std::shared_ptr<state_type> state_;
  std::unique_ptr<pooled_type> conn_;
  bool poisoned_ = false;
  bool reset_ = true;
};

/// The synchronous pool's give-back, for basic_lease.
struct PGORM_API pool_give_back {
  using state_type = pool_state;
  using pooled_type = pooled_connection;
  static void give_back(const std::shared_ptr<pool_state>& state,
                        std::unique_ptr<pooled_connection> pc, bool poisoned, bool reset) noexcept;
};

}  // namespace detail

/// A connection borrowed from a pool: move-only RAII. The destructor (or release()) gives the
/// connection back, where it is reset (DISCARD ALL, within pool_options::reset_timeout) and
/// reused, or destroyed when it is broken,
/// inside a transaction, poisoned, too old, or its pool is closed or gone. A lease may outlive
/// its pool: the connection is then closed on release.
///
/// Example:
/// ```
/// pgorm::lease c = db.acquire();
/// c->exec("set statement_timeout = '1s'");   // reset before the next borrower sees it
/// auto r = c->exec("select pg_sleep(0.1)");
/// ```
class PGORM_API lease : public detail::basic_lease<detail::pool_give_back> {
 public:
  // operator*, operator->, operator bool, poison(), poisoned() and release() (idempotent,
  // never throws; the destructor calls it) are those of every lease (pool.hpp's basic_lease).

  /// An empty lease, holding nothing.
  lease() noexcept = default;

  /// The connection. Throws usage_error when the lease is empty (moved from or released).
  [[nodiscard]] connection& get() const;

 private:
  friend struct detail::pool_state;
  lease(std::shared_ptr<detail::pool_state> state, std::unique_ptr<detail::pooled_connection> c,
        bool reset_on_release) noexcept
      : basic_lease(std::move(state), std::move(c), reset_on_release) {}
};

/// A thread-safe pool of connections to one server, and an executor: pool queries
/// (`db.select<User>()...`, exec()) each borrow a connection for one statement.
///
/// - Sizing: at most max_size connections; acquire() waits up to acquire_timeout, then throws
///   pool_timeout (reason exhausted, unreachable or connecting). Connections are opened on
///   the pool's own threads, each attempt within connection.connect_timeout; an acquire
///   waiting when an attempt fails throws that connection_error at once.
/// - Health: an idle connection unused for more than health_check_after is checked before it
///   is handed out, within what is left of the acquire's deadline; after any connection broke,
///   every idle connection is checked once.
/// - Reuse: a connection that ran raw SQL (a lease from acquire(), with_connection(),
///   transaction(); pool::exec, exec_each and query<Row>()) gets DISCARD ALL when it comes
///   back, so no session state (settings, temporary tables, prepared statements, advisory
///   locks, LISTEN) reaches the next borrower. Statements of pgorm's builders (select, find,
///   insert, update, remove) cannot change session state and are not followed by a reset, so
///   the statement cache survives them.
/// - Not movable: builders keep a pointer to it.
///
/// Example:
/// ```
/// pgorm::pool db{"postgresql://app@localhost/app", {.max_size = 10, .acquire_timeout = 5s}};
/// std::vector<User> adults = db.select<User>().where(pgorm::col<&User::age> >= 18).all();
/// ```
class PGORM_API pool : public query_methods<pool> {
 public:
  /// Creates the pool. Eager (the default) opens max(min_idle, 1) connections first and throws
  /// connection_error (what a connection throws) when the server cannot be reached; lazy opens
  /// none. Throws usage_error when max_size is 0 or min_idle exceeds it.
  explicit pool(std::string_view conninfo, pool_options options = {});
  pool(const pool&) = delete;
  pool& operator=(const pool&) = delete;
  pool(pool&&) = delete;
  pool& operator=(pool&&) = delete;
  /// close(), then joins the pool's threads: a connection attempt in progress is abandoned at
  /// once, so this never waits on the network. Leases still out stay valid.
  ~pool();

  /// Borrows a connection, waiting up to options().acquire_timeout. Throws pool_timeout when
  /// none becomes available in time, usage_error when the pool is closed. `where` (leave it
  /// defaulted) is the call site that options().leak_threshold reports.
  /// Example: `auto c = db.acquire(); c->exec("listen jobs");`
  [[nodiscard]] lease acquire(std::source_location where = std::source_location::current());
  /// acquire() with another timeout than the pool's.
  [[nodiscard]] lease acquire(std::chrono::milliseconds timeout,
                              std::source_location where = std::source_location::current());

  /// Borrows a connection for `f(connection&)` and returns what `f` returns. An exception from
  /// `f` propagates; when it poisons the connection (error::poisons_connection()) the connection
  /// is destroyed. The session is reset afterwards, as for acquire().
  /// Example: `int pid = db.with_connection([](pgorm::connection& c) { return c.backend_pid(); });`
  template <class F>
  auto with_connection(F&& f, std::source_location where = std::source_location::current())
      -> std::invoke_result_t<F&&, connection&> {
    lease l = acquire(where);
    try {
      return std::invoke(std::forward<F>(f), *l);
    } catch (const error& e) {
      if (e.poisons_connection()) l.poison();
      throw;
    }
  }

  /// Runs fn(pgorm::transaction&) in a transaction on one borrowed connection, held for the
  /// whole function: commit when it returns, rollback when it throws, retries as
  /// options.retry says (see transaction.hpp). The session is reset afterwards, as for
  /// acquire().
  /// Example: `db.transaction([&](pgorm::transaction& tx) { tx.insert(u).exec(); });`
  template <class F>
  decltype(auto) transaction(F&& fn, const transaction_options& options = {},
                             std::source_location where = std::source_location::current()) {
    return with_connection(
        [&](connection& c) -> decltype(auto) { return run_transaction(c, fn, options); }, where);
  }

  /// Runs one statement on a borrowed connection (see connection::exec) and gives the
  /// connection back, reset (DISCARD ALL): raw SQL may change session state. The statement's
  /// deadline is connection.query_timeout. Throws what connection::exec throws, pool_timeout,
  /// and connection_error when no connection can be opened.
  /// `where` (leave it defaulted) is the call site that options().leak_threshold reports.
  /// Example: `auto r = db.exec("select $1::int + 1", {pgorm::param::text("41")});`
  result exec(std::string_view sql, std::span<const param> params,
              data_format result_format = data_format::text,
              std::source_location where = std::source_location::current());
  result exec(std::string_view sql, std::initializer_list<param> params,
              data_format result_format = data_format::text,
              std::source_location where = std::source_location::current()) {
    return exec(sql, std::span<const param>(params.begin(), params.size()), result_format,
                std::chrono::milliseconds(0), where);
  }
  /// exec() with one budget for the whole call: waiting for a connection (at most
  /// acquire_timeout) and running the statement (see connection::exec with a timeout). Zero:
  /// acquire_timeout for the wait, the connection's query_timeout for the statement;
  /// pgorm::no_timeout: acquire_timeout for the wait, no deadline for the statement.
  /// Example: `auto r = db.exec("select count(*) from big", {}, pgorm::data_format::text, 2s);`
  /// `where` (leave it defaulted) is the call site that options().leak_threshold reports.
  result exec(std::string_view sql, std::span<const param> params, data_format result_format,
              std::chrono::milliseconds timeout,
              std::source_location where = std::source_location::current());
  /// Runs one statement on a borrowed connection, handing each row to `on_row` as it arrives
  /// (see connection::exec_each); reset afterwards like exec(). `where`: as for exec().
  void exec_each(std::string_view sql, std::span<const param> params, data_format result_format,
                 const std::function<void(const result&)>& on_row,
                 std::source_location where = std::source_location::current());
  /// exec_each() with one budget for the whole call, as for exec() with a timeout.
  void exec_each(std::string_view sql, std::span<const param> params, data_format result_format,
                 const std::function<void(const result&)>& on_row,
                 std::chrono::milliseconds timeout,
                 std::source_location where = std::source_location::current());

  /// exec() of a statement whose shape a builder knows (see connection::exec with a shape). A
  /// builder's statement (sql_origin::builder) cannot change session state, so its connection
  /// goes back without a reset; raw SQL is reset after as above.
  ///
  /// Example: `auto r = db.exec(pgorm::statement_shape{.sql = "select 1"}, {}, fmt);`
  result exec(const statement_shape& shape, const param_pack& params, data_format result_format,
              std::chrono::milliseconds timeout = {},
              std::source_location where = std::source_location::current());
  /// exec_each() of a statement whose shape a builder knows; reset afterwards unless a builder
  /// wrote it, as for exec() with a shape.
  void exec_each(const statement_shape& shape, const param_pack& params, data_format result_format,
                 const std::function<void(const result&)>& on_row,
                 std::chrono::milliseconds timeout = {},
                 std::source_location where = std::source_location::current());

  /// Counters: connections in use, idle, callers waiting, and totals. Thread-safe.
  /// Example: `if (db.stats().waiting > 0) log("pool too small");`
  [[nodiscard]] pool_stats stats() const;

  /// Drains the pool: further (and waiting) acquires throw usage_error, idle connections are
  /// closed now, leased ones when they come back. Idempotent; never throws.
  void close() noexcept;
  /// True after close().
  [[nodiscard]] bool closed() const noexcept;

  [[nodiscard]] const pool_options& options() const noexcept;

 private:
  std::shared_ptr<detail::pool_state> state_;
};

static_assert(executor<pool>);

template <class E>
class with_timeout;  // pgorm/query/common.hpp

namespace detail {

/// The pool as a builder's terminal runs on it (`db.select<User>().all()`, `q.all(db)`,
/// `q.all(pgorm::with_timeout(db, t))`): the pool's calls, with the terminal's call site, so
/// that a leak report names the caller's line rather than pgorm's, and the timeout of a
/// with_timeout() (zero: the connection's default). Internal.
class pool_site {
 public:
  pool_site(pool& p, const std::source_location& where,
            std::chrono::milliseconds timeout = {}) noexcept
      : pool_(&p), where_(where), timeout_(timeout) {}

  result exec(std::string_view sql, std::span<const param> params, data_format result_format) {
    return pool_->exec(sql, params, result_format, timeout_, where_);
  }
  result exec(const statement_shape& shape, const param_pack& params, data_format result_format,
              std::chrono::milliseconds timeout = {}) {
    return pool_->exec(shape, params, result_format, or_mine(timeout), where_);
  }
  void exec_each(const statement_shape& shape, const param_pack& params, data_format result_format,
                 const std::function<void(const result&)>& on_row,
                 std::chrono::milliseconds timeout = {}) {
    pool_->exec_each(shape, params, result_format, on_row, or_mine(timeout), where_);
  }
  template <class F>
  auto with_connection(F&& f) -> std::invoke_result_t<F&&, connection&> {
    return pool_->with_connection(std::forward<F>(f), where_);
  }
  /// The with_timeout() deadline of each statement (zero: the connection's default).
  [[nodiscard]] std::chrono::milliseconds timeout() const noexcept { return timeout_; }

 private:
  [[nodiscard]] std::chrono::milliseconds or_mine(std::chrono::milliseconds t) const noexcept {
    return t.count() != 0 ? t : timeout_;
  }

  pool* pool_;
  std::source_location where_;
  std::chrono::milliseconds timeout_;
};

static_assert(shape_executor<pool_site>);

template <>
struct terminal_site<pool> {
  static pool_site at(pool& p, const std::source_location& where) noexcept { return {p, where}; }
};

// with_timeout(db, t) (pgorm/query/common.hpp) names its terminal's line too.
template <>
struct terminal_site<with_timeout<pool>> {
  template <class W>
  static pool_site at(W& w, const std::source_location& where) noexcept {
    return {w.inner(), where, w.timeout()};
  }
};

}  // namespace detail

}  // namespace pgorm
