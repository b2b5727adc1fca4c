// SPDX-License-Identifier: MIT
#pragma once

/// \file
/// Codec for C++ enums, opted in through pgorm::enum_traits<E> (pgorm/enum.hpp). Both a
/// PostgreSQL enum type and text send and receive the label as text in the binary format
/// (enum_send, textsend).

#include <concepts>
#include <string>
#include <string_view>
#include <type_traits>

#include "pgorm/detail/codec_support.hpp"
#include "pgorm/enum.hpp"

namespace pgorm {

namespace detail {

/// An enum with an enum_traits<E> specialization that lists its values.
template <class E>
concept traited_enum = std::is_enum_v<E> && requires {
  enum_traits<E>::values.begin();
  { enum_traits<E>::values.begin()->first } -> std::convertible_to<E>;
  { enum_traits<E>::values.begin()->second } -> std::convertible_to<std::string_view>;
};

/// A traited enum mapped to a PostgreSQL enum type (enum_traits<E>::type_name).
template <class E>
concept pg_enum = traited_enum<E> && requires {
  { enum_traits<E>::type_name } -> std::convertible_to<std::string_view>;
};

}  // namespace detail

/// C++ enum <-> PostgreSQL enum type (enum_traits<E>::type_name) or text.
template <class E>
requires detail::traited_enum<E>
struct pg_type<E> {
 private:
  static constexpr bool named = detail::pg_enum<E>;
  static constexpr std::string_view type_name() noexcept {
    if constexpr (named) {
      return enum_traits<E>::type_name;
    } else {
      return "text";
    }
  }

 public:
  static constexpr pgorm::oid oid = named ? 0 : oids::text;
  static constexpr pgorm::oid array_oid = named ? 0 : oids::text_array;
  static constexpr std::string_view sql_name = type_name();
  static constexpr bool nullable = false;

  static constexpr bool accepts(pgorm::oid type) noexcept {
    return detail::is_text_like(type) || (named && type >= oids::first_user_defined);
  }
  static void encode(E value, byte_buffer& out) {
    for (const auto& [enumerator, label] : enum_traits<E>::values) {
      if (enumerator == value) return out.append(std::string_view{label});
    }
    detail::throw_encode_error(
        "pgorm: enumerator value " + std::to_string(static_cast<std::underlying_type_t<E>>(value)) +
        " of " + detail::cpp_type_name<E>() + " has no label in pgorm::enum_traits<E>::values");
  }
  static void decode(std::string_view bytes, pgorm::oid, E& out) {
    for (const auto& [enumerator, label] : enum_traits<E>::values) {
      if (std::string_view{label} == bytes) {
        out = enumerator;
        return;
      }
    }
    detail::throw_decode_error("label '" + std::string(bytes) +
                               "' is not in pgorm::enum_traits<E>::values");
  }
};

}  // namespace pgorm
