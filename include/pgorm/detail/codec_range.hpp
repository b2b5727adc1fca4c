// SPDX-License-Identifier: MIT
#pragma once

/// \file
/// Codec for pgorm::range<T>. Wire format (range_send): one flags byte (0x01 empty, 0x02 lower
/// inclusive, 0x04 upper inclusive, 0x08 lower unbounded, 0x10 upper unbounded), then for each
/// bound present, lower first, an int32 length and the bound in T's binary form.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "pgorm/detail/codec_numeric.hpp"
#include "pgorm/detail/codec_scalar.hpp"
#include "pgorm/detail/codec_support.hpp"
#include "pgorm/detail/codec_time.hpp"
#include "pgorm/range.hpp"

namespace pgorm {

namespace detail {

/// The range type of each bound type pgorm maps: its OID, array OID and name.
template <class T>
struct range_type_of {};
template <>
struct range_type_of<std::int32_t> {
  static constexpr oid type = oids::int4range, array = oids::int4range_array;
  static constexpr std::string_view name = "int4range";
};
template <>
struct range_type_of<std::int64_t> {
  static constexpr oid type = oids::int8range, array = oids::int8range_array;
  static constexpr std::string_view name = "int8range";
};
template <>
struct range_type_of<numeric> {
  static constexpr oid type = oids::numrange, array = oids::numrange_array;
  static constexpr std::string_view name = "numrange";
};
template <>
struct range_type_of<timestamp> {
  static constexpr oid type = oids::tsrange, array = oids::tsrange_array;
  static constexpr std::string_view name = "tsrange";
};
template <>
struct range_type_of<timestamptz> {
  static constexpr oid type = oids::tstzrange, array = oids::tstzrange_array;
  static constexpr std::string_view name = "tstzrange";
};
template <>
struct range_type_of<date> {
  static constexpr oid type = oids::daterange, array = oids::daterange_array;
  static constexpr std::string_view name = "daterange";
};

/// A bound type with a PostgreSQL range type.
template <class T>
concept range_bound = requires {
  range_type_of<T>::type;
}
&&has_pg_type<T>;

namespace range_flags {
inline constexpr std::uint8_t empty = 0x01;
inline constexpr std::uint8_t lower_inclusive = 0x02;
inline constexpr std::uint8_t upper_inclusive = 0x04;
inline constexpr std::uint8_t lower_infinite = 0x08;
inline constexpr std::uint8_t upper_infinite = 0x10;
}  // namespace range_flags

template <class T>
void encode_range_bound(const T& value, byte_buffer& out) {
  const std::size_t at = out.append_placeholder32();
  pg_type<T>::encode(value, out);
  out.patch_be32(at, static_cast<std::int32_t>(out.size() - at - 4));
}

/// Reads one bound at `pos` (advanced past it); throws conversion_error when truncated.
template <class T>
void decode_range_bound(std::string_view bytes, std::size_t& pos, std::string_view which,
                        std::optional<T>& out) {
  if (bytes.size() - pos < 4) [[unlikely]] {
    throw_decode_error("a binary range value ends inside its " + std::string(which) +
                       " bound's length");
  }
  const auto length = load_be<std::int32_t>(bytes.data() + pos);
  pos += 4;
  if (length < 0 || bytes.size() - pos < static_cast<std::size_t>(length)) [[unlikely]] {
    throw_decode_error("a binary range value's " + std::string(which) + " bound has length " +
                       std::to_string(length) + " with " + std::to_string(bytes.size() - pos) +
                       " bytes left");
  }
  if (!out) out.emplace();
  pg_type<T>::decode(bytes.substr(pos, static_cast<std::size_t>(length)), range_type_of<T>::type,
                     *out);
  pos += static_cast<std::size_t>(length);
}

}  // namespace detail

/// pgorm::range<T> <-> int4range, int8range, numrange, tsrange, tstzrange, daterange.
///
/// Example: `pgorm::range<pgorm::timestamptz> during{start, end};  // tstzrange [start,end)`
template <class T>
requires detail::range_bound<T>
struct pg_type<range<T>> {
  static constexpr pgorm::oid oid = detail::range_type_of<T>::type;
  static constexpr pgorm::oid array_oid = detail::range_type_of<T>::array;
  static constexpr std::string_view sql_name = detail::range_type_of<T>::name;
  static constexpr bool nullable = false;

  static constexpr bool accepts(pgorm::oid type) noexcept { return type == oid; }

  static void encode(const range<T>& value, byte_buffer& out) {
    namespace f = detail::range_flags;
    if (value.empty) {
      out.push_back(static_cast<char>(f::empty));
      return;
    }
    std::uint8_t flags = 0;
    if (!value.lower) {
      flags |= f::lower_infinite;
    } else if (value.lower_inclusive) {
      flags |= f::lower_inclusive;
    }
    if (!value.upper) {
      flags |= f::upper_infinite;
    } else if (value.upper_inclusive) {
      flags |= f::upper_inclusive;
    }
    out.push_back(static_cast<char>(flags));
    if (value.lower) detail::encode_range_bound(*value.lower, out);
    if (value.upper) detail::encode_range_bound(*value.upper, out);
  }

  static void decode(std::string_view bytes, pgorm::oid, range<T>& out) {
    namespace f = detail::range_flags;
    if (bytes.empty()) [[unlikely]]
      detail::throw_bad_length(sql_name, 1, 0);
    const auto flags = static_cast<std::uint8_t>(bytes[0]);
    if ((flags & f::empty) != 0) {
      if (bytes.size() != 1) [[unlikely]]
        detail::throw_bad_length(sql_name, 1, bytes.size());
      out = range<T>::empty_range();
      return;
    }
    std::size_t pos = 1;
    range<T> r;
    r.lower_inclusive = (flags & (f::lower_infinite | f::lower_inclusive)) == f::lower_inclusive;
    r.upper_inclusive = (flags & (f::upper_infinite | f::upper_inclusive)) == f::upper_inclusive;
    if ((flags & f::lower_infinite) == 0) detail::decode_range_bound(bytes, pos, "lower", r.lower);
    if ((flags & f::upper_infinite) == 0) detail::decode_range_bound(bytes, pos, "upper", r.upper);
    if (pos != bytes.size()) [[unlikely]] {
      detail::throw_decode_error("a binary " + std::string(sql_name) + " value has " +
                                 std::to_string(bytes.size() - pos) + " bytes after its bounds");
    }
    out = std::move(r);
  }
};

}  // namespace pgorm
