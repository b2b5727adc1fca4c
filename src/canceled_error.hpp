// query_canceled errors that pgorm raises itself: a deadline it enforced, a timeout spent.
#pragma once

#include <string>
#include <string_view>
#include <utility>

#include <fmt/format.h>

#include "pgorm/detail/sql_redaction.hpp"
#include "pgorm/error.hpp"

namespace pgorm::detail {

/// A query_canceled (SQLSTATE 57014, severity ERROR) for `sql` ("" when no one statement is
/// meant) whose message is `message`, worded as the server's would be. what() reads
/// "pgorm: <message> (<aside>) (SQLSTATE 57014)", the aside left out when empty, and says so
/// when `closed`: the server did not acknowledge the cancel in time and the connection was
/// closed (sql_error_fields::connection_lost).
inline query_canceled canceled_error(std::string message, std::string_view sql, bool closed,
                                     std::string_view aside = {}) {
  sql_error_fields f;
  f.sqlstate = "57014";
  f.severity = "ERROR";
  f.message = std::move(message);
  f.statement = sql::redacted(sql);
  f.connection_lost = closed;
  std::string what = "pgorm: " + f.message;
  if (!aside.empty()) what += fmt::format(" ({})", aside);
  what += " (SQLSTATE 57014)";
  if (closed) {
    what +=
        "; the server did not acknowledge the cancel request in time, so the connection was "
        "closed";
  }
  return query_canceled(what, std::move(f));
}

}  // namespace pgorm::detail
