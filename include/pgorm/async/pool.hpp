// SPDX-License-Identifier: MIT
#pragma once

/// \file
/// A pool of async connections (docs/async.md): the synchronous pool's options
/// (pgorm::pool_options), errors (pool_timeout, pool_connect_error) and counters (pool_stats),
/// with acquiring that waits asynchronously on the pool's executor instead of blocking a thread.
///
/// Example:
/// ```
/// pgorm::async::pool db(io, url, {.max_size = 10, .acquire_timeout = 2s});
/// auto users = co_await pgorm::async::all(db, pgorm::select<User>(), asio::use_awaitable);
/// ```

#include <chrono>
#include <cstddef>
#include <exception>
#include <memory>
#include <source_location>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include <boost/asio/async_result.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/execution_context.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "pgorm/async/connection.hpp"
#include "pgorm/async/transaction.hpp"
#include "pgorm/error.hpp"
#include "pgorm/export.hpp"
#include "pgorm/pool.hpp"

namespace pgorm::async {

class lease;
class pool;

namespace detail {

struct pool_state;

/// A pooled async connection with its bookkeeping. Internal.
struct pooled {
  connection conn;
  std::chrono::steady_clock::time_point created;
  std::chrono::steady_clock::time_point expires;    ///< created + jittered max_lifetime
  std::chrono::steady_clock::time_point last_used;  ///< when it last went back to the pool
  bool checked = false;   ///< passed a health check since it was last handed out
  std::size_t reads = 0;  ///< shared reads in flight on it (read_sharing)
  bool retired = false;   ///< takes no more shared reads: closed once they are done
};

/// An acquire's completion.
using acquire_op = op_base<std::exception_ptr, pgorm::async::lease>;

/// Queues an acquire on `state` (timeout zero: the pool's acquire_timeout); `reset`: the lease
/// resets the session (DISCARD ALL) when released; `where`: the acquire site that leak
/// detection names. Completes `op` (always posted).
PGORM_API void start_acquire(const std::shared_ptr<pool_state>& state,
                             std::chrono::milliseconds timeout, bool reset,
                             std::unique_ptr<acquire_op> op,
                             std::source_location where = std::source_location::current());
/// Gives a leased connection back (see lease::release()). Never blocks: a reset runs on the
/// pool's executor.
PGORM_API void give_back(const std::shared_ptr<pool_state>& state, std::unique_ptr<pooled> pc,
                         bool poisoned, bool reset) noexcept;

/// True when the pool of `state` shares its connections among reads (read_sharing::per_connection >
/// 0).
PGORM_API bool shares_reads(const std::shared_ptr<pool_state>& state) noexcept;
/// Runs the read `req` (a builder's statement whose effect is sql_effect::reads) on a
/// connection of `state` shared with other reads, waiting for one within acquire_timeout;
/// completes `op` with its result or error. The request is handed on by pointer, never moved.
PGORM_API void start_shared_read(const std::shared_ptr<pool_state>& state,
                                 std::unique_ptr<request> req, std::unique_ptr<exec_op> op);

/// True when `e` is a pgorm::error whose poisons_connection() is true.
PGORM_API bool poisons(const std::exception_ptr& e) noexcept;

/// The async pool's give-back, for pgorm::detail::basic_lease (give_back() above).
struct lease_give_back {
  using state_type = pool_state;
  using pooled_type = pooled;
  static void give_back(const std::shared_ptr<pool_state>& state, std::unique_ptr<pooled> pc,
                        bool poisoned, bool reset) noexcept {
    detail::give_back(state, std::move(pc), poisoned, reset);
  }
};

struct PGORM_API pool_access {
  static const std::shared_ptr<pool_state>& state_of(const pool& p) noexcept;
};

struct initiate_acquire {
  std::shared_ptr<pool_state> state;
  boost::asio::any_io_executor fallback;
  template <class Handler>
  void operator()(Handler&& handler, std::chrono::milliseconds timeout,
                  const std::source_location& where) const {
    using h = std::decay_t<Handler>;
    start_acquire(state, timeout, true,
                  std::make_unique<op_impl<h, std::exception_ptr, pgorm::async::lease>>(
                      std::forward<Handler>(handler), fallback),
                  where);
  }
};

}  // namespace detail

/// An async connection borrowed from a pgorm::async::pool: move-only RAII, like pgorm::lease.
/// The destructor (or release()) gives the connection back without blocking: it is reset
/// (DISCARD ALL, within pool_options::reset_timeout) on the pool's executor when it ran raw SQL,
/// then handed to the next waiter; it is closed instead when broken, poisoned, past its
/// lifetime, or its pool is closed or gone.
///
/// Example:
/// ```
/// pgorm::async::lease c = co_await db.async_acquire(asio::use_awaitable);
/// co_await c->async_exec("select set_config('app.user', '42', false)", asio::use_awaitable);
/// ```
class PGORM_API lease : public pgorm::detail::basic_lease<detail::lease_give_back> {
 public:
  // operator*, operator->, operator bool, poison(), poisoned() and release() (idempotent,
  // never throws, never blocks; the destructor calls it) are those of every lease
  // (pgorm/pool.hpp's basic_lease, shared with pgorm::lease).

