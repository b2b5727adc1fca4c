// SPDX-License-Identifier: MIT
#pragma once

/// \file
/// The date and time types pgorm maps: pgorm::timestamptz, pgorm::timestamp, pgorm::date,
/// pgorm::time_of_day and pgorm::interval. The first three are std::chrono time points at
/// PostgreSQL's precision; PostgreSQL's 'infinity' and '-infinity' are their max() and min().
/// Their codecs come with pgorm/types.hpp.

#include <chrono>
#include <compare>
#include <cstdint>

namespace pgorm {

/// A point in time: PostgreSQL's timestamptz (timestamp with time zone), which stores UTC.
/// 'infinity' is timestamptz::max(), '-infinity' is timestamptz::min().
///
/// Example: `pgorm::timestamptz t = std::chrono::floor<std::chrono::microseconds>(
///     std::chrono::system_clock::now());`
using timestamptz = std::chrono::sys_time<std::chrono::microseconds>;

/// A wall-clock date and time with no time zone: PostgreSQL's timestamp (without time zone).
/// A distinct type from timestamptz so that the two never mix silently. 'infinity' and
/// '-infinity' are timestamp::max() and timestamp::min().
///
/// Example: `pgorm::timestamp t{std::chrono::local_days{2024y / 3 / 1} + 9h};`
using timestamp = std::chrono::local_time<std::chrono::microseconds>;

/// A calendar date: PostgreSQL's date. 'infinity' and '-infinity' are date::max() and
/// date::min().
///
/// Example: `pgorm::date d = std::chrono::sys_days{2024y / 3 / 1};`
using date = std::chrono::sys_days;

/// A time of day without time zone: PostgreSQL's time, in microseconds since midnight
/// (00:00:00 to 24:00:00 inclusive).
///
/// Example: `pgorm::time_of_day opens{9h + 30min};`
struct time_of_day {
  std::chrono::microseconds since_midnight{};  ///< 0 to 24 h inclusive

  friend constexpr bool operator==(const time_of_day&, const time_of_day&) = default;
  friend constexpr auto operator<=>(const time_of_day&, const time_of_day&) = default;
};

/// PostgreSQL's interval: months, days and microseconds kept apart, because their lengths
/// vary (a month is 28 to 31 days, a day can be 23 to 25 hours across a DST change).
/// operator== compares the three fields; SQL's = on intervals normalizes first (1 day = 24 h).
///
/// Example: `pgorm::interval i{.months = 1, .days = 2, .time = 3h};  // '1 mon 2 days 03:00'`
struct interval {
  std::int32_t months = 0;           ///< whole months (a year is 12)
  std::int32_t days = 0;             ///< whole days, kept apart from the months
  std::chrono::microseconds time{};  ///< the rest, in microseconds

  friend constexpr bool operator==(const interval&, const interval&) = default;
};

}  // namespace pgorm
