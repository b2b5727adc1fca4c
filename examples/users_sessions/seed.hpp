// SPDX-License-Identifier: MIT
#pragma once

// The seed app's settings, shared by the examples that do its job: users_sessions (the
// synchronous demo) and auth_service (the HTTP service on the async API).

#include <chrono>

#include <pgorm/pgorm.hpp>

namespace seed {

using namespace std::chrono_literals;

// Better Auth's session rules: a session lasts expiresIn (7 days), and a session last extended
// more than updateAge (1 day) ago is extended by expiresIn again when it is used.
inline constexpr auto session_lifetime = std::chrono::days(7);    // Better Auth's expiresIn
inline constexpr auto session_update_age = std::chrono::days(1);  // Better Auth's updateAge

// The columns are `timestamp` (without time zone), as in Better Auth's schema: they hold UTC.
inline pgorm::timestamp utc_now() {
  const auto now = std::chrono::floor<std::chrono::microseconds>(std::chrono::system_clock::now());
  return pgorm::timestamp{now.time_since_epoch()};
}

// The seed's pool: at most 10 connections, an idle one closed after 30 s, 5 s to connect
// (node-postgres' max, idleTimeoutMillis and connectionTimeoutMillis, which bounds the wait
// for a connection too: here acquire_timeout). pgorm::pool and pgorm::async::pool take the
// same options.
inline pgorm::pool_options pool_options() {
  pgorm::pool_options o;
  o.max_size = 10;
  o.idle_timeout = 30s;
  o.acquire_timeout = 5s;
  o.connection.connect_timeout = 5s;
  return o;
}

}  // namespace seed