  /// An empty lease, holding nothing.
  lease() noexcept = default;

 private:
  friend struct detail::pool_state;
  lease(std::shared_ptr<detail::pool_state> state, std::unique_ptr<detail::pooled> c,
        bool reset) noexcept
      : basic_lease(std::move(state), std::move(c), reset) {}
};

/// How a pgorm::async::pool shares its connections among reads (docs/async.md, "Sharing
/// connections among reads"). Off by default: every statement borrows a connection of its own.
/// When on, a builder's statement that only reads (effect sql_effect::reads: a select without
/// row locks or writing CTEs), outside a transaction, runs on an open connection that other
/// such reads use at the same time (the one with the fewest in flight, below per_connection),
/// pipelined with them; writes, raw SQL, each() (it streams, paced by its function), leases
/// and transactions still borrow a connection exclusively, and a connection lent that way
/// receives no shared reads.
///
/// Example:
/// ```
/// pgorm::async::pool db(io, url, {.max_size = 4}, {.per_connection = 64});
/// ```
struct read_sharing {
  /// The most reads in flight on one connection; 0 (the default) turns sharing off.
  std::size_t per_connection = 0;
};

/// A pool of async connections to one server, on one executor (the threads that run it may be
/// many). Pass it where an async terminal takes a connection: each statement borrows a
/// connection, and gives it back when its result is in.
///
/// - Options: pgorm::pool_options, as for the synchronous pool: max_size, acquire_timeout,
///   idle_timeout, max_lifetime (jittered ±10%), health_check_after (an empty query within what
///   is left of the waiting acquire's deadline), reset_timeout, min_idle, reconnect_backoff and
///   reconnect_backoff_max, leak_threshold, and connection (connect_timeout bounds each
///   attempt; its observer gets the pool events: connect, connect_failed, acquire, release,
///   evict, timeout and leak_suspected, as from the synchronous pool). `lazy` does not apply:
///   the constructor never waits on the network, connections are opened when wanted.
/// - Leak detection: a lease held longer than leak_threshold is reported once, as a
///   leak_suspected event naming the async_acquire() call site (for a pool terminal or
///   run_transaction(), its call site), or on stderr without an observer.
/// - Acquiring never blocks a thread: a waiter is served when a connection comes back or is
///   opened, fails with pool_timeout at its deadline, and fails at once with
///   pool_connect_error (nesting the connection_error that names the cause) when a connection
///   attempt fails while it waits and nothing else can serve it.
/// - Reuse: a connection that ran raw SQL (leases from async_acquire(), transactions, raw
///   query<Row>) is reset with DISCARD ALL before the next borrower gets it; builders'
///   statements are not followed by a reset, as in the synchronous pool.
/// - Read sharing (read_sharing, off by default): builders' reads share open connections,
///   many in flight on each; a connection returns to the idle list (where idle and lifetime
///   eviction, health checks and exclusive borrowers may take it) only once its last read is
///   done. pool_stats counts a shared connection as in use and its turn as one acquire.
/// - While it has idle connections or waiters (or, with a leak_threshold, a lease not reported
///   yet), the pool keeps a timer on its executor (idle and lifetime eviction, leak
///   detection): close() it, or destroy it, to let io_context::run() return.
///
/// Example:
/// ```
/// pgorm::async::pool db(io.get_executor(), url, {.max_size = 4});
/// std::optional<User> u = co_await pgorm::async::find<User>(db, 42, asio::use_awaitable);
/// ```
class PGORM_API pool {
 public:
  /// The executor its timers and connections run on.
  using executor_type = boost::asio::any_io_executor;

  /// A pool on `ex`; nothing is opened yet. Throws usage_error when max_size is 0 or min_idle
  /// exceeds it. `sharing`: whether reads share connections (off by default).
  pool(executor_type ex, std::string_view conninfo, pool_options options = {},
       read_sharing sharing = {});
  /// A pool on an execution context's executor (e.g. an io_context).
  template <class Context>
  requires std::is_convertible_v<Context&, boost::asio::execution_context&> pool(
      Context& ctx, std::string_view conninfo, pool_options options = {}, read_sharing sharing = {})
      : pool(executor_type(ctx.get_executor()), conninfo, std::move(options), sharing) {}
  pool(const pool&) = delete;
  pool& operator=(const pool&) = delete;
  pool(pool&&) = delete;
  pool& operator=(pool&&) = delete;
  /// close(). Leases still out stay valid.
  ~pool();

