// SPDX-License-Identifier: MIT
#pragma once

/// \file
/// Transactions on an async connection (docs/async.md): run_transaction() runs a coroutine
/// function between BEGIN and COMMIT, rolls back when it throws, nests savepoints, retries
/// serialization failures and deadlocks, and keeps one deadline for the whole call, with the
/// options and policies of the synchronous pgorm::run_transaction (transaction.hpp).
///
/// While it runs, the transaction pins its connection: statements of other coroutines on the
/// same connection are refused with usage_error (nothing is sent), never interleaved into it.
///
/// Example:
/// ```
/// co_await pgorm::async::run_transaction(conn, [&](pgorm::async::transaction& tx)
///     -> asio::awaitable<void> {
///   co_await pgorm::async::exec(tx, pgorm::insert(order), asio::use_awaitable);
///   co_await tx.async_exec("update stock set n = n - 1 where id = 7", asio::use_awaitable);
/// }, {.isolation = pgorm::isolation_level::serializable, .retry = {.max_attempts = 5}},
///    asio::use_awaitable);
/// ```

#include <chrono>
#include <cstdint>
#include <exception>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "pgorm/async/connection.hpp"
#include "pgorm/error.hpp"
#include "pgorm/transaction.hpp"

namespace pgorm::async {

class transaction;

namespace detail {

/// The value type T of an asio::awaitable<T, Executor>.
template <class A>
struct awaitable_value {
  static_assert(sizeof(A) == 0,
                "pgorm: an async transaction function returns boost::asio::awaitable<T>, e.g. "
                "[&](pgorm::async::transaction& tx) -> boost::asio::awaitable<void> { ... }");
};
template <class T, class Ex>
struct awaitable_value<boost::asio::awaitable<T, Ex>> {
  using type = T;
};

/// The value the transaction function `F` produces.
template <class F>
using transaction_value_t =
    typename awaitable_value<std::invoke_result_t<F&, pgorm::async::transaction&>>::type;

/// Runs `sql` on `c` as a statement of the transaction pinned with `pin` (0: of none).
template <class Token>
auto pinned_exec(connection& c, std::uint64_t pin, std::string_view sql,
                 std::span<const param> params, data_format format,
                 std::chrono::milliseconds timeout, std::exception_ptr refused, Token&& token) {
  return boost::asio::async_initiate<Token, exec_signature>(
      initiate_exec{access::core_of(c), c.get_executor(), std::move(refused)}, token,
      request(sql, params, format, timeout, pin));
}

/// pinned_exec() of a statement run from the connection's statement cache, found by the
/// shape's text (a transaction's statements with parameters, as the synchronous ones).
template <class Token>
auto pinned_exec(connection& c, std::uint64_t pin, const statement_shape& shape,
                 std::span<const param> params, data_format format,
                 std::chrono::milliseconds timeout, std::exception_ptr refused, Token&& token) {
  request req(shape, param_pack(params), format, timeout);
  req.set_pin(pin);
  return boost::asio::async_initiate<Token, exec_signature>(
      initiate_exec{access::core_of(c), c.get_executor(), std::move(refused)}, token,
      std::move(req));
}

/// The pin of a running transaction on a connection: unpinned when the transaction ends. When
/// its coroutine is destroyed with the transaction still open (its executor was stopped and
/// destroyed mid-way), the connection is closed, which ends the transaction on the server.
class pin_guard {
 public:
  explicit pin_guard(connection& c) : conn_(&c), core_(access::core_of(c)), id_(pin(core_)) {}
  pin_guard(const pin_guard&) = delete;
  pin_guard& operator=(const pin_guard&) = delete;
  pin_guard(pin_guard&&) = delete;
  pin_guard& operator=(pin_guard&&) = delete;
  ~pin_guard() {
    if (open && access::core_of(*conn_) == core_) conn_->close();
    unpin(core_, id_);
  }
  [[nodiscard]] std::uint64_t id() const noexcept { return id_; }
  /// True between BEGIN and the end of COMMIT or ROLLBACK.
  bool open = false;

