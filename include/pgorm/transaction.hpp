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
/// }, {.isolation = pgorm::isolation_level::serializable, .retry = {.max_attempts = 5}});
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
#include "pgorm/error.hpp"
#include "pgorm/query.hpp"

namespace pgorm {

/// The connection broke while COMMIT was on its way or its answer was: the transaction may or
/// may not have been committed. Never reported as "rolled back". Check the data (ideally with
/// an idempotency key) before retrying.
class commit_outcome_unknown : public connection_error {
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
};

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

  /// Runs a statement in the transaction (see connection::exec).
  result exec(std::string_view sql, std::span<const param> params, data_format result_format) {
    return conn_->exec(sql, params, result_format);
  }
  result exec(std::string_view sql, std::initializer_list<param> params,
              data_format result_format = data_format::text) {
    return conn_->exec(sql, std::span<const param>(params.begin(), params.size()), result_format);
  }
  /// Runs a statement with a client-side deadline (see connection::exec).
  result exec(std::string_view sql, std::span<const param> params, data_format result_format,
              std::chrono::milliseconds timeout) {
    return conn_->exec(sql, params, result_format, timeout);
  }
  /// Runs statements through the simple protocol (see connection::exec).
  result exec(std::string_view sql) { return conn_->exec(sql); }
  void exec_each(std::string_view sql, std::span<const param> params, data_format result_format,
                 const std::function<void(const result&)>& on_row) {
    conn_->exec_each(sql, params, result_format, on_row);
  }

  /// A nested transaction as a savepoint, released when fn returns and rolled back to when it
  /// throws (the exception propagates; the outer transaction goes on if the caller catches it).
  template <class F>
  decltype(auto) savepoint(F&& fn);

  /// The connection the transaction runs on.
  connection& conn() noexcept { return *conn_; }
  /// 0 for the outermost transaction, 1 inside its first savepoint, ...
  [[nodiscard]] int depth() const noexcept { return depth_; }

 private:
  template <class F>
  friend decltype(auto) run_transaction(connection& conn, F&& fn,
                                        const transaction_options& options);

  transaction(connection& conn, int depth) noexcept : conn_(&conn), depth_(depth) {}

  connection* conn_;
  int depth_;
};

namespace detail {

/// Why `conn` counts as being in a transaction: a pgorm::transaction is running on it (see
/// transaction_scope), or its session is inside a transaction block (connection::status() is
/// in_transaction or in_error) or busy with a statement (active); "" when it is not.
std::string_view transaction_in_progress(const connection& conn);

/// Marks `conn` as running a pgorm::transaction for the scope's lifetime, after refusing a
/// connection that is already in a transaction (transaction_in_progress()) with usage_error:
/// a second BEGIN would not nest, and the inner COMMIT would commit the outer work early.
/// Nothing is sent to the server, so the outer transaction is left as it was.
class transaction_scope {
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

/// BEGIN with the options, e.g. "BEGIN ISOLATION LEVEL SERIALIZABLE READ ONLY DEFERRABLE".
std::string begin_statement(const transaction_options& options);
/// COMMIT. A lost connection, or a server error that ends the session (FATAL or PANIC, SQLSTATE
/// class 08, 57P01-57P03, or the connection closed afterwards), is commit_outcome_unknown; a
/// definite refusal (40001, a deferred constraint, ...) is its typed sql_error; a COMMIT that
/// the server answered with ROLLBACK (an error inside was swallowed) is usage_error.
void commit(connection& conn);
/// ROLLBACK (or ROLLBACK TO SAVEPOINT), never throwing: the caller is already unwinding.
void rollback_quietly(connection& conn, std::string_view statement) noexcept;
/// Sleeps before retry `attempt` (1-based): min(max, base * 2^(attempt-1)) scaled by a random
/// factor in [0.5, 1.5).
void retry_pause(const retry_policy& policy, int attempt);
/// Savepoint names by depth: "pgorm_sp_1", ...
std::string savepoint_name(int depth);

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
  const std::string begin = detail::begin_statement(options);
  const int attempts = options.retry.max_attempts < 1 ? 1 : options.retry.max_attempts;
  for (int attempt = 1;; ++attempt) {
    conn.exec(begin);
    transaction tx(conn, 0);
    try {
      if constexpr (std::is_void_v<R>) {
        fn(tx);
        detail::commit(conn);
        return;
      } else {
        R out = fn(tx);
        detail::commit(conn);
        return out;
      }
    } catch (const commit_outcome_unknown&) {
      throw;
    } catch (...) {
      const std::exception_ptr failure = std::current_exception();
      if (conn.status() != transaction_status::idle) detail::rollback_quietly(conn, "ROLLBACK");
      if (attempt >= attempts || !conn.is_open() || !detail::retryable(failure)) throw;
      detail::retry_pause(options.retry, attempt);
    }
  }
}

template <class F>
decltype(auto) transaction::savepoint(F&& fn) {
  static_assert(std::is_invocable_v<F&, pgorm::transaction&>,
                "pgorm: a transaction function takes pgorm::transaction&");
  using R = std::invoke_result_t<F&, pgorm::transaction&>;
  const std::string name = detail::savepoint_name(depth_ + 1);
  conn_->exec("SAVEPOINT " + name);
  pgorm::transaction inner(*conn_, depth_ + 1);
  try {
    if constexpr (std::is_void_v<R>) {
      fn(inner);
      conn_->exec("RELEASE SAVEPOINT " + name);
    } else {
      R out = fn(inner);
      conn_->exec("RELEASE SAVEPOINT " + name);
      return out;
    }
  } catch (...) {
    detail::rollback_quietly(*conn_, "ROLLBACK TO SAVEPOINT " + name);
    detail::rollback_quietly(*conn_, "RELEASE SAVEPOINT " + name);
    throw;
  }
}

template <class F>
decltype(auto) connection::transaction(F&& fn) {
  return run_transaction(*this, std::forward<F>(fn), transaction_options{});
}

template <class F>
decltype(auto) connection::transaction(F&& fn, const transaction_options& options) {
  return run_transaction(*this, std::forward<F>(fn), options);
}

}  // namespace pgorm
