// SPDX-License-Identifier: MIT
// LISTEN/NOTIFY on a connection, and server notices to the observer (docs/notifications.md).
//
// Notifications are read lazily: libpq parses every NotificationResponse it meets while
// reading any result (or in PQconsumeInput) into a queue on the PGconn, and nothing but
// PQnotifies() takes them out. So a notification that arrives while other statements run is
// never lost; wait_for_notification() returns the queued ones first and only then waits on the
// socket. The queue lives as long as the connection: closing it drops what was not taken.
#include "pgorm/notification.hpp"

#include <algorithm>
#include <chrono>
#include <optional>
#include <string>

#include <fmt/format.h>
#include <libpq-fe.h>

#include "command.hpp"
#include "engine.hpp"
#include "libpq_util.hpp"
#include "notice_sink.hpp"
#include "notification_wait.hpp"
#include "pgorm/connection.hpp"
#include "pgorm/error.hpp"

namespace pgorm {

namespace detail {

void check_channel(std::string_view channel, std::string_view what) {
  if (channel.empty()) {
    throw usage_error(fmt::format("pgorm: {}: the channel name is empty", what));
  }
  if (channel.find('\0') != std::string_view::npos) {
    throw usage_error(fmt::format("pgorm: {}: the channel name has a NUL byte", what));
  }
  if (channel.size() > max_channel_length) {
    throw usage_error(fmt::format(
        "pgorm: {}: the channel name \"{}...\" is {} bytes; PostgreSQL keeps at most {} (it would "
        "listen on a truncated name)",
        what, channel.substr(0, 20), channel.size(), max_channel_length));
  }
}

std::string quote_channel(std::string_view channel, std::string_view what) {
  check_channel(channel, what);
  std::string out;
  out.reserve(channel.size() + 2);
  out += '"';
  for (const char c : channel) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
  return out;
}

std::string listen_sql(std::string_view channel) {
  return "LISTEN " + quote_channel(channel, "listen");
}

std::string unlisten_sql(std::string_view channel) {
  return "UNLISTEN " + quote_channel(channel, "unlisten");
}

namespace {

std::optional<notification> take(PGconn* conn) {
  PGnotify* n = PQnotifies(conn);
  if (n == nullptr) return std::nullopt;
  struct freer {
    PGnotify* n;
    ~freer() { PQfreemem(n); }
  } guard{n};
  notification out;
  out.channel = n->relname != nullptr ? n->relname : "";
  out.payload = n->extra != nullptr ? n->extra : "";
  out.sender_pid = n->be_pid;
  return out;
}

}  // namespace

std::optional<notification> await_notification(connection& conn,
                                               std::chrono::steady_clock::time_point until,
                                               int interrupt_fd, bool& interrupted) {
  interrupted = false;
  PGconn* pq = connection_access::handle(conn);
  if (pq == nullptr) {
    throw connection_error("pgorm: the connection is closed (" + conn.description() + ")");
  }
  const auto lost = [&]() {
    if (auto n = take(pq)) return n;  // what arrived before the end is handed out first
    // The server usually says why it closes an idle session (57P01 at a shutdown or
    // pg_terminate_backend); libpq passes that to the notice receiver, not to the error.
    const std::string words = take_last_words();
    if (!words.empty()) {
      throw connection_error(
          scrub_secrets(fmt::format("pgorm: the server closed the connection ({}) while waiting "
                                    "for a notification: {}",
                                    conn.description(), words),
                        connection_access::secrets(conn)));
    }
    throw_connection_error(pq, "waiting for a notification failed",
                           connection_access::secrets(conn));
  };
  // PQnotifies() parses what libpq has buffered already, without reading the socket.
  if (auto n = take(pq)) return n;
  clear_last_words();
  // What the socket holds right now (non-blocking; 0 only when the connection is lost).
  if (PQconsumeInput(pq) == 0) return lost();
  if (auto n = take(pq)) return n;
  for (;;) {
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(until - steady_clock::now());
    if (left.count() <= 0) return std::nullopt;
    const deadline d = deadline::after(left);
    io_watch watch{PQsocket(pq), io_wait::read};
    if (watch.fd < 0) return lost();
    const wait_status status = wait_io(std::span<io_watch>(&watch, 1), d, interrupt_fd);
    if (status == wait_status::expired) return std::nullopt;
    if (status == wait_status::interrupted) {
      interrupted = true;
      return std::nullopt;
    }
    if (PQconsumeInput(pq) == 0) return lost();
    if (auto n = take(pq)) return n;
  }
}

}  // namespace detail

void connection::listen(std::string_view channel) { (void)exec(detail::listen_sql(channel)); }

void connection::unlisten(std::string_view channel) { (void)exec(detail::unlisten_sql(channel)); }

void connection::unlisten_all() { (void)exec("UNLISTEN *"); }

void connection::notify(std::string_view channel, std::string_view payload) {
  pgorm::notify(*this, channel, payload);
}

std::optional<notification> connection::wait_for_notification(std::chrono::milliseconds timeout) {
  // Anything past a day is taken for "forever" (pgorm::no_timeout): no wait is unbounded.
  if (timeout > std::chrono::hours(24)) {
    throw usage_error(
        "pgorm: wait_for_notification() takes a timeout of at most 24 h (pgorm::no_timeout is "
        "not one); call it in a loop to wait longer");
  }
  return wait_for_notification(std::chrono::steady_clock::now() +
                               std::max(timeout, std::chrono::milliseconds(0)));
}

std::optional<notification> connection::wait_for_notification(
    std::chrono::steady_clock::time_point deadline) {
  (void)checked_handle();
  if (deadline - std::chrono::steady_clock::now() > std::chrono::hours(24)) {
    throw usage_error(
        "pgorm: wait_for_notification() takes a deadline at most 24 h away; call it in a loop "
        "to wait longer");
  }
  bool interrupted = false;
  return detail::await_notification(*this, deadline, -1, interrupted);
}

}  // namespace pgorm
