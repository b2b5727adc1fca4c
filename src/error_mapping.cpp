// SPDX-License-Identifier: MIT
#include <cstdlib>
#include <string>
#include <string_view>

#include <fmt/format.h>

#include "libpq_util.hpp"
#include "pgorm/detail/sql_redaction.hpp"

namespace pgorm::detail {
namespace {

std::string field(const PGresult* res, int code) {
  const char* value = PQresultErrorField(res, code);
  return value == nullptr ? std::string{} : std::string{value};
}

// Values the server quotes back ("invalid input syntax for type integer: \"abc\"") are
// replaced, so what() can go to logs without leaking parameter values.
std::string redact_values(std::string text, std::span<const param> params) {
  for (const param& p : params) {
    if (p.is_null() || p.bytes().empty()) continue;
    const std::string quoted = fmt::format("\"{}\"", p.bytes());
    std::size_t pos = 0;
    while ((pos = text.find(quoted, pos)) != std::string::npos) {
      text.replace(pos, quoted.size(), "\"<redacted>\"");
      pos += 12;
    }
  }
  return text;
}

template <class E>
[[noreturn]] void raise(const std::string& what, sql_error_fields&& fields) {
  throw E(what, std::move(fields));
}

}  // namespace

std::string trim_message(std::string_view message) {
  while (!message.empty() && (message.back() == '\n' || message.back() == ' ')) {
    message.remove_suffix(1);
  }
  return std::string(message);
}

void throw_nul_in_sql(std::string_view sql) {
  throw usage_error(fmt::format(
      "pgorm: the SQL text has a NUL byte at offset {}; libpq would silently cut the statement "
      "there, so it is refused (values belong in $n parameters)",
      sql.find('\0')));
}

void throw_connection_error(const PGconn* conn, std::string_view context,
                            const std::vector<std::string>& secrets) {
  const std::string message = trim_message(conn == nullptr ? "" : PQerrorMessage(conn));
  throw connection_error(scrub_secrets(fmt::format("pgorm: {}: {}", context, message), secrets));
}

void throw_result_error(const PGresult* res, const PGconn* conn, std::string_view sql,
                        std::span<const param> params, const std::vector<std::string>& secrets) {
  sql_error_fields f;
  f.sqlstate = field(res, PG_DIAG_SQLSTATE);
  const bool conn_ok = conn != nullptr && PQstatus(conn) == CONNECTION_OK;
  if (f.sqlstate.empty() || !conn_ok) {
    // No SQLSTATE means libpq itself failed (socket closed, server gone); a FATAL from the
    // server (57P01 after pg_terminate_backend) also leaves the connection dead.
    std::string message = trim_message(res != nullptr ? PQresultErrorMessage(res) : "");
    if (message.empty() && conn != nullptr) message = trim_message(PQerrorMessage(conn));
    std::string what =
        f.sqlstate.empty()
            ? fmt::format("pgorm: connection lost: {}", message)
            : fmt::format("pgorm: connection lost: {} (SQLSTATE {})",
                          redact_values(field(res, PG_DIAG_MESSAGE_PRIMARY), params), f.sqlstate);
    throw connection_error(scrub_secrets(std::move(what), secrets));
  }
  f.severity = field(res, PG_DIAG_SEVERITY_NONLOCALIZED);
  f.message = field(res, PG_DIAG_MESSAGE_PRIMARY);
  f.detail = field(res, PG_DIAG_MESSAGE_DETAIL);
  f.hint = field(res, PG_DIAG_MESSAGE_HINT);
  f.schema = field(res, PG_DIAG_SCHEMA_NAME);
  f.table = field(res, PG_DIAG_TABLE_NAME);
  f.column = field(res, PG_DIAG_COLUMN_NAME);
  f.constraint = field(res, PG_DIAG_CONSTRAINT_NAME);
  const std::string position = field(res, PG_DIAG_STATEMENT_POSITION);
  f.position = position.empty() ? 0 : std::atoi(position.c_str());
  // A secret written into the text (PASSWORD '...') is masked in statement(), and scrubbed
  // from whatever the server quoted back.
  std::vector<std::string> masked;
  f.statement = sql::redacted(sql, &f.position, &masked);
  if (!masked.empty()) {
    for (std::string* text : {&f.message, &f.detail, &f.hint}) {
      *text = scrub_secrets(std::move(*text), masked);
    }
    masked.insert(masked.end(), secrets.begin(), secrets.end());
  }
  const std::vector<std::string>& scrubbed = masked.empty() ? secrets : masked;
  f.connection_lost = false;

  std::string what = redact_values(f.message, params);
  std::string where;
  const auto add = [&](std::string_view label, const std::string& value) {
    if (!value.empty()) where += fmt::format(", {} \"{}\"", label, value);
  };
  add("table", f.schema.empty() || f.table.empty() ? f.table : f.schema + "." + f.table);
  add("column", f.column);
  add("constraint", f.constraint);
  what = scrub_secrets(fmt::format("{} (SQLSTATE {}{})", what, f.sqlstate, where), scrubbed);

  // PostgreSQL docs, Appendix A: the states applications branch on get their own type.
  const std::string& s = f.sqlstate;
  if (s == "23505") raise<unique_violation>(what, std::move(f));
  if (s == "23503") raise<foreign_key_violation>(what, std::move(f));
  if (s == "23502") raise<not_null_violation>(what, std::move(f));
  if (s == "23514") raise<check_violation>(what, std::move(f));
  if (s == "40001") raise<serialization_failure>(what, std::move(f));
  if (s == "40P01") raise<deadlock_detected>(what, std::move(f));
  if (s == "57014") raise<query_canceled>(what, std::move(f));
  raise<sql_error>(what, std::move(f));
}

}  // namespace pgorm::detail
