// SPDX-License-Identifier: MIT
#pragma once

/// \file
/// Codecs for bool, 16/32/64-bit integers, float and double (PostgreSQL boolean, smallint,
/// integer, bigint, real, double precision). Binary formats: boolsend (1 byte), int2/4/8send
/// and float4/8send (big-endian IEEE 754).

#include <cstdint>
#include <limits>
#include <string_view>
#include <type_traits>

#include "pgorm/detail/codec_support.hpp"

namespace pgorm {

namespace detail {

/// Signed integers of 2, 4 or 8 bytes, which are not characters.
template <class T>
concept pg_integer =
    std::signed_integral<T> && std::same_as<T, std::remove_cv_t<T>> && !std::same_as<T, char> &&
    !std::same_as<T, signed char> && !std::same_as<T, wchar_t> &&
    (sizeof(T) == 2 || sizeof(T) == 4 || sizeof(T) == 8);

template <class To, class From>
inline To narrow_integer(From value) {
  if constexpr (sizeof(To) < sizeof(From)) {
    if (value < static_cast<From>(std::numeric_limits<To>::min()) ||
        value > static_cast<From>(std::numeric_limits<To>::max())) [[unlikely]] {
      throw_out_of_range(value, cpp_type_name<To>());
    }
  }
  return static_cast<To>(value);
}

}  // namespace detail

/// bool <-> boolean.
///
/// Example: `conn.exec("select $1", pgorm::encode_params(true).params());`
template <>
struct pg_type<bool> {
  static constexpr pgorm::oid oid = oids::boolean;
  static constexpr pgorm::oid array_oid = oids::boolean_array;
  static constexpr std::string_view sql_name = "boolean";
  static constexpr bool nullable = false;

  static constexpr bool accepts(pgorm::oid type) noexcept { return type == oids::boolean; }
  static void encode(bool value, byte_buffer& out) { out.push_back(value ? '\1' : '\0'); }
  static void decode(std::string_view bytes, pgorm::oid, bool& out) {
    if (bytes.size() != 1) [[unlikely]]
      detail::throw_bad_length("boolean", 1, bytes.size());
    out = bytes[0] != 0;
  }
};

/// std::int16_t, std::int32_t, std::int64_t (and long long) <-> smallint, integer, bigint.
///
/// Reading accepts any of the three SQL integer types: a wider column is range-checked (an
/// int8 value that does not fit std::int32_t throws conversion_error), a narrower one widens.
///
/// Example: `std::int64_t id; pgorm::read_field(res, 0, 0, id, {"users", "id"});`
template <class T>
requires detail::pg_integer<T>
struct pg_type<T> {
  static constexpr pgorm::oid oid =
      sizeof(T) == 2 ? oids::int2 : (sizeof(T) == 4 ? oids::int4 : oids::int8);
  static constexpr pgorm::oid array_oid =
      sizeof(T) == 2 ? oids::int2_array : (sizeof(T) == 4 ? oids::int4_array : oids::int8_array);
  static constexpr std::string_view sql_name =
      sizeof(T) == 2 ? "smallint" : (sizeof(T) == 4 ? "integer" : "bigint");
  static constexpr bool nullable = false;

  static constexpr bool accepts(pgorm::oid type) noexcept {
    return type == oids::int2 || type == oids::int4 || type == oids::int8;
  }
  static void encode(T value, byte_buffer& out) { out.append_be(value); }
  static void decode(std::string_view bytes, pgorm::oid, T& out) {
    // The column's own width first: that is the common case and needs no check.
    if (bytes.size() == sizeof(T)) [[likely]] {
      out = load_be<T>(bytes.data());
    } else if (bytes.size() == 8) {
      out = detail::narrow_integer<T>(load_be<std::int64_t>(bytes.data()));
    } else if (bytes.size() == 4) {
      out = detail::narrow_integer<T>(load_be<std::int32_t>(bytes.data()));
    } else if (bytes.size() == 2) {
      out = static_cast<T>(load_be<std::int16_t>(bytes.data()));
    } else {
      detail::throw_bad_length("integer", sizeof(T), bytes.size());
    }
  }
};

/// float <-> real (float4). NaN and +/-Infinity travel unchanged.
///
/// Example: `float ratio = 0.5f;`
template <>
struct pg_type<float> {
  static constexpr pgorm::oid oid = oids::float4;
  static constexpr pgorm::oid array_oid = oids::float4_array;
  static constexpr std::string_view sql_name = "real";
  static constexpr bool nullable = false;

  static constexpr bool accepts(pgorm::oid type) noexcept { return type == oids::float4; }
  static void encode(float value, byte_buffer& out) { out.append_be(value); }
  static void decode(std::string_view bytes, pgorm::oid, float& out) {
    if (bytes.size() != 4) [[unlikely]]
      detail::throw_bad_length("real", 4, bytes.size());
    out = load_be<float>(bytes.data());
  }
};

/// double <-> double precision (float8); also reads real columns (widening is exact).
///
/// Example: `double score = 9.75;`
template <>
struct pg_type<double> {
  static constexpr pgorm::oid oid = oids::float8;
  static constexpr pgorm::oid array_oid = oids::float8_array;
  static constexpr std::string_view sql_name = "double precision";
  static constexpr bool nullable = false;

  static constexpr bool accepts(pgorm::oid type) noexcept {
    return type == oids::float8 || type == oids::float4;
  }
  static void encode(double value, byte_buffer& out) { out.append_be(value); }
  static void decode(std::string_view bytes, pgorm::oid, double& out) {
    if (bytes.size() == 8) [[likely]] {
      out = load_be<double>(bytes.data());
    } else if (bytes.size() == 4) {
      out = static_cast<double>(load_be<float>(bytes.data()));
    } else {
      detail::throw_bad_length("double precision", 8, bytes.size());
    }
  }
};

}  // namespace pgorm
