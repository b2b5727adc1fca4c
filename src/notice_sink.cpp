// SPDX-License-Identifier: MIT
// Server notices (RAISE NOTICE, WARNING, "drop cascades to ...", an idle session's FATAL) to the
// observer, instead of libpq's default of printing them on stderr.
#include "notice_sink.hpp"

#include <cstring>
#include <string>
#include <utility>

#include <fmt/format.h>

#include "libpq_util.hpp"
#include "pgorm/connection.hpp"

namespace pgorm::detail {

namespace {

thread_local std::string last_words;  // NOLINT(cppcoreguidelines-avoid-non-const-global-variables)

// libpq's notice receiver: the server's NOTICE/WARNING/... messages, to the observer.
void pass_notice(void* arg, const PGresult* res) noexcept {
  const auto* sink = static_cast<const notice_sink*>(arg);
  if (sink == nullptr || res == nullptr) return;
  try {
    const char* level = PQresultErrorField(res, PG_DIAG_SEVERITY_NONLOCALIZED);
    if (level != nullptr &&
        (std::strcmp(level, "FATAL") == 0 || std::strcmp(level, "PANIC") == 0)) {
      const char* state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
      const char* text = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
      last_words = scrub_secrets(fmt::format("{} {} {}", level, state == nullptr ? "" : state,
                                             text == nullptr ? "" : text),
                                 sink->secrets);
    }
  } catch (...) {  // NOLINT(bugprone-empty-catch): nothing may cross libpq's C frames
  }
  if (!sink->events) return;
  try {
    const auto field = [&](int code) {
      const char* v = PQresultErrorField(res, code);
      return v == nullptr ? std::string() : scrub_secrets(v, sink->secrets);
    };
    std::string severity = field(PG_DIAG_SEVERITY_NONLOCALIZED);
    if (severity.empty()) severity = field(PG_DIAG_SEVERITY);
    const std::string sqlstate = field(PG_DIAG_SQLSTATE);
    std::string message = field(PG_DIAG_MESSAGE_PRIMARY);
    if (message.empty()) {
      message = scrub_secrets(trim_message(PQresultErrorMessage(res)), sink->secrets);
    }
    const std::string detail = field(PG_DIAG_MESSAGE_DETAIL);
    const std::string hint = field(PG_DIAG_MESSAGE_HINT);
    notice_event e;
    e.severity = severity;
    e.sqlstate = sqlstate;
    e.message = message;
    e.detail = detail;
    e.hint = hint;
    e.server = sink->server;
    sink->events->on_notice(e);
  } catch (...) {  // NOLINT(bugprone-empty-catch): nothing may cross libpq's C frames
  }
}

}  // namespace

void clear_last_words() noexcept { last_words.clear(); }

std::string take_last_words() { return std::exchange(last_words, {}); }

std::shared_ptr<notice_sink> receive_notices(PGconn* conn, std::shared_ptr<observer> events,
                                             std::string server, std::vector<std::string> secrets) {
  auto sink = std::make_shared<notice_sink>();
  sink->events = std::move(events);
  sink->server = std::move(server);
  sink->secrets = std::move(secrets);
  PQsetNoticeReceiver(conn, pass_notice, sink.get());
  return sink;
}

}  // namespace pgorm::detail
