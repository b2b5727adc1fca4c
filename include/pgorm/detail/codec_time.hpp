// SPDX-License-Identifier: MIT
#pragma once

/// \file
/// The codecs of the date and time types of pgorm/time.hpp: timestamptz, timestamp, date,
/// time, interval.
///
/// PostgreSQL sends timestamps as int64 microseconds and dates as int32 days, both counted from
/// 2000-01-01 (timestamp_send, date_send); std::chrono counts from 1970-01-01. The server's
/// 'infinity' and '-infinity' are the largest and smallest int64 (int32 for dates), and map to
/// time_point::max() and time_point::min().

#include <chrono>
#include <cstdint>
#include <limits>
#include <string_view>

#include "pgorm/detail/codec_support.hpp"
#include "pgorm/time.hpp"

namespace pgorm {

namespace detail {

/// 2000-01-01 minus 1970-01-01 (POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE = 10957 days).
inline constexpr std::int32_t pg_epoch_days = 10957;
inline constexpr std::int64_t pg_epoch_micros = std::int64_t{pg_epoch_days} * 86'400'000'000;

/// Unix microseconds -> PostgreSQL microseconds, with max/min as +/-infinity.
inline std::int64_t to_pg_micros(std::int64_t unix_micros) {
  constexpr auto lo = std::numeric_limits<std::int64_t>::min();
  constexpr auto hi = std::numeric_limits<std::int64_t>::max();
  if (unix_micros == hi || unix_micros == lo) return unix_micros;  // DT_NOEND / DT_NOBEGIN
  std::int64_t pg = 0;
  if (__builtin_sub_overflow(unix_micros, pg_epoch_micros, &pg)) [[unlikely]] {
    throw_encode_error(
        "pgorm: timestamp out of range: its microseconds since 2000-01-01 do not fit "
        "int64; use time_point::min() for -infinity");
  }
  return pg;
}

inline std::int64_t from_pg_micros(std::string_view bytes, std::string_view sql_type) {
  if (bytes.size() != 8) [[unlikely]]
    throw_bad_length(sql_type, 8, bytes.size());
  const auto pg = load_be<std::int64_t>(bytes.data());
  constexpr auto lo = std::numeric_limits<std::int64_t>::min();
  constexpr auto hi = std::numeric_limits<std::int64_t>::max();
  if (pg == hi || pg == lo) return pg;
  std::int64_t unix_micros = 0;
  if (__builtin_add_overflow(pg, pg_epoch_micros, &unix_micros)) [[unlikely]] {
    throw_decode_error("timestamp out of the range of std::chrono microseconds");
  }
  return unix_micros;
}

}  // namespace detail

/// timestamptz (std::chrono::sys_time<std::chrono::microseconds>) <-> timestamptz.
template <>
struct pg_type<timestamptz> {
  static constexpr pgorm::oid oid = oids::timestamptz;
  static constexpr pgorm::oid array_oid = oids::timestamptz_array;
  static constexpr std::string_view sql_name = "timestamptz";
  static constexpr bool nullable = false;

  static constexpr bool accepts(pgorm::oid type) noexcept { return type == oids::timestamptz; }
  static void encode(timestamptz value, byte_buffer& out) {
    out.append_be(detail::to_pg_micros(value.time_since_epoch().count()));
  }
  static void decode(std::string_view bytes, pgorm::oid, timestamptz& out) {
    out = timestamptz{std::chrono::microseconds{detail::from_pg_micros(bytes, "timestamptz")}};
  }
};

/// timestamp (std::chrono::local_time<std::chrono::microseconds>) <-> timestamp.
template <>
struct pg_type<timestamp> {
  static constexpr pgorm::oid oid = oids::timestamp;
  static constexpr pgorm::oid array_oid = oids::timestamp_array;
  static constexpr std::string_view sql_name = "timestamp";
  static constexpr bool nullable = false;

