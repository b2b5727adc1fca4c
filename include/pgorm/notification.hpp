// SPDX-License-Identifier: MIT
#pragma once

/// \file
/// LISTEN/NOTIFY: the notification a connection receives, and sending one from any executor.
/// Receiving is connection::listen() + connection::wait_for_notification(), or pgorm::listener
/// (pgorm/listener.hpp), which reconnects and listens again by itself. See
/// docs/notifications.md.

#include <cstddef>
#include <span>
#include <string>
#include <string_view>

#include "pgorm/executor.hpp"
#include "pgorm/export.hpp"
#include "pgorm/result.hpp"

namespace pgorm {

/// One notification, as a listening session receives it (NOTIFY, or pg_notify()).
///
/// Example: `if (auto n = conn.wait_for_notification(5s)) handle(n->channel, n->payload);`
struct notification {
  /// The channel, exactly as the sender named it (case and all).
  std::string channel;
  /// The payload; empty when the sender gave none.
  std::string payload;
  /// Process id of the sending session's backend (connection::backend_pid() on its side); the
  /// listener's own backend pid when a session notified itself.
  int sender_pid = 0;

  friend bool operator==(const notification&, const notification&) = default;
};

/// The longest channel name, in bytes: PostgreSQL truncates longer identifiers (NAMEDATALEN - 1),
/// so listen() and notify() refuse them instead (usage_error) rather than listen on a truncated
/// name that no sender uses.
inline constexpr std::size_t max_channel_length = 63;

/// The longest payload a server with the default 8 kB block size accepts, in bytes (its limit
/// is BLCKSZ - NAMEDATALEN - 128, exclusive). Longer payloads fail on the server with sql_error,
/// SQLSTATE 22023 ("payload string too long"); pgorm leaves the check to the server, whose
/// build decides the limit.
inline constexpr std::size_t max_notification_payload = 7999;

namespace detail {

/// Throws usage_error naming `channel` and `what` (e.g. "listen") when it cannot be a channel
/// name: empty, longer than max_channel_length bytes, or holding a NUL byte.
PGORM_API void check_channel(std::string_view channel, std::string_view what);

/// `channel` as a quoted SQL identifier: "name" with every " doubled. Checked with
/// check_channel() first.
PGORM_API std::string quote_channel(std::string_view channel, std::string_view what);

/// `LISTEN "channel"`, `UNLISTEN "channel"`.
PGORM_API std::string listen_sql(std::string_view channel);
PGORM_API std::string unlisten_sql(std::string_view channel);

/// The statement notify() runs: the channel and the payload travel as parameters.
inline constexpr std::string_view notify_sql = "select pg_notify($1, $2)";

}  // namespace detail

/// Sends a notification on `channel` with `payload`, through `db`: a connection, a pool, a
/// transaction or any other executor. Runs `select pg_notify($1, $2)` with both as parameters,
/// so neither is ever spliced into SQL. Inside a transaction the notification is sent when the
/// transaction commits (and never when it rolls back); PostgreSQL delivers each distinct
/// (channel, payload) of one transaction once. Through a pool it does not reset the session
/// (pg_notify changes no session state).
///
/// Throws usage_error for a channel name that cannot be one (empty, over max_channel_length
/// bytes, a NUL byte), conversion_error for a payload with a NUL byte (naming $2), sql_error
/// with SQLSTATE 22023 for a payload over the server's limit (max_notification_payload).
///
/// Example: `pgorm::notify(db, "jobs", R"({"id": 42})");`
template <executor E>
void notify(E& db, std::string_view channel, std::string_view payload = {}) {
  detail::check_channel(channel, "notify");
  constexpr oid text_oid = 25;
  const param params[2] = {param::text(channel, text_oid), param::text(payload, text_oid)};
  const std::span<const param> p(params, 2);
  if constexpr (shape_executor<E>) {
    // pgorm's own statement: a pool need not reset the session after it.
    static constexpr statement_shape shape{detail::notify_sql, statement_key(detail::notify_sql),
                                           nullptr, sql_origin::builder, sql_effect::writes};
    (void)db.exec(shape, p, data_format::text);
  } else {
    (void)db.exec(detail::notify_sql, p, data_format::text);
  }
}

}  // namespace pgorm
