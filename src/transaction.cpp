// SPDX-License-Identifier: MIT
#include "pgorm/transaction.hpp"

#include <random>
#include <thread>

#include <fmt/format.h>

#include "canceled_error.hpp"
#include "command.hpp"
#include "exception_text.hpp"

namespace pgorm::detail {

namespace {

std::string_view in_progress(const connection& conn) {
  if (connection_access::transaction_scoped(conn)) return "a pgorm::transaction is running on it";
  switch (conn.status()) {
    case transaction_status::in_transaction:
      return "its session is inside a transaction block";
    case transaction_status::in_error:
      return "its session is inside a failed transaction block";
    case transaction_status::active:
      return "a statement is in progress on it";
    case transaction_status::idle:
    case transaction_status::unknown:  // closed or broken: BEGIN reports connection_error
      break;
  }
  return {};
}

// query_canceled for a transaction whose timeout ran out before `before` could be sent (the
// statement that was running when it did is cancelled by the connection's deadline instead).
[[noreturn]] void throw_spent(const deadline& limit, std::string_view before,
                              std::string_view cause = {}) {
  throw canceled_error(
      fmt::format("the transaction's timeout of {} ms ran out before {}", limit.budget().count(),
                  before),
      {}, false,
      cause.empty() ? std::string() : "the attempt before failed: " + std::string(cause));
}

}  // namespace

std::chrono::milliseconds statement_timeout(const deadline& limit, std::chrono::milliseconds own,
                                            std::string_view before) {
  if (!limit.bounded()) return own;
  if (limit.passed()) throw_spent(limit, before);
  const std::chrono::milliseconds left = limit.as_timeout();
  return own.count() > 0 && own < left ? own : left;
}

std::string_view transaction_in_progress(const connection& conn) { return in_progress(conn); }

// A flag on the connection, not a process-wide registry: a connection is used by one thread at
// a time, so marking it needs no lock (the registry's mutex was taken twice per transaction by
// every thread of the process).
transaction_scope::transaction_scope(const connection& conn) : conn_(&conn) {
  const std::string_view why = in_progress(conn);
  if (!why.empty()) {
    throw usage_error(
        fmt::format("pgorm: transaction() was called on a connection that is already in a "
                    "transaction ({}); PostgreSQL does not nest BEGIN, and the inner COMMIT would "
                    "commit the outer transaction's work early. Nest with tx.savepoint(...) "
                    "instead; the outer transaction was left as it was",
                    why));
  }
  connection_access::transaction_scoped(conn) = true;
}

transaction_scope::~transaction_scope() { connection_access::transaction_scoped(*conn_) = false; }

const char* begin_text(const transaction_options& options) noexcept {
  // Every combination of the options, in static storage: a transaction's BEGIN is not built
  // (nor allocated, past the short string's 15 characters) each time (bench --callgrind, TPC-B).
  // [isolation: none, read committed, repeatable read, serializable][read only][deferrable]
  static constexpr const char* texts[4][2][2] = {
      {{"BEGIN", "BEGIN DEFERRABLE"}, {"BEGIN READ ONLY", "BEGIN READ ONLY DEFERRABLE"}},
      {{"BEGIN ISOLATION LEVEL READ COMMITTED", "BEGIN ISOLATION LEVEL READ COMMITTED DEFERRABLE"},
       {"BEGIN ISOLATION LEVEL READ COMMITTED READ ONLY",
        "BEGIN ISOLATION LEVEL READ COMMITTED READ ONLY DEFERRABLE"}},
      {{"BEGIN ISOLATION LEVEL REPEATABLE READ",
        "BEGIN ISOLATION LEVEL REPEATABLE READ DEFERRABLE"},
       {"BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
        "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY DEFERRABLE"}},
      {{"BEGIN ISOLATION LEVEL SERIALIZABLE", "BEGIN ISOLATION LEVEL SERIALIZABLE DEFERRABLE"},
       {"BEGIN ISOLATION LEVEL SERIALIZABLE READ ONLY",
        "BEGIN ISOLATION LEVEL SERIALIZABLE READ ONLY DEFERRABLE"}},
  };
  std::size_t level = 0;
  if (options.isolation) {
    switch (*options.isolation) {
      case isolation_level::read_committed:
        level = 1;
        break;
      case isolation_level::repeatable_read:
        level = 2;
        break;
      case isolation_level::serializable:
        level = 3;
        break;
    }
  }
  return texts[level][options.read_only ? 1 : 0][options.deferrable ? 1 : 0];
}

// BEGIN and COMMIT are pgorm's own texts: sent as they are (connection::exec_own), without
// the NUL checks and the copy a caller's SQL needs (bench --callgrind, TPC-B).
void begin(connection& conn, const char* statement, const deadline& limit) {
  (void)connection_access::exec_own(conn, statement, statement_timeout(limit, {}, "BEGIN"));
}

void commit(connection& conn, const deadline& limit) {
  // Before anything is sent: a spent budget is a definite failure (the caller rolls back).
  const std::chrono::milliseconds timeout = statement_timeout(limit, {}, "COMMIT");
  result res;
  try {
    // A COMMIT cancelled at the deadline answers 57014 and is rolled back; one the server could
    // not be made to answer in time closes the connection: commit_outcome_unknown below.
    res = connection_access::exec_own(conn, "COMMIT", timeout);
  } catch (...) {
    std::rethrow_exception(commit_failure(std::current_exception(), conn.is_open()));
  }
  check_commit_tag(res.command_tag());
}

std::exception_ptr commit_failure(const std::exception_ptr& failure, bool open) {
  try {
    std::rethrow_exception(failure);
  } catch (const commit_outcome_unknown&) {
    return failure;
  } catch (const sql_error& e) {
    // The server refused the COMMIT (e.g. 40001 under SERIALIZABLE, a deferred constraint):
    // the transaction is rolled back, and the typed error says why. But an error that ends the
    // session (FATAL 57P01 from pg_terminate_backend, a crash, class 08) says nothing about the
    // commit: a backend terminated while COMMIT waited for a synchronous standby has committed
    // locally already. So is a refusal after which the connection is gone.
    if (!e.poisons_connection() && open) return failure;
    return std::make_exception_ptr(commit_outcome_unknown(
        fmt::format("pgorm: the session ended during COMMIT, so whether the transaction was "
                    "committed is unknown; check before retrying ({})",
                    e.what())));
  } catch (const connection_error& e) {
    return std::make_exception_ptr(commit_outcome_unknown(
        fmt::format("pgorm: the connection was lost during COMMIT, so whether the transaction "
                    "was committed is unknown; check before retrying ({})",
                    e.what())));
  } catch (...) {
    return failure;
  }
}

void check_commit_tag(std::string_view tag) {
  // COMMIT of a transaction that had a failed statement answers ROLLBACK instead of an error
  // (PostgreSQL docs, COMMIT): an error was caught inside the transaction function.
  if (tag == "ROLLBACK") {
    throw usage_error(
        "pgorm: the transaction was rolled back, not committed: a statement in it failed and "
        "the error was caught inside the transaction function; use tx.savepoint(...) to recover "
        "from an error inside a transaction");
  }
}

void rollback_quietly(connection& conn, std::string_view statement) noexcept {
  if (!conn.is_open()) return;  // a closed session has rolled back on the server
  try {
    conn.exec(statement, rollback_timeout);
    return;
  } catch (const sql_error& e) {
    // The server answered (e.g. 3B001: the function released the savepoint itself): the
    // session's state is known, and the original exception is what matters.
    if (e.sqlstate() != "57014" && !e.poisons_connection()) return;
  } catch (...) {  // NOLINT(bugprone-empty-catch): closed below; the original error matters
  }
  // Cancelled at rollback_timeout, or the link failed: the session's state is unknown. Closing
  // it ends the transaction on the server too.
  conn.close();
}

std::chrono::milliseconds retry_delay(const retry_policy& policy, int attempt,
                                      const deadline& limit, const std::exception_ptr& failure) {
  thread_local std::minstd_rand rng{std::random_device{}()};
  const int shift = std::min(attempt - 1, 20);
  const auto base = policy.base_delay * (1LL << shift);
  const auto capped = std::min<std::chrono::milliseconds>(
      std::chrono::duration_cast<std::chrono::milliseconds>(base), policy.max_delay);
  std::uniform_real_distribution<double> jitter(0.5, 1.5);
  const auto pause = std::chrono::milliseconds(static_cast<std::chrono::milliseconds::rep>(
      static_cast<double>(capped.count()) * jitter(rng)));
  if (limit.bounded() && steady_clock::now() + pause >= limit.at()) {
    throw_spent(limit, fmt::format("retry {}", attempt), what_of(failure));
  }
  return pause;
}

void retry_pause(const retry_policy& policy, int attempt, const deadline& limit,
                 const std::exception_ptr& failure) {
  std::this_thread::sleep_for(retry_delay(policy, attempt, limit, failure));
}

std::string savepoint_name(int depth) { return fmt::format("pgorm_sp_{}", depth); }

}  // namespace pgorm::detail
