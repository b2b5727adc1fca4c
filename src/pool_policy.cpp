// SPDX-License-Identifier: MIT
#include "pool_policy.hpp"

#include <algorithm>
#include <cstdio>

namespace pgorm::detail {

std::string_view close_reason(const returned_connection& c) noexcept {
  if (c.poisoned) return "poisoned";
  if (!c.open) return "broken";
  if (c.in_transaction) return "in transaction";
  if (c.expired) return "lifetime";
  if (c.pool_closed) return "pool closed";
  return {};
}

bool resets_before_reuse(bool raw_sql, const pool_options& options) noexcept {
  return raw_sql && options.connection.pooler == pooler_mode::none;
}

void emit_pool_event(const pool_options& options, const pool_event& e) noexcept {
  if (!options.connection.events) return;
  try {
    options.connection.events->on_pool_event(e);
  } catch (...) {  // NOLINT(bugprone-empty-catch): observers must not break the pool
  }
}

void leak_watch::leased(const void* key, time_point now, const std::source_location& where) {
  if (!enabled()) return;
  leases_.push_back(entry{key, now, where, false});
}

void leak_watch::returned(const void* key) noexcept {
  if (!enabled()) return;
  const auto it =
      std::find_if(leases_.begin(), leases_.end(), [key](const entry& e) { return e.key == key; });
  if (it != leases_.end()) leases_.erase(it);
}

std::vector<std::string> leak_watch::overdue(time_point now) {
  std::vector<std::string> texts;
  for (entry& e : leases_) {
    const auto held = std::chrono::duration_cast<std::chrono::milliseconds>(now - e.since);
    if (e.reported || held <= threshold_) continue;
    texts.push_back(leak_message(held, threshold_, e.where));
    e.reported = true;
  }
  return texts;
}

leak_watch::time_point leak_watch::next_due() const noexcept {
  time_point due = time_point::max();
  for (const entry& e : leases_) {
    // The first moment at which `held > threshold` holds in whole milliseconds.
    if (!e.reported) due = std::min(due, e.since + threshold_ + std::chrono::milliseconds(1));
  }
  return due;
}

void warn_unobserved_leaks(const pool_options& options,
                           const std::vector<std::string>& texts) noexcept {
  if (options.connection.events) return;
  for (const auto& text : texts) std::fprintf(stderr, "%s\n", text.c_str());
}

}  // namespace pgorm::detail
