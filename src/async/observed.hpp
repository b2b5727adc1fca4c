// SPDX-License-Identifier: MIT
// Private to src/async: a statement of the async connection as its observer sees it
// (observer::on_query_start / on_query_end), through the synchronous connection's
// statement_report. Made only when the connection has an observer. The connection settles it
// under its lock when the outcome is known, and reports it once the lock is released (an
// observer never runs under the connection's lock, so it may call the connection).
#pragma once

#include <cstdint>
#include <exception>
#include <span>
#include <string_view>
#include <utility>

#include "../libpq_util.hpp"
#include "pgorm/async/connection.hpp"

namespace pgorm::async::detail {

class observed_statement {
 public:
  /// Calls obs->on_query_start() (obs is not null) for `sql` with `params`, sent to `server`.
  observed_statement(observer* obs, std::string_view server, std::string_view sql,
                     std::span<const param> params)
      : copy_(sql, params, data_format::text, std::chrono::milliseconds{0}),
        report_(obs, server, copy_.sql(), copy_.params()) {}
  observed_statement(const observed_statement&) = delete;
  observed_statement& operator=(const observed_statement&) = delete;
  ~observed_statement() = default;

  /// Its outcome: `error`, else success with `rows` rows returned or affected.
  void settle(std::exception_ptr error, std::int64_t rows) noexcept {
    error_ = std::move(error);
    rows_ = rows;
  }
  /// Calls on_query_end() with the settled outcome (never under the connection's lock).
  void report() noexcept {
    if (error_) {
      report_.failed(error_);
    } else {
      report_.succeeded(rows_);
    }
  }

 private:
  // The text and parameters, owned: the statement's own may be gone when it is reported.
  request copy_;
  pgorm::detail::statement_report report_;
  std::exception_ptr error_;
  std::int64_t rows_ = 0;
};

}  // namespace pgorm::async::detail