 private:
  connection* conn_;
  std::shared_ptr<core> core_;
  std::uint64_t id_;
};

/// True when a failed ROLLBACK was still answered by the server (the session's state is
/// known): any sql_error but a cancel (57014) or one that ends the session.
inline bool answered(const std::exception_ptr& e) noexcept {
  try {
    std::rethrow_exception(e);
  } catch (const sql_error& x) {
    return x.sqlstate() != "57014" && !x.poisons_connection();
  } catch (...) {
    return false;
  }
}

/// ROLLBACK (or ROLLBACK TO SAVEPOINT) within pgorm::detail::rollback_timeout, never throwing
/// (the caller is unwinding): when it fails without an answer the connection is closed, as in
/// pgorm::detail::rollback_quietly. Runs even when the caller's coroutine was cancelled.
inline boost::asio::awaitable<void> rollback_quietly(connection& conn, std::uint64_t pin,
                                                     std::string statement) {
  co_await boost::asio::this_coro::reset_cancellation_state();
  if (!conn.is_open()) co_return;  // a closed session has rolled back on the server
  auto [e, r] = co_await pinned_exec(conn, pin, statement, {}, data_format::text,
                                     pgorm::detail::rollback_timeout, nullptr,
                                     boost::asio::as_tuple(boost::asio::use_awaitable));
  (void)r;
  if (e && !answered(e)) conn.close();
}

/// COMMIT within `timeout`, its failure reported as pgorm::detail::commit_failure() says.
inline boost::asio::awaitable<void> commit(connection& conn, std::uint64_t pin,
                                           std::chrono::milliseconds timeout) {
  auto [e, r] = co_await pinned_exec(conn, pin, "COMMIT", {}, data_format::text, timeout, nullptr,
                                     boost::asio::as_tuple(boost::asio::use_awaitable));
  if (e) std::rethrow_exception(pgorm::detail::commit_failure(e, conn.is_open()));
  pgorm::detail::check_commit_tag(r.command_tag());
}

template <class R, class F>
boost::asio::awaitable<R> transaction_body(connection& conn, F fn, transaction_options options);

}  // namespace detail

/// A running async transaction: run statements through it (async_exec(), or pass it to the
/// async terminals: `pgorm::async::all(tx, q, token)`), nest savepoints with savepoint(). Made
/// by run_transaction(); valid only inside the function given to it, and used by one coroutine
/// at a time (its statements run one after another).
class transaction {
 public:
  transaction(const transaction&) = delete;
  transaction& operator=(const transaction&) = delete;
  transaction(transaction&&) = delete;
  transaction& operator=(transaction&&) = delete;
  ~transaction() = default;

  /// Runs a statement in the transaction (see connection::async_exec) within its own
  /// `timeout` (zero: none of its own) and what is left of the transaction's timeout
  /// (transaction_options::timeout); with neither, the connection's query_timeout. A spent
  /// budget completes with query_canceled without sending anything. Prepared from the
  /// connection's statement cache by its text, as connection::async_exec() with parameters.
  ///
  /// Example: `auto r = co_await tx.async_exec("select $1::int", params, fmt, 1s, token);`
  template <class Token>
  auto async_exec(std::string_view sql, std::span<const param> params, data_format format,
                  std::chrono::milliseconds timeout, Token&& token) {
    std::exception_ptr refused;
    std::chrono::milliseconds t{0};
    try {
      t = pgorm::detail::statement_timeout(limit_, timeout, "the next statement");
    } catch (...) {
      refused = std::current_exception();
    }
    return detail::pinned_exec(*conn_, pin_, statement_shape{.sql = sql}, params, format, t,
                               std::move(refused), std::forward<Token>(token));
  }
  /// async_exec() with the transaction's deadline only.
  template <class Token>
  auto async_exec(std::string_view sql, std::span<const param> params, data_format format,
                  Token&& token) {
    return async_exec(sql, params, format, std::chrono::milliseconds{0},
                      std::forward<Token>(token));
  }
  /// async_exec() with text results.
  template <class Token>
  auto async_exec(std::string_view sql, std::span<const param> params, Token&& token) {
    return async_exec(sql, params, data_format::text, std::chrono::milliseconds{0},
                      std::forward<Token>(token));
  }
  /// async_exec() of a statement without parameters, with text results: run unnamed, as
  /// connection::async_exec(sql, token).
  ///
  /// Example: `co_await tx.async_exec("lock table accounts", asio::use_awaitable);`
  template <class Token>
  auto async_exec(std::string_view sql, Token&& token) {
    std::exception_ptr refused;
    std::chrono::milliseconds t{0};
    try {
      t = pgorm::detail::statement_timeout(limit_, std::chrono::milliseconds{0},
                                           "the next statement");
    } catch (...) {
      refused = std::current_exception();
    }
    return detail::pinned_exec(*conn_, pin_, sql, {}, data_format::text, t, std::move(refused),
                               std::forward<Token>(token));
  }

