// SPDX-License-Identifier: MIT
#pragma once

/// \file
/// What the built-in codecs share besides the protocol (pgorm/codec.hpp): the compile-time
/// diagnostic for an unsupported type, C++ and SQL type names for messages, and the out-of-line
/// throw helpers.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "pgorm/codec.hpp"
#include "pgorm/detail/oids.hpp"
#include "pgorm/export.hpp"
#include "pgorm/fwd.hpp"

namespace pgorm::detail {

/// A string literal usable as a template argument: the carrier of a compile-time message
/// that g++ prints inside the type name of an incomplete type.
template <std::size_t N>
struct diagnostic {
  char text[N];
  constexpr diagnostic(const char (&s)[N]) noexcept {  // NOLINT: implicit by design
    for (std::size_t i = 0; i != N; ++i) text[i] = s[i];
  }
};

/// A `false` that waits for its argument, for a static_assert in a discarded branch. Under
/// clang, a static_assert on it also replaces no_pg_type_for: clang shortens a long string
/// template argument in a message, but prints this requirement with T spelled out ("static
/// assertion failed due to requirement 'always_false_v<void *>': pgorm: ...").
template <class T>
inline constexpr bool always_false_v = false;

/// Never defined. Naming it for an unsupported T makes the first compiler error read
/// "'pgorm::detail::no_pg_type_for<T, {"pgorm: ..."}> _' has incomplete type", which names both
/// the culprit type and the fix.
template <class T, diagnostic Why =
                       "pgorm: this C++ type has no PostgreSQL mapping; use a supported type "
                       "or specialize pgorm::pg_type<T> (see docs/types.md)">
struct no_pg_type_for;

template <class T>
struct is_optional : std::false_type {};
template <class T>
struct is_optional<std::optional<T>> : std::true_type {};

template <class T>
struct is_vector : std::false_type {};
template <class T, class A>
struct is_vector<std::vector<T, A>> : std::true_type {};

// g++ spells it "... [with T = long int]".
template <class T>
constexpr const char* codec_pretty_function() noexcept {
  return __PRETTY_FUNCTION__;
}

/// The C++ type's name for messages, e.g. "std::int32_t", "std::optional<std::string>".
template <class T>
std::string cpp_type_name() {
  using U = std::remove_cvref_t<T>;
  if constexpr (std::is_same_v<U, std::int16_t>) {
    return "std::int16_t";
  } else if constexpr (std::is_same_v<U, std::int32_t>) {
    return "std::int32_t";
  } else if constexpr (std::is_same_v<U, std::int64_t>) {
    return "std::int64_t";
  } else if constexpr (std::is_same_v<U, std::string>) {
    return "std::string";
  } else if constexpr (is_optional<U>::value) {
    return "std::optional<" + cpp_type_name<typename U::value_type>() + ">";
  } else if constexpr (is_vector<U>::value) {
    return "std::vector<" + cpp_type_name<typename U::value_type>() + ">";
  } else {
    const std::string_view pretty = codec_pretty_function<U>();
    const std::string_view marker = "T = ";
    const std::size_t begin = pretty.find(marker) + marker.size();
    return std::string(pretty.substr(begin, pretty.rfind(']') - begin));
  }
}

/// The server's name of a type, e.g. "int8", "text[]", or "oid 16390" for one pgorm does not
/// know (user-defined types). In src/types.cpp.
PGORM_API std::string sql_type_name(oid type);

// Thrown by decoders; read_field adds table, column, SQL type and C++ type. src/types.cpp.
[[noreturn]] PGORM_API void throw_decode_error(std::string what);
[[noreturn]] PGORM_API void throw_bad_length(std::string_view sql_type, std::size_t expected,
                                             std::size_t actual);
[[noreturn]] PGORM_API void throw_out_of_range(std::int64_t value, std::string_view cpp_type);
// Thrown by encoders (column "" until encode_params names the parameter).
[[noreturn]] PGORM_API void throw_encode_error(std::string what);

}  // namespace pgorm::detail
