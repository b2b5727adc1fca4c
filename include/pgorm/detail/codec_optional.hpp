// SPDX-License-Identifier: MIT
#pragma once

/// \file
/// Codec for std::optional<T>: std::nullopt is SQL NULL, a value is T's codec.

#include <optional>
#include <string>
#include <string_view>
#include <type_traits>

#include "pgorm/detail/codec_support.hpp"

namespace pgorm {

namespace detail {

/// pg_type<T>::array_oid, or 0 when T's array type is known only at run time (or not at all).
template <class T>
constexpr oid array_oid_of() noexcept {
  if constexpr (requires { pg_type<T>::array_oid; }) {
    return pg_type<T>::array_oid;
  } else {
    return 0;
  }
}

}  // namespace detail

/// std::optional<T> <-> T's SQL type, NULL allowed (the column is not NOT NULL).
///
/// Nullable codecs also provide `is_null(const T&)` (checked before encode) and
/// `set_null(T&)` (called instead of decode for a NULL value).
///
/// Example: `std::optional<std::string> nickname;  // text, NULL when empty`
template <class T>
requires pg_encodable<T> &&(!detail::is_optional<T>::value) &&
    (!pg_type<T>::nullable) struct pg_type<std::optional<T>> {
  static constexpr pgorm::oid oid = pg_type<T>::oid;
  static constexpr pgorm::oid array_oid = detail::array_oid_of<T>();
  static constexpr std::string_view sql_name = pg_type<T>::sql_name;
  static constexpr bool nullable = true;

  static constexpr bool accepts(pgorm::oid type) noexcept requires pg_decodable<T> {
    return pg_type<T>::accepts(type);
  }
  /// Precondition: `value` holds a value (callers check is_null first).
  static void encode(const std::optional<T>& value, byte_buffer& out) {
    pg_type<T>::encode(*value, out);
  }
  static void decode(std::string_view bytes, pgorm::oid type,
                     std::optional<T>& out) requires pg_decodable<T> {
    if (!out) {
      if constexpr (std::is_same_v<T, std::string>) {
        // Built at the value's size in one step: an empty string then assigned costs ~35
        // instructions more per value (a freshly read row's nullable text columns).
        out.emplace(bytes.data(), bytes.size());
        return;
      } else {
        out.emplace();
      }
    }
    pg_type<T>::decode(bytes, type, *out);
  }
  static bool is_null(const std::optional<T>& value) noexcept { return !value.has_value(); }
  static void set_null(std::optional<T>& out) noexcept { out.reset(); }
  /// T's text parameter form, when T sends its parameters as text (a composite holding a
  /// nested composite, an array of enums). Precondition: `value` holds a value.
  static void encode_text_param(const std::optional<T>& value, byte_buffer& out) requires
      requires(const T& v, byte_buffer& b) {
    pg_type<T>::encode_text_param(v, b);
  }
  { pg_type<T>::encode_text_param(*value, out); }
};

/// std::nullopt as a parameter: an untyped NULL (OID 0, the server infers the type).
///
/// Example: `pgorm::encode_params(std::nullopt);`
template <>
struct pg_type<std::nullopt_t> {
  static constexpr pgorm::oid oid = 0;
  static constexpr std::string_view sql_name = "unknown";
  static constexpr bool nullable = true;

  static void encode(std::nullopt_t, byte_buffer&) noexcept {}
  static bool is_null(std::nullopt_t) noexcept { return true; }
};

}  // namespace pgorm