  /// A nested transaction as a savepoint: `fn(inner)` (a coroutine function, like the one given
  /// to run_transaction) runs after SAVEPOINT; RELEASE when it returns, ROLLBACK TO SAVEPOINT
  /// when it throws (the exception propagates; the outer transaction goes on if the caller
  /// catches it). Completes with what fn returns.
  ///
  /// Example:
  /// ```
  /// try {
  ///   co_await tx.savepoint([&](pgorm::async::transaction& sp) -> asio::awaitable<void> {
  ///     co_await sp.async_exec("insert into t values (1)", asio::use_awaitable);
  ///   });
  /// } catch (const pgorm::unique_violation&) { /* the outer transaction goes on */ }
  /// ```
  template <class F>
  boost::asio::awaitable<detail::transaction_value_t<F>> savepoint(F fn);

  /// The connection the transaction runs on (pinned: run statements through the transaction).
  [[nodiscard]] connection& conn() noexcept { return *conn_; }
  /// 0 for the outermost transaction, 1 inside its first savepoint, ...
  [[nodiscard]] int depth() const noexcept { return depth_; }
  /// What is left of the transaction's timeout, at least 0; std::nullopt when it has none.
  [[nodiscard]] std::optional<std::chrono::milliseconds> time_left() const noexcept {
    if (!limit_.bounded()) return std::nullopt;
    return limit_.left();
  }
  /// The pin that lets this transaction's statements onto its connection (for the async
  /// terminals).
  [[nodiscard]] std::uint64_t pin() const noexcept { return pin_; }
  /// The timeout of the next statement with its own `timeout` (see async_exec()); throws
  /// query_canceled when the transaction's budget is spent.
  [[nodiscard]] std::chrono::milliseconds next_timeout(std::chrono::milliseconds own) const {
    return pgorm::detail::statement_timeout(limit_, own, "the next statement");
  }

 private:
  template <class R, class F>
  friend boost::asio::awaitable<R> detail::transaction_body(connection& conn, F fn,
                                                            transaction_options options);

  transaction(connection& conn, std::uint64_t pin, int depth,
              const pgorm::detail::deadline& limit) noexcept
      : conn_(&conn), pin_(pin), depth_(depth), limit_(limit) {}

  // SAVEPOINT / RELEASE SAVEPOINT, within the budget.
  boost::asio::awaitable<void> control(std::string sql) {
    const std::chrono::milliseconds t = pgorm::detail::statement_timeout(limit_, {}, sql);
    co_await detail::pinned_exec(*conn_, pin_, sql, {}, data_format::text, t, nullptr,
                                 boost::asio::use_awaitable);
  }

