// SPDX-License-Identifier: MIT
#include "pgorm/observer.hpp"

#include <cstdio>

#include <fmt/format.h>

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
