// SPDX-License-Identifier: MIT
#pragma once

/// \file
/// Transactions: `db.transaction(fn)` commits when fn returns and rolls back when it throws
/// (the exception propagates unchanged); nest with tx.savepoint(fn) (transaction() on a
/// connection that is already in a transaction is a usage_error); a retry policy re-runs fn on
/// serialization failures and deadlocks. See docs/transactions.md.
///
/// ```cpp
/// conn.transaction([&](pgorm::transaction& tx) {
///   tx.update<Account>().set(pgorm::col<&Account::balance> = pgorm::col<&Account::balance> - 10)
///       .where(pgorm::col<&Account::id> == from).exec();
///   tx.update<Account>().set(pgorm::col<&Account::balance> = pgorm::col<&Account::balance> + 10)
///       .where(pgorm::col<&Account::id> == to).exec();
/// }, {.isolation = pgorm::isolation_level::serializable, .retry = {.max_attempts = 5},
///     .timeout = std::chrono::seconds(2)});
/// ```

#include <chrono>
#include <exception>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include "pgorm/connection.hpp"
#include "pgorm/detail/deadline.hpp"
#include "pgorm/error.hpp"
#include "pgorm/export.hpp"
#include "pgorm/query_methods.hpp"

namespace pgorm {

/// The connection broke while COMMIT was on its way or its answer was: the transaction may or
/// may not have been committed. Never reported as "rolled back". Check the data (ideally with
/// an idempotency key) before retrying.
class PGORM_API commit_outcome_unknown : public connection_error {
 public:
  using connection_error::connection_error;
};

/// SQL transaction isolation levels (PostgreSQL docs 13.2).
enum class isolation_level { read_committed, repeatable_read, serializable };

/// Re-running a transaction that failed with serialization_failure (40001) or
/// deadlock_detected (40P01): fn runs again from the start after a jittered, exponentially
/// growing pause. max_attempts counts the first run; 1 means no retry.
struct retry_policy {
  int max_attempts = 1;
  std::chrono::milliseconds base_delay{5};
  std::chrono::milliseconds max_delay{500};
};

/// How a transaction starts and whether it retries.
struct transaction_options {
  /// Isolation level; std::nullopt keeps the session's default (normally read committed).
  std::optional<isolation_level> isolation{};
  bool read_only = false;
  /// Only with serializable + read_only: wait for a safe snapshot, then never fail.
  bool deferrable = false;
  retry_policy retry{};
  /// One deadline for the whole call; zero means none. It covers BEGIN, every statement the
  /// function runs through the transaction object (each gets what is left of the budget, or
  /// its own timeout when that is shorter), COMMIT, and retries with their pauses. When it runs
  /// out, the running statement is cancelled on the server, the transaction is rolled back and
  /// the call throws query_canceled; when the link is dead, connection_error (during COMMIT:
  /// commit_outcome_unknown). The rollback after a failure has a bound of its own (2 s, see
  /// docs/transactions.md): past it the connection is closed. Without a timeout, each statement
  /// has the connection's deadline (connect_options::query_timeout).
  ///
  /// Example: `conn.transaction(fn, {.timeout = std::chrono::milliseconds(500)});`
  std::chrono::milliseconds timeout{0};
};

namespace detail {

/// How long ROLLBACK (and ROLLBACK TO SAVEPOINT) may take while a failure unwinds, whatever is
/// left of the transaction's budget: past it the connection is closed, which ends the
/// transaction on the server too, instead of being left in an unknown state.
inline constexpr std::chrono::milliseconds rollback_timeout{2000};

/// The timeout for the next statement of a transaction whose budget is `limit`: what is left
/// of it, or `own` when nonzero and shorter; `own` itself when the budget is unbounded. Throws
/// query_canceled, naming `before`, when the budget is spent.
PGORM_API std::chrono::milliseconds statement_timeout(const deadline& limit,
                                                      std::chrono::milliseconds own,
                                                      std::string_view before);

}  // namespace detail

/// A running transaction: an executor (run builders on it) that can nest savepoints. Made by
/// connection::transaction() or pool::transaction(); valid only inside the function given to
/// them. Nest with tx.savepoint(fn).
class transaction : public query_methods<transaction> {
 public:
  transaction(const transaction&) = delete;
  transaction& operator=(const transaction&) = delete;
  transaction(transaction&&) = delete;
  transaction& operator=(transaction&&) = delete;
  ~transaction() = default;

