// SPDX-License-Identifier: MIT
#include "pgorm/observer.hpp"

#include <cstdio>

#include <fmt/format.h>

#include "libpq_util.hpp"
#include "pgorm/detail/sql_redaction.hpp"
#include "pgorm/detail/sql_scanner.hpp"

namespace pgorm {

namespace detail {

namespace {

using sql::token;
using sql::token_kind;

// The next token that is not white space or a comment; false at the end.
bool next_solid(sql::scanner& scanner, token& t) noexcept {
  while (scanner.next(t)) {
    if (!t.is_blank()) return true;
  }
  return false;
}

}  // namespace

std::string_view operation_of(std::string_view sql, char (&buffer)[16]) noexcept {
  sql::scanner scanner(sql);
  token t;
  while (next_solid(scanner, t) && t.kind == token_kind::open_paren) {
  }
  if (t.kind != token_kind::word) return {buffer, 0};
  std::size_t n = 0;
  for (const char c : t.text(sql)) {
    const bool letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    if (!letter || n == sizeof buffer) break;
    buffer[n++] = c >= 'a' ? static_cast<char>(c - 'a' + 'A') : c;
  }
  return {buffer, n};
}

std::string_view table_of(std::string_view sql) noexcept {
  char buffer[16];
  const std::string_view op = operation_of(sql, buffer);
  std::string_view keyword;
  if (op == "SELECT" || op == "DELETE") {
    keyword = "from";
  } else if (op == "INSERT") {
    keyword = "into";
  } else if (op == "UPDATE") {
    keyword = "update";
  } else {
    return {};
  }
  // The statement's own keyword is at parenthesis depth 0 (not in a subquery); quotes and
  // comments are single tokens, so a keyword inside them is never seen.
  sql::scanner scanner(sql);
  token t;
  std::size_t depth = 0;
  while (next_solid(scanner, t)) {
    if (t.kind == token_kind::open_paren) ++depth;
    if (t.kind == token_kind::close_paren && depth > 0) --depth;
    if (depth != 0 || t.kind != token_kind::word || !sql::equals_word(t.text(sql), keyword)) {
      continue;
    }
    // The (possibly schema-qualified, possibly quoted) name after it: name [. name ...].
    std::size_t begin = 0;
    std::size_t end = 0;
    bool want_name = true;
    while (next_solid(scanner, t)) {
      const bool name = t.kind == token_kind::word || t.kind == token_kind::quoted_identifier;
      const bool dot = t.kind == token_kind::other && t.text(sql) == ".";
      if (want_name ? !name : !dot) break;
      if (name) {
        if (end == 0) begin = t.begin;
        end = t.end;
      }
      want_name = !want_name;
    }
    return end == 0 ? std::string_view{} : sql.substr(begin, end - begin);
  }
  return {};
}

}  // namespace detail

namespace {

std::string_view kind_name(pool_event_kind kind) {
  switch (kind) {
    case pool_event_kind::connect:
      return "connect";
    case pool_event_kind::connect_failed:
      return "connect_failed";
    case pool_event_kind::acquire:
      return "acquire";
    case pool_event_kind::release:
      return "release";
    case pool_event_kind::evict:
      return "evict";
    case pool_event_kind::timeout:
      return "timeout";
    case pool_event_kind::leak_suspected:
      return "leak_suspected";
  }
  return "?";
}

}  // namespace

void stderr_logger::on_query_end(const query_event& query, const query_outcome& outcome) {
  if (outcome.duration < slow_ && outcome.error.empty()) return;
  const auto us = std::chrono::duration_cast<std::chrono::microseconds>(outcome.duration).count();
  std::string line;
  if (outcome.error.empty()) {
    line = fmt::format("pgorm: {} {} us rows={} params={} sql={}\n", query.operation, us,
                       outcome.rows, query.param_count, query.sql);
  } else {
    line = fmt::format("pgorm: {} {} us failed sqlstate={} error={} sql={}\n", query.operation, us,
                       outcome.sqlstate, outcome.error, query.sql);
  }
  std::fputs(line.c_str(), stderr);
}

void stderr_logger::on_pool_event(const pool_event& event) {
  const auto us = std::chrono::duration_cast<std::chrono::microseconds>(event.wait).count();
  const std::string line =
      fmt::format("pgorm: pool {} wait={} us in_use={} idle={} waiting={}{}{}\n",
                  kind_name(event.kind), us, event.in_use, event.idle, event.waiting,
                  event.detail.empty() ? "" : " detail=", event.detail);
  std::fputs(line.c_str(), stderr);
}

void stderr_logger::on_notice(const notice_event& notice) {
  const std::string line =
      fmt::format("pgorm: {} {} {}{}{}{}{}\n", notice.severity, notice.sqlstate, notice.message,
                  notice.detail.empty() ? "" : " detail=", notice.detail,
                  notice.hint.empty() ? "" : " hint=", notice.hint);
  std::fputs(line.c_str(), stderr);
}

void stderr_logger::on_replica_event(const replica_event& event) {
  if (event.kind == replica_event_kind::lag) return;  // one per second per replica: too many
  const std::string_view kind = event.kind == replica_event_kind::up     ? "up"
                                : event.kind == replica_event_kind::down ? "down"
                                                                         : "lag";
  const std::string line = fmt::format("pgorm: replica {} {} lag_bytes={} lag={} ms{}{}\n", kind,
                                       event.server, event.lag_bytes, event.lag.count(),
                                       event.detail.empty() ? "" : " detail=", event.detail);
  std::fputs(line.c_str(), stderr);
}

}  // namespace pgorm