  static constexpr bool accepts(pgorm::oid type) noexcept { return type == oids::timestamp; }
  static void encode(timestamp value, byte_buffer& out) {
    out.append_be(detail::to_pg_micros(value.time_since_epoch().count()));
  }
  static void decode(std::string_view bytes, pgorm::oid, timestamp& out) {
    out = timestamp{std::chrono::microseconds{detail::from_pg_micros(bytes, "timestamp")}};
  }
};

/// date (std::chrono::sys_days) <-> date.
template <>
struct pg_type<date> {
  static constexpr pgorm::oid oid = oids::date;
  static constexpr pgorm::oid array_oid = oids::date_array;
  static constexpr std::string_view sql_name = "date";
  static constexpr bool nullable = false;

  static constexpr bool accepts(pgorm::oid type) noexcept { return type == oids::date; }
  static void encode(date value, byte_buffer& out) {
    constexpr auto lo = std::numeric_limits<std::int32_t>::min();  // DATEVAL_NOBEGIN
    constexpr auto hi = std::numeric_limits<std::int32_t>::max();  // DATEVAL_NOEND
    if (value == date::max()) return out.append_be(hi);
    if (value == date::min()) return out.append_be(lo);
    const auto days =
        static_cast<std::int64_t>(value.time_since_epoch().count()) - detail::pg_epoch_days;
    if (days <= lo || days >= hi) [[unlikely]] {
      detail::throw_encode_error("pgorm: date out of range for PostgreSQL's date");
    }
    out.append_be(static_cast<std::int32_t>(days));
  }
  static void decode(std::string_view bytes, pgorm::oid, date& out) {
    if (bytes.size() != 4) [[unlikely]]
      detail::throw_bad_length("date", 4, bytes.size());
    const auto days = load_be<std::int32_t>(bytes.data());
    if (days == std::numeric_limits<std::int32_t>::max()) {
      out = date::max();
    } else if (days == std::numeric_limits<std::int32_t>::min()) {
      out = date::min();
    } else {
      out = date{std::chrono::days{std::int64_t{days} + detail::pg_epoch_days}};
    }
  }
};

/// time_of_day <-> time (without time zone).
template <>
struct pg_type<time_of_day> {
  static constexpr pgorm::oid oid = oids::time;
  static constexpr pgorm::oid array_oid = oids::time_array;
  static constexpr std::string_view sql_name = "time";
  static constexpr bool nullable = false;

  static constexpr bool accepts(pgorm::oid type) noexcept { return type == oids::time; }
  static void encode(time_of_day value, byte_buffer& out) {
    out.append_be(static_cast<std::int64_t>(value.since_midnight.count()));
  }
  static void decode(std::string_view bytes, pgorm::oid, time_of_day& out) {
    if (bytes.size() != 8) [[unlikely]]
      detail::throw_bad_length("time", 8, bytes.size());
    out.since_midnight = std::chrono::microseconds{load_be<std::int64_t>(bytes.data())};
  }
};

/// interval <-> interval. Wire format (interval_send): int64 microseconds, int32 days,
/// int32 months.
template <>
struct pg_type<interval> {
  static constexpr pgorm::oid oid = oids::interval;
  static constexpr pgorm::oid array_oid = oids::interval_array;
  static constexpr std::string_view sql_name = "interval";
  static constexpr bool nullable = false;

  static constexpr bool accepts(pgorm::oid type) noexcept { return type == oids::interval; }
  static void encode(const interval& value, byte_buffer& out) {
    char* at = out.grow_by(16);
    store_be(at, static_cast<std::int64_t>(value.time.count()));
    store_be(at + 8, value.days);
    store_be(at + 12, value.months);
  }
  static void decode(std::string_view bytes, pgorm::oid, interval& out) {
    if (bytes.size() != 16) [[unlikely]]
      detail::throw_bad_length("interval", 16, bytes.size());
    out.time = std::chrono::microseconds{load_be<std::int64_t>(bytes.data())};
    out.days = load_be<std::int32_t>(bytes.data() + 8);
    out.months = load_be<std::int32_t>(bytes.data() + 12);
  }
};

}  // namespace pgorm