  /// Runs a statement in the transaction (see connection::exec), within what is left of the
  /// transaction's timeout (transaction_options::timeout), else the connection's deadline.
  result exec(std::string_view sql, std::span<const param> params, data_format result_format) {
    if (!limit_.bounded()) return conn_->exec(sql, params, result_format);
    return conn_->exec(sql, params, result_format, timeout_for({}));
  }
  result exec(std::string_view sql, std::initializer_list<param> params,
              data_format result_format = data_format::text) {
    return exec(sql, std::span<const param>(params.begin(), params.size()), result_format);
  }
  /// Runs a statement whose shape a builder knows (see connection::exec with a shape), within
  /// its own deadline (zero: none of its own) and what is left of the transaction's timeout.
  ///
  /// Example: `auto r = tx.exec(pgorm::statement_shape{.sql = "select 1"}, {}, fmt);`
  result exec(const statement_shape& shape, const param_pack& params, data_format result_format,
              std::chrono::milliseconds timeout = {}) {
    if (timeout.count() == 0 && !limit_.bounded()) return conn_->exec(shape, params, result_format);
    return conn_->exec(shape, params, result_format, timeout_for(timeout));
  }
  /// Runs a statement with its own deadline (see connection::exec); the transaction's timeout,
  /// when it is sooner, still applies. Zero: only the transaction's (none without one, as for
  /// connection::exec).
  result exec(std::string_view sql, std::span<const param> params, data_format result_format,
              std::chrono::milliseconds timeout) {
    return conn_->exec(sql, params, result_format, timeout_for(timeout));
  }
  /// Runs statements through the simple protocol (see connection::exec), within what is left
  /// of the transaction's timeout, else the connection's deadline.
  result exec(std::string_view sql) {
    if (!limit_.bounded()) return conn_->exec(sql);
    return conn_->exec(sql, timeout_for({}));
  }
  /// exec(sql) with its own deadline; the transaction's timeout, when sooner, still applies.
  /// Zero: only the transaction's (none without one).
  ///
  /// Example: `tx.exec("lock table accounts", std::chrono::milliseconds(200));`
  result exec(std::string_view sql, std::chrono::milliseconds timeout) {
    return conn_->exec(sql, timeout_for(timeout));
  }
  /// Streams a statement's rows (see connection::exec_each), within what is left of the
  /// transaction's timeout, else the connection's deadline.
  void exec_each(std::string_view sql, std::span<const param> params, data_format result_format,
                 const std::function<void(const result&)>& on_row) {
    if (!limit_.bounded()) return conn_->exec_each(sql, params, result_format, on_row);
    conn_->exec_each(sql, params, result_format, on_row, timeout_for({}));
  }

  /// A nested transaction as a savepoint, released when fn returns and rolled back to when it
  /// throws (the exception propagates; the outer transaction goes on if the caller catches it).
  template <class F>
  decltype(auto) savepoint(F&& fn);

  /// The connection the transaction runs on.
  connection& conn() noexcept { return *conn_; }
  /// 0 for the outermost transaction, 1 inside its first savepoint, ...
  [[nodiscard]] int depth() const noexcept { return depth_; }
  /// What is left of the transaction's timeout (transaction_options::timeout), at least 0;
  /// std::nullopt when it has none.
  [[nodiscard]] std::optional<std::chrono::milliseconds> time_left() const noexcept {
    if (!limit_.bounded()) return std::nullopt;
    return limit_.left();
  }

