// SPDX-License-Identifier: MIT
#include "pgorm/observer.hpp"

#include <cstdio>

#include <fmt/format.h>

#include "libpq_util.hpp"

namespace pgorm {

namespace detail {

std::string_view operation_of(std::string_view sql, char (&buffer)[16]) noexcept {
  std::size_t i = 0;
  while (i < sql.size() &&
         (sql[i] == ' ' || sql[i] == '\n' || sql[i] == '\t' || sql[i] == '(' || sql[i] == '\r')) {
    ++i;
  }
  std::size_t n = 0;
  while (i < sql.size() && n < sizeof buffer) {
    const char c = sql[i++];
    const bool letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    if (!letter) break;
    buffer[n++] = c >= 'a' ? static_cast<char>(c - 'a' + 'A') : c;
  }
  return {buffer, n};
}

namespace {

bool keyword_at(std::string_view sql, std::size_t i, std::string_view word) noexcept {
  if (i + word.size() > sql.size()) return false;
  if (i > 0) {
    const char before = sql[i - 1];
    if (before != ' ' && before != '\n' && before != '\t' && before != '\r' && before != ')') {
      return false;
    }
  }
  for (std::size_t k = 0; k < word.size(); ++k) {
    char c = sql[i + k];
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
    if (c != word[k]) return false;
  }
  const std::size_t after = i + word.size();
  return after < sql.size() && (sql[after] == ' ' || sql[after] == '\n' || sql[after] == '\t');
}

// The identifier (possibly schema-qualified and quoted) starting at or after `i`.
std::string_view identifier_at(std::string_view sql, std::size_t i) noexcept {
  while (i < sql.size() && (sql[i] == ' ' || sql[i] == '\n' || sql[i] == '\t')) ++i;
  const std::size_t begin = i;
  while (i < sql.size()) {
    const char c = sql[i];
    if (c == '"') {
      const std::size_t close = sql.find('"', i + 1);
      if (close == std::string_view::npos) return {};
      i = close + 1;
      continue;
    }
    const bool ident = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                       c == '_' || c == '$' || c == '.';
    if (!ident) break;
    ++i;
  }
  return sql.substr(begin, i - begin);
}

}  // namespace

std::string_view table_of(std::string_view sql) noexcept {
  char buffer[16];
  const std::string_view op = operation_of(sql, buffer);
  std::string_view keyword;
  if (op == "SELECT" || op == "DELETE") {
    keyword = "FROM";
  } else if (op == "INSERT") {
    keyword = "INTO";
  } else if (op == "UPDATE") {
    keyword = "UPDATE";
  } else {
    return {};
  }
  // Skip quoted text and parenthesized subqueries: the statement's own keyword is at depth 0.
  int depth = 0;
  for (std::size_t i = 0; i < sql.size(); ++i) {
    const char c = sql[i];
    if (c == '\'' || c == '"') {
      const std::size_t close = sql.find(c, i + 1);
      if (close == std::string_view::npos) return {};
      i = close;
      continue;
    }
    if (c == '(') ++depth;
    if (c == ')') --depth;
    if (depth == 0 && keyword_at(sql, i, keyword)) return identifier_at(sql, i + keyword.size());
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

}  // namespace pgorm

namespace pgorm::detail {

statement_report::statement_report(const connection& conn, std::string_view sql,
                                   std::span<const param> params)
    : obs_(conn.events()) {
  if (obs_ == nullptr) return;
  event_.sql = sql;
  event_.operation = operation_of(sql, operation_);
  event_.table = table_of(sql);
  event_.server = conn.description();
  event_.param_count = params.size();
  if (obs_->wants_parameters()) event_.params = params;
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
