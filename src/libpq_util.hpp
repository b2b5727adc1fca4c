// SPDX-License-Identifier: MIT
// Private to src/: helpers shared by everything that talks to libpq.
#pragma once

#include <chrono>
#include <exception>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <libpq-fe.h>

#include "pgorm/connection.hpp"
#include "pgorm/observer.hpp"
#include "pgorm/param_pack.hpp"

namespace pgorm::detail {

/// Maps a failed PGresult to its exception and throws it: the one place where SQLSTATEs
/// become exception types. A result without SQLSTATE, or a connection that is no longer OK
/// after the error, becomes connection_error. `params` only serve to redact values the
/// server quoted back; they are never copied into the exception.
[[noreturn]] void throw_result_error(const PGresult* res, const PGconn* conn, std::string_view sql,
                                     std::span<const param> params,
                                     const std::vector<std::string>& secrets);

/// Throws connection_error with libpq's current error message for `conn`, prefixed by
/// `context`, with the secrets scrubbed.
[[noreturn]] void throw_connection_error(const PGconn* conn, std::string_view context,
                                         const std::vector<std::string>& secrets);

/// The transaction status of `conn` as pgorm names it (unknown for no connection).
inline transaction_status transaction_status_of(const PGconn* conn) noexcept {
  if (conn == nullptr) return transaction_status::unknown;
  switch (PQtransactionStatus(conn)) {
    case PQTRANS_IDLE:
      return transaction_status::idle;
    case PQTRANS_ACTIVE:
      return transaction_status::active;
    case PQTRANS_INTRANS:
      return transaction_status::in_transaction;
    case PQTRANS_INERROR:
      return transaction_status::in_error;
    case PQTRANS_UNKNOWN:
      break;
  }
  return transaction_status::unknown;
}

/// Throws usage_error: SQL text with a NUL byte would be cut short by libpq.
[[noreturn]] void throw_nul_in_sql(std::string_view sql);

/// Reports a statement that a connection runs to its observer (its text with secrets masked,
/// sql::redact_secrets()):
/// on_query_start at construction, on_query_end from succeeded() or failed(), or, when neither
/// was called, from the destructor as a failure without SQLSTATE. Does nothing without an
/// observer.
class statement_report {
 public:
  statement_report(const connection& conn, std::string_view sql, const param_pack& params);
  /// The same for a statement of another kind of connection (the async one): `obs` (null:
  /// nothing is reported) and its description `server`. The views must outlive the report.
  statement_report(observer* obs, std::string_view server, std::string_view sql,
                   const param_pack& params);
  statement_report(const statement_report&) = delete;
  statement_report& operator=(const statement_report&) = delete;
  statement_report(statement_report&&) = delete;
  statement_report& operator=(statement_report&&) = delete;
  ~statement_report();
  void succeeded(std::int64_t rows) noexcept;
  void failed(const std::exception_ptr& error) noexcept;

 private:
  observer* obs_;
  query_event event_;
  std::string redacted_sql_;  // the text the event shows, when a secret had to be masked
  char operation_[16]{};
  std::chrono::steady_clock::time_point start_;
  bool ended_ = false;
};

/// Trims the trailing newline libpq puts at the end of its messages.
std::string trim_message(std::string_view message);

}  // namespace pgorm::detail