 private:
  template <class F>
  friend decltype(auto) run_transaction(connection& conn, F&& fn,
                                        const transaction_options& options);

  transaction(connection& conn, int depth, const detail::deadline& limit) noexcept
      : conn_(&conn), depth_(depth), limit_(limit) {}

  std::chrono::milliseconds timeout_for(std::chrono::milliseconds own) const {
    return detail::statement_timeout(limit_, own, "the next statement");
  }
  // SAVEPOINT / RELEASE SAVEPOINT, within the budget.
  void control(const std::string& sql) {
    if (!limit_.bounded()) {
      conn_->exec(sql);
    } else {
      conn_->exec(sql, detail::statement_timeout(limit_, {}, sql));
    }
  }

  connection* conn_;
  int depth_;
  detail::deadline limit_;
};

namespace detail {

/// Why `conn` counts as being in a transaction: a pgorm::transaction is running on it (see
/// transaction_scope), or its session is inside a transaction block (connection::status() is
/// in_transaction or in_error) or busy with a statement (active); "" when it is not.
PGORM_API std::string_view transaction_in_progress(const connection& conn);

/// Marks `conn` as running a pgorm::transaction for the scope's lifetime, after refusing a
/// connection that is already in a transaction (transaction_in_progress()) with usage_error:
/// a second BEGIN would not nest, and the inner COMMIT would commit the outer work early.
/// Nothing is sent to the server, so the outer transaction is left as it was.
class PGORM_API transaction_scope {
 public:
  explicit transaction_scope(const connection& conn);
  transaction_scope(const transaction_scope&) = delete;
  transaction_scope& operator=(const transaction_scope&) = delete;
  transaction_scope(transaction_scope&&) = delete;
  transaction_scope& operator=(transaction_scope&&) = delete;
  ~transaction_scope();