  connection* conn_;
  std::uint64_t pin_;
  int depth_;
  pgorm::detail::deadline limit_;
};

template <class F>
boost::asio::awaitable<detail::transaction_value_t<F>> transaction::savepoint(F fn) {
  using R = detail::transaction_value_t<F>;
  const std::string name = pgorm::detail::savepoint_name(depth_ + 1);
  co_await control("SAVEPOINT " + name);
  transaction inner(*conn_, pin_, depth_ + 1, limit_);
  std::exception_ptr failure;
  try {
    if constexpr (std::is_void_v<R>) {
      co_await fn(inner);
      co_await control("RELEASE SAVEPOINT " + name);
      co_return;
    } else {
      R out = co_await fn(inner);
      co_await control("RELEASE SAVEPOINT " + name);
      co_return out;
    }
  } catch (...) {
    failure = std::current_exception();
  }
  co_await detail::rollback_quietly(*conn_, pin_, "ROLLBACK TO SAVEPOINT " + name);
  co_await detail::rollback_quietly(*conn_, pin_, "RELEASE SAVEPOINT " + name);
  std::rethrow_exception(failure);
}

namespace detail {

template <class R, class F>
boost::asio::awaitable<R> transaction_body(connection& conn, F fn, transaction_options options) {
  pin_guard pin(conn);
  const pgorm::detail::deadline limit = pgorm::detail::deadline::after(options.timeout);
  const std::string_view begin = pgorm::detail::begin_text(options);
  const int attempts = options.retry.max_attempts < 1 ? 1 : options.retry.max_attempts;
  for (int attempt = 1;; ++attempt) {
    co_await pinned_exec(conn, pin.id(), begin, {}, data_format::text,
                         pgorm::detail::statement_timeout(limit, {}, "BEGIN"), nullptr,
                         boost::asio::use_awaitable);
    pin.open = true;
    transaction tx(conn, pin.id(), 0, limit);
    std::exception_ptr failure;
    bool committing = false;  // COMMIT went out: whatever it answered, the transaction is over
    try {
      if constexpr (std::is_void_v<R>) {
        co_await fn(tx);
        const auto t = pgorm::detail::statement_timeout(limit, {}, "COMMIT");
        committing = true;
        co_await commit(conn, pin.id(), t);
        pin.open = false;
        co_return;
      } else {
        R out = co_await fn(tx);
        const auto t = pgorm::detail::statement_timeout(limit, {}, "COMMIT");
        committing = true;
        co_await commit(conn, pin.id(), t);
        pin.open = false;
        co_return out;
      }
    } catch (...) {
      failure = std::current_exception();
    }
    if (committing) {
      pin.open = false;
      try {
        std::rethrow_exception(failure);
      } catch (const commit_outcome_unknown&) {
        throw;
      } catch (...) {  // NOLINT(bugprone-empty-catch): a definite refusal; retried below
      }
    } else {
      co_await rollback_quietly(conn, pin.id(), "ROLLBACK");
      pin.open = false;
    }
    if (attempt >= attempts || !conn.is_open() || !pgorm::detail::retryable(failure)) {
      std::rethrow_exception(failure);
    }
    boost::asio::steady_timer pause(co_await boost::asio::this_coro::executor);
    pause.expires_after(pgorm::detail::retry_delay(options.retry, attempt, limit, failure));
    co_await pause.async_wait(boost::asio::use_awaitable);
  }
}

}  // namespace detail

/// Runs `fn(pgorm::async::transaction&)`, a coroutine function returning
/// boost::asio::awaitable<T>, in a transaction on `conn`: BEGIN (with options.isolation,
/// read_only, deferrable), fn, COMMIT; completes with what fn returns. An exception from fn
/// rolls back and completes with it unchanged. With options.retry, a serialization failure or
/// deadlock (40001, 40P01, from fn or from COMMIT) rolls back, pauses as the synchronous
/// retry_policy says (on a timer) and runs fn again. options.timeout is one deadline for the
/// whole call, as for the synchronous transaction: past it the running statement is cancelled
/// on the server and the call completes with query_canceled, rolled back.
///
/// Completes with commit_outcome_unknown when the connection is lost during COMMIT, and with
/// usage_error, before anything is sent, when `conn` is already running a transaction (nest
/// with tx.savepoint()). While it runs, other coroutines' statements on `conn` are refused
/// with usage_error. Completion signature: void(std::exception_ptr, T) (void(std::exception_ptr)
/// for void). The transaction runs as a coroutine on conn's executor; `conn` and whatever fn
/// refers to must outlive it.
///
/// Example:
/// ```
/// int n = co_await pgorm::async::run_transaction(conn,
///     [&](pgorm::async::transaction& tx) -> asio::awaitable<int> {
///       auto r = co_await tx.async_exec("select count(*) from t", asio::use_awaitable);
///       co_return std::stoi(std::string(r.value(0, 0)));
///     }, {.read_only = true}, asio::use_awaitable);
/// ```
template <class F, class Token>
auto run_transaction(connection& conn, F fn, transaction_options options, Token&& token) {
  using R = detail::transaction_value_t<F>;
  auto ex = conn.get_executor();
  if (!ex) {
    throw connection_error(
        "pgorm: run_transaction() on an async connection that is not connected "
        "(default-constructed or moved from)");
  }
  return boost::asio::co_spawn(std::move(ex),
                               detail::transaction_body<R>(conn, std::move(fn), std::move(options)),
                               std::forward<Token>(token));
}

/// run_transaction() with the default transaction_options.
template <class F, class Token>
auto run_transaction(connection& conn, F fn, Token&& token) {
  return run_transaction(conn, std::move(fn), transaction_options{}, std::forward<Token>(token));
}

}  // namespace pgorm::async