  /// Borrows a connection, waiting asynchronously up to options().acquire_timeout; completes
  /// with the lease, pool_timeout, pool_connect_error, usage_error when the pool is (or gets)
  /// closed, or boost::system::system_error (operation_aborted) when its cancellation slot is
  /// emitted while it waits. Completion signature: void(std::exception_ptr, pgorm::async::lease).
  /// `where` (leave it defaulted) is the call site that options().leak_threshold reports.
  ///
  /// Example: `auto c = co_await db.async_acquire(asio::use_awaitable);`
  template <class Token>
  auto async_acquire(Token&& token, std::source_location where = std::source_location::current()) {
    return async_acquire(std::chrono::milliseconds{0}, std::forward<Token>(token), where);
  }
  /// async_acquire() waiting up to `timeout` (zero: acquire_timeout).
  ///
  /// Example: `auto c = co_await db.async_acquire(200ms, asio::use_awaitable);`
  template <class Token>
  auto async_acquire(std::chrono::milliseconds timeout, Token&& token,
                     std::source_location where = std::source_location::current()) {
    return boost::asio::async_initiate<Token, void(std::exception_ptr, lease)>(
        detail::initiate_acquire{state_, get_executor()}, token, timeout, where);
  }

  /// Counters: connections in use, idle, waiting acquires, and totals.
  /// Example: `if (db.stats().waiting > 0) log("pool too small");`
  [[nodiscard]] pool_stats stats() const;
  /// Drains the pool: waiting and further acquires fail with usage_error, idle connections
  /// are closed now, leased ones when they come back. Idempotent; never throws.
  void close() noexcept;
  /// True after close().
  [[nodiscard]] bool closed() const noexcept;
  /// The options it was made with.
  [[nodiscard]] const pool_options& options() const noexcept;
  /// The executor it runs on.
  [[nodiscard]] executor_type get_executor() const noexcept;
  /// How it shares connections among reads.
  [[nodiscard]] const read_sharing& sharing() const noexcept;
  /// Shared reads in flight now, over all its shared connections (0 without read_sharing).
  ///
  /// Example: `std::size_t n = db.reads_in_flight();`
  [[nodiscard]] std::size_t reads_in_flight() const;

 private:
  friend struct detail::pool_access;
  std::shared_ptr<detail::pool_state> state_;
};

namespace detail {

template <class R, class F>
boost::asio::awaitable<R> pool_transaction_body(pool& p, F fn, transaction_options options,
                                                std::source_location where) {
  lease l = co_await p.async_acquire(boost::asio::use_awaitable, where);
  std::exception_ptr failure;
  try {
    if constexpr (std::is_void_v<R>) {
      co_await transaction_body<R>(*l, std::move(fn), std::move(options));
      co_return;
    } else {
      co_return co_await transaction_body<R>(*l, std::move(fn), std::move(options));
    }
  } catch (...) {
    failure = std::current_exception();
  }
  if (poisons(failure)) l.poison();
  std::rethrow_exception(failure);
}

}  // namespace detail

/// run_transaction() on a connection borrowed from `p` for the whole transaction (retries
/// included), given back (reset) when it ends. `where` (leave it defaulted) is the call site
/// that pool_options::leak_threshold reports.
///
/// Example:
/// ```
/// co_await pgorm::async::run_transaction(db, [&](pgorm::async::transaction& tx)
///     -> asio::awaitable<void> { co_await pgorm::async::exec(tx, q, asio::use_awaitable); },
///     {}, asio::use_awaitable);
/// ```
template <class F, class Token>
auto run_transaction(pool& p, F fn, transaction_options options, Token&& token,
                     std::source_location where = std::source_location::current()) {
  using R = detail::transaction_value_t<F>;
  return boost::asio::co_spawn(
      p.get_executor(),
      detail::pool_transaction_body<R>(p, std::move(fn), std::move(options), where),
      std::forward<Token>(token));
}

/// run_transaction() on a pool with the default transaction_options.
template <class F, class Token>
auto run_transaction(pool& p, F fn, Token&& token,
                     std::source_location where = std::source_location::current()) {
  return run_transaction(p, std::move(fn), transaction_options{}, std::forward<Token>(token),
                         where);
}

}  // namespace pgorm::async
