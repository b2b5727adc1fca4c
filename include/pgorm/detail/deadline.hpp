// SPDX-License-Identifier: MIT
#pragma once

/// \file
/// The deadline of one call: fixed when the call starts and shared by every round trip it makes
/// (prepare, execute, retry, drain), so that a call's timeout bounds the whole call.

#include <chrono>
#include <limits>

namespace pgorm {

/// A per-call timeout meaning "no deadline at all", where a zero timeout means "the
/// connection's default" (connect_options::query_timeout).
///
/// Example: `conn.exec("create index concurrently ...", pgorm::no_timeout);`
inline constexpr std::chrono::milliseconds no_timeout = std::chrono::milliseconds::max();

}  // namespace pgorm

namespace pgorm::detail {

using steady_clock = std::chrono::steady_clock;

/// The time by which a call must be done, or none (unbounded).
class deadline {
 public:
  /// Unbounded.
  constexpr deadline() noexcept = default;
  /// `budget` from now; a zero or negative budget, or pgorm::no_timeout, means unbounded.
  static deadline after(std::chrono::milliseconds budget) noexcept {
    deadline d;
    // Anything beyond a century is no deadline (and now() + budget must not overflow).
    if (budget.count() > 0 && budget < std::chrono::hours(24 * 365 * 100)) {
      d.at_ = steady_clock::now() + budget;
      d.budget_ = budget;
      d.bounded_ = true;
    }
    return d;
  }
  /// after(budget), for a call that waits on the network next, with no other work first: its
  /// first wait may take the whole budget without reading the clock (wait_budget()). Only the
  /// deadline object made here is "fresh"; a copy is not, and any other use (at(), left(),
  /// passed()) ends it.
  static deadline starting_now(std::chrono::milliseconds budget) noexcept {
    deadline d = after(budget);
    d.fresh_ = d.bounded_;
    return d;  // NRVO; a copy would only lose the shortcut
  }
  deadline(const deadline& other) noexcept
      : at_(other.at_), budget_(other.budget_), bounded_(other.bounded_) {}
  deadline& operator=(const deadline& other) noexcept {
    at_ = other.at_;
    budget_ = other.budget_;
    bounded_ = other.bounded_;
    fresh_ = false;
    return *this;
  }
  ~deadline() = default;

  /// The sooner of two deadlines.
  [[nodiscard]] deadline sooner(const deadline& other) const noexcept {
    if (!other.bounded_) return *this;
    if (!bounded_ || other.at_ < at_) return other;
    return *this;
  }
  [[nodiscard]] bool bounded() const noexcept { return bounded_; }
  [[nodiscard]] steady_clock::time_point at() const noexcept {
    fresh_ = false;
    return at_;
  }
  /// The budget the deadline was made with (for messages).
  [[nodiscard]] std::chrono::milliseconds budget() const noexcept { return budget_; }
  [[nodiscard]] bool passed() const noexcept {
    fresh_ = false;
    return bounded_ && steady_clock::now() >= at_;
  }
  /// Time left, rounded up to whole milliseconds, at least 0; a large value when unbounded.
  [[nodiscard]] std::chrono::milliseconds left() const noexcept {
    fresh_ = false;
    if (!bounded_) return std::chrono::milliseconds(std::numeric_limits<int>::max());
    const auto rest = std::chrono::ceil<std::chrono::milliseconds>(at_ - steady_clock::now());
    return rest.count() < 0 ? std::chrono::milliseconds(0) : rest;
  }
  /// left(), for the wait about to start; the whole budget, without reading the clock, for the
  /// first wait of a starting_now() deadline (what passed since is the caller's own work, a few
  /// microseconds).
  [[nodiscard]] std::chrono::milliseconds wait_budget() const noexcept {
    if (fresh_) {
      fresh_ = false;
      return budget_;
    }
    return left();
  }
  /// What is left as a timeout for a call that takes one (0 means none): at least 1 ms while
  /// bounded, so that a nearly spent budget is not mistaken for "none".
  [[nodiscard]] std::chrono::milliseconds as_timeout() const noexcept {
    if (!bounded_) return std::chrono::milliseconds(0);
    const auto rest = left();
    return rest.count() < 1 ? std::chrono::milliseconds(1) : rest;
  }

 private:
  steady_clock::time_point at_{};
  std::chrono::milliseconds budget_{0};
  bool bounded_ = false;
  // Made by starting_now() and not used yet: see wait_budget(). Per object, never shared
  // between threads.
  mutable bool fresh_ = false;
};

}  // namespace pgorm::detail