namespace pgorm::detail {

statement_report::statement_report(const connection& conn, std::string_view sql,
                                   const param_pack& params)
    : statement_report(conn.events(), conn.description(), sql, params) {}

statement_report::statement_report(observer* obs, std::string_view server, std::string_view sql,
                                   const param_pack& params)
    : obs_(obs) {
  if (obs_ == nullptr) return;
  if (sql::may_hold_secret(sql)) {
    redacted_sql_ = sql::redact_secrets(sql);
    sql = redacted_sql_;
  }
  event_.sql = sql;
  event_.operation = operation_of(sql, operation_);
  event_.table = table_of(sql);
  event_.server = server;
  event_.param_count = params.size();
  // A builder's parameters are made into views only for an observer that asks for them.
  if (obs_->wants_parameters()) event_.params = params.views();
  start_ = std::chrono::steady_clock::now();
  try {
    obs_->on_query_start(event_);
  } catch (...) {  // NOLINT(bugprone-empty-catch): an observer must not break the statement
  }
}

statement_report::~statement_report() {
  if (!ended_) failed(nullptr);
}

void statement_report::succeeded(std::int64_t rows) noexcept {
  if (obs_ == nullptr || ended_) return;
  ended_ = true;
  query_outcome outcome;
  outcome.duration = std::chrono::steady_clock::now() - start_;
  outcome.rows = rows;
  try {
    obs_->on_query_end(event_, outcome);
  } catch (...) {  // NOLINT(bugprone-empty-catch)
  }
}

void statement_report::failed(const std::exception_ptr& error) noexcept {
  if (obs_ == nullptr || ended_) return;
  ended_ = true;
  query_outcome outcome;
  outcome.duration = std::chrono::steady_clock::now() - start_;
  std::string what = "pgorm: the statement did not complete";
  std::string state;
  if (error) {
    try {
      std::rethrow_exception(error);
    } catch (const sql_error& e) {
      state = e.sqlstate();
      what = e.what();
    } catch (const connection_error& e) {
      state = "08006";
      what = e.what();
    } catch (const std::exception& e) {
      what = e.what();
    } catch (...) {  // NOLINT(bugprone-empty-catch)
    }
  }
  outcome.sqlstate = state;
  outcome.error = what;
  try {
    obs_->on_query_end(event_, outcome);
  } catch (...) {  // NOLINT(bugprone-empty-catch)
  }
}

}  // namespace pgorm::detail
