// SPDX-License-Identifier: MIT
#pragma once

/// \file
/// pgorm::listener: a dedicated LISTEN connection that reconnects by itself, listens again on
/// its channels, and tells its user that it did (notifications sent while it had no
/// connection are lost: PostgreSQL keeps none for a session that is gone). See
/// docs/notifications.md.

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pgorm/connection.hpp"
#include "pgorm/export.hpp"
#include "pgorm/notification.hpp"

namespace pgorm {

/// How a listener connects and reconnects.
///
/// Example: `pgorm::listener l{url, {.reconnect_backoff_max = std::chrono::seconds(2)}};`
struct listener_options {
  /// Options of the listener's connection (connect_timeout bounds each attempt, query_timeout
  /// each LISTEN; events receives its statements and server notices).
  connect_options connection{};
  /// Delay before the second attempt after a connection is lost (the first is made at once);
  /// doubled after each failed attempt, up to reconnect_backoff_max.
  std::chrono::milliseconds reconnect_backoff{100};
  std::chrono::milliseconds reconnect_backoff_max{std::chrono::seconds(5)};
  /// A connected listener that has heard nothing for this long checks its connection with a
  /// round trip (connection::ping) during its next wait() of at least 1 s, so that a peer that
  /// vanished without closing the socket is noticed (TCP keepalives notice it too, later).
  /// Zero: never.
  std::chrono::milliseconds health_check_interval{std::chrono::seconds(30)};
};

/// What listener::wait() returns: a notification, or the news that the listener reconnected.
struct listener_event {
  enum class kind {
    /// `notification` holds one notification.
    notification,
    /// The connection had been lost; a new one is open and LISTENs on every channel again.
    /// Notifications sent in between are lost: resynchronize (e.g. re-read the table the
    /// notifications are about) before relying on them again.
    reconnected,
  };
  kind what = kind::notification;
  /// The notification (kind::notification); empty otherwise.
  pgorm::notification notification{};
  /// kind::reconnected: from noticing the loss to listening again.
  std::chrono::milliseconds gap{0};
  /// kind::reconnected: why the previous connection was lost (safe to log).
  std::string reason{};

  [[nodiscard]] bool is_notification() const noexcept { return what == kind::notification; }
  [[nodiscard]] bool is_reconnected() const noexcept { return what == kind::reconnected; }
};

/// A connection of its own that LISTENs on a set of channels and survives losing it: wait()
/// notices the loss (the server closed the session, a restart, a failed health check),
/// reconnects with exponential backoff, issues LISTEN for every channel again and returns a
/// kind::reconnected event before any later notification. Every wait is bounded by its
/// timeout, connection attempts included.
///
/// Thread safety: one thread at a time, except interrupt(), which any thread may call. Movable
/// (not while another thread may call interrupt()).
///
/// Example:
/// ```
/// pgorm::listener jobs{url};
/// jobs.listen("jobs");
/// for (;;) {
///   auto e = jobs.wait(std::chrono::seconds(10));
///   if (!e) continue;                      // nothing within 10 s
///   if (e->is_reconnected()) rescan();     // some notifications may have been missed
///   else run(e->notification.payload);
/// }
/// ```
class PGORM_API listener {
 public:
  /// Connects (throws connection_error when it cannot: a wrong URL or password should not turn
  /// into silent retries); channels are added with listen(). Throws pooler_unsupported when
  /// options.connection.pooler is a transaction mode (pooler_mode::transaction or
  /// transaction_prepared): LISTEN needs a session of its own.
  explicit listener(std::string_view conninfo, listener_options options = {});
  listener(listener&& other) noexcept;
  listener& operator=(listener&& other) noexcept;
  listener(const listener&) = delete;
  listener& operator=(const listener&) = delete;
  /// Closes the connection (never waits on the network).
  ~listener();

  /// Adds `channel` (quoted as an identifier, like connection::listen) and LISTENs on it now
  /// when connected; when not, or when the connection is lost on the way, at the next
  /// reconnection. Throws usage_error for a name that cannot be a channel, sql_error when the
  /// server refuses LISTEN (e.g. a standby). Listening twice on a channel is one listen.
  ///
  /// Example: `l.listen("Order Events");  // exactly that name, case and space included`
  void listen(std::string_view channel);
  /// Removes `channel` and UNLISTENs it when connected. Notifications for it that arrived
  /// already may still be returned by wait().
  void unlisten(std::string_view channel);
  /// The channels listened on, in the order they were added.
  [[nodiscard]] const std::vector<std::string>& channels() const noexcept;

  /// The next event within `timeout`: a queued or arriving notification, or, after the
  /// connection was lost and re-established within the wait, a kind::reconnected event.
  /// std::nullopt when nothing happened in time (also while the server stays unreachable: see
  /// connected() and last_error()), or when interrupt() was called. A zero timeout takes only
  /// what has arrived (and makes no connection attempt that could not finish in time). At
  /// most 24 h.
  ///
  /// Example: `if (auto e = l.wait(std::chrono::seconds(1)); e && e->is_notification()) ...`
  [[nodiscard]] std::optional<listener_event> wait(std::chrono::milliseconds timeout);
  /// wait() until `deadline`.
  [[nodiscard]] std::optional<listener_event> wait(std::chrono::steady_clock::time_point deadline);

  /// Makes the wait in progress on another thread (or the next one, when none is) return
  /// std::nullopt at once, e.g. to shut a listening thread down. Thread-safe; never throws.
  void interrupt() noexcept;

  /// True while the listener has an open connection (as far as it knows: a loss is noticed in
  /// wait()).
  [[nodiscard]] bool connected() const noexcept;
  /// How many times the listener has reconnected.
  [[nodiscard]] std::uint64_t reconnects() const noexcept;
  /// Why the last connection was lost or the last attempt failed ("" when never); safe to log.
  [[nodiscard]] const std::string& last_error() const noexcept;
  /// The backend pid of the current connection (what senders see as the listener; tests
  /// terminate it); throws connection_error when not connected.
  [[nodiscard]] int backend_pid() const;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace pgorm