 private:
  const connection* conn_;
};

/// BEGIN with the options, e.g. "BEGIN ISOLATION LEVEL SERIALIZABLE READ ONLY DEFERRABLE", a
/// NUL-terminated constant.
PGORM_API const char* begin_text(const transaction_options& options) noexcept;
/// Sends BEGIN (`statement`) within `limit` (the connection's deadline when unbounded).
PGORM_API void begin(connection& conn, const char* statement, const deadline& limit);
/// COMMIT. A lost connection, or a server error that ends the session (FATAL or PANIC, SQLSTATE
/// class 08, 57P01-57P03, or the connection closed afterwards), is commit_outcome_unknown; a
/// definite refusal (40001, a deferred constraint, ...) is its typed sql_error; a COMMIT that
/// the server answered with ROLLBACK (an error inside was swallowed) is usage_error. Runs
/// within `limit` (the connection's deadline when unbounded); a spent budget is query_canceled
/// before COMMIT is sent.
PGORM_API void commit(connection& conn, const deadline& limit);
/// ROLLBACK (or ROLLBACK TO SAVEPOINT), within rollback_timeout, never throwing: the caller is
/// already unwinding. When it cannot be done in time (or the link failed), the connection is
/// closed, so that it is never left in an unknown state.
PGORM_API void rollback_quietly(connection& conn, std::string_view statement) noexcept;
/// Sleeps before retry `attempt` (1-based): min(max, base * 2^(attempt-1)) scaled by a random
/// factor in [0.5, 1.5). When the pause would not end before `limit`, throws query_canceled
/// instead (naming `failure`, the error that asked for the retry).
PGORM_API void retry_pause(const retry_policy& policy, int attempt, const deadline& limit,
                           const std::exception_ptr& failure);
/// The pause retry_pause() would sleep (same policy, jitter and query_canceled when it would
/// not end before `limit`), for callers that wait on a timer instead (pgorm::async).
PGORM_API std::chrono::milliseconds retry_delay(const retry_policy& policy, int attempt,
                                                const deadline& limit,
                                                const std::exception_ptr& failure);
/// What commit() reports when COMMIT failed with `failure`: a definite refusal (a typed
/// sql_error that does not end the session, with the connection still `open`) as it is, any
/// other failure as commit_outcome_unknown. Shared by the async transactions.
PGORM_API std::exception_ptr commit_failure(const std::exception_ptr& failure, bool open);
/// Throws usage_error when COMMIT answered with the command tag ROLLBACK (an error inside the
/// transaction was swallowed by its function).
PGORM_API void check_commit_tag(std::string_view tag);
/// Savepoint names by depth: "pgorm_sp_1", ...
PGORM_API std::string savepoint_name(int depth);

/// True for the errors a retry can cure: 40001 and 40P01.
inline bool retryable(const std::exception_ptr& e) {
  try {
    std::rethrow_exception(e);
  } catch (const serialization_failure&) {
    return true;
  } catch (const deadlock_detected&) {
    return true;
  } catch (...) {
    return false;
  }
}

}  // namespace detail

/// Runs fn(transaction&) in a transaction on `conn`: BEGIN, fn, COMMIT. Returns what fn returns.
/// An exception from fn rolls back and propagates unchanged. With options.retry, a
/// serialization failure or deadlock (from fn or from COMMIT) rolls back and re-runs fn.
///
/// Throws commit_outcome_unknown when the connection is lost during COMMIT, and usage_error,
/// before sending anything, when `conn` is already in a transaction (nest with tx.savepoint()).
template <class F>
decltype(auto) run_transaction(connection& conn, F&& fn, const transaction_options& options) {
  static_assert(std::is_invocable_v<F&, transaction&>,
                "pgorm: a transaction function takes pgorm::transaction&, e.g. "
                "[&](pgorm::transaction& tx) { ... }");
  using R = std::invoke_result_t<F&, transaction&>;
  const detail::transaction_scope scope(conn);
  const detail::deadline limit = detail::deadline::after(options.timeout);
  const char* const begin = detail::begin_text(options);
  const int attempts = options.retry.max_attempts < 1 ? 1 : options.retry.max_attempts;
  for (int attempt = 1;; ++attempt) {
    detail::begin(conn, begin, limit);
    transaction tx(conn, 0, limit);
    try {
      if constexpr (std::is_void_v<R>) {
        fn(tx);
        detail::commit(conn, limit);
        return;
      } else {
        R out = fn(tx);
        detail::commit(conn, limit);
        return out;
      }
    } catch (const commit_outcome_unknown&) {
      throw;
    } catch (...) {
      const std::exception_ptr failure = std::current_exception();
      if (conn.status() != transaction_status::idle) detail::rollback_quietly(conn, "ROLLBACK");
      if (attempt >= attempts || !conn.is_open() || !detail::retryable(failure)) throw;
      detail::retry_pause(options.retry, attempt, limit, failure);
    }
  }
}

template <class F>
decltype(auto) transaction::savepoint(F&& fn) {
  static_assert(std::is_invocable_v<F&, pgorm::transaction&>,
                "pgorm: a transaction function takes pgorm::transaction&");
  using R = std::invoke_result_t<F&, pgorm::transaction&>;
  const std::string name = detail::savepoint_name(depth_ + 1);
  control("SAVEPOINT " + name);
  pgorm::transaction inner(*conn_, depth_ + 1, limit_);
  try {
    if constexpr (std::is_void_v<R>) {
      fn(inner);
      control("RELEASE SAVEPOINT " + name);
    } else {
      R out = fn(inner);
      control("RELEASE SAVEPOINT " + name);
      return out;
    }
  } catch (...) {
    detail::rollback_quietly(*conn_, "ROLLBACK TO SAVEPOINT " + name);
    detail::rollback_quietly(*conn_, "RELEASE SAVEPOINT " + name);
    throw;
  }
}

namespace detail {
template <class F>
struct transaction_entry {
  static decltype(auto) run(connection& conn, F&& fn,
                            const transaction_options& options = transaction_options{}) {
    return run_transaction(conn, std::forward<F>(fn), options);
  }
};
}  // namespace detail

}  // namespace pgorm
