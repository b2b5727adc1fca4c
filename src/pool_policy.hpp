// SPDX-License-Identifier: MIT
// What the synchronous pool (src/pool.cpp) and the async pool (src/async/pool.cpp) decide
// alike: whether a connection given back is kept or closed, whether it is reset first, how a
// pool event reaches the observer, and leak detection (pool_options::leak_threshold).
#pragma once

#include <chrono>
#include <cstddef>
#include <source_location>
#include <string>
#include <string_view>
#include <vector>

#include "pgorm/observer.hpp"
#include "pgorm/pool.hpp"

namespace pgorm::detail {

/// What a pool knows about a connection coming back from a lease.
struct returned_connection {
  bool poisoned = false;        ///< the borrower called lease::poison()
  bool open = true;             ///< the link is still up
  bool in_transaction = false;  ///< not idle: inside (or failed inside) a transaction block
  bool expired = false;         ///< past its jittered max_lifetime
  bool pool_closed = false;     ///< the pool was closed meanwhile
};

/// Why such a connection is closed instead of kept: "poisoned", "broken", "in transaction",
/// "lifetime" or "pool closed" (the first that applies; the evict event's detail); "" keeps it.
std::string_view close_reason(const returned_connection& c) noexcept;

/// Whether a connection kept after a lease gets DISCARD ALL before the next borrower: when
/// the borrower ran raw SQL (`raw_sql`), and only on a session of its own (through a
/// transaction-mode pooler DISCARD ALL would clear whichever server session the pooler picked).
bool resets_before_reuse(bool raw_sql, const pool_options& options) noexcept;

/// Hands `e` to options.connection.events, if any; an observer that throws cannot break the
/// pool (this runs from lease destructors too).
void emit_pool_event(const pool_options& options, const pool_event& e) noexcept;

/// When a connection breaks its siblings probably broke with it (a server restart): idle
/// connections returned before the break, and every idle connection for a second after it (the
/// server may kill them a moment later), get a health check before they are handed out.
/// Not thread-safe: the pool's mutex guards it.
class break_suspicion {
 public:
  using time_point = std::chrono::steady_clock::time_point;

  /// A connection broke (or was poisoned, or failed its health check) at `now`.
  void broke(time_point now) noexcept {
    before_ = now;
    until_ = now + std::chrono::seconds(1);
  }
  /// Whether an idle connection last returned at `last_used` needs a check at `now`.
  [[nodiscard]] bool suspects(time_point last_used, time_point now) const noexcept {
    return last_used < before_ || now < until_;
  }
  /// Whether a connection given back for `close_reason` hints that its siblings broke too.
  [[nodiscard]] static bool hints_at_break(std::string_view close_reason) noexcept {
    return close_reason == "poisoned" || close_reason == "broken";
  }

 private:
  time_point before_{};
  time_point until_{};
};

/// Leases held past pool_options::leak_threshold, each reported once with its acquire site.
/// Not thread-safe: the pool's mutex guards it.
class leak_watch {
 public:
  using time_point = std::chrono::steady_clock::time_point;

  explicit leak_watch(std::chrono::milliseconds threshold) noexcept : threshold_(threshold) {}

  /// False when leak_threshold is 0: the calls below then do nothing.
  [[nodiscard]] bool enabled() const noexcept { return threshold_.count() > 0; }
  /// The lease of the connection `key` began at `now`, acquired at `where`.
  void leased(const void* key, time_point now, const std::source_location& where);
  /// That lease ended.
  void returned(const void* key) noexcept;
  /// The leak_message() texts of the leases held past the threshold at `now`, each only once.
  [[nodiscard]] std::vector<std::string> overdue(time_point now);
  /// When the next lease not reported yet passes the threshold (time_point::max(): none).
  [[nodiscard]] time_point next_due() const noexcept;

 private:
  struct entry {
    const void* key;
    time_point since;
    std::source_location where;
    bool reported;
  };
  std::chrono::milliseconds threshold_;
  std::vector<entry> leases_;
};

/// Without an observer, a suspected leak must not go unnoticed: its text goes to stderr.
void warn_unobserved_leaks(const pool_options& options,
                           const std::vector<std::string>& texts) noexcept;

}  // namespace pgorm::detail
