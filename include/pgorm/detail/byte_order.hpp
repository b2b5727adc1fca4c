// SPDX-License-Identifier: MIT
#pragma once

/// \file
/// The machinery under pgorm::store_be and pgorm::load_be (pgorm/bytes.hpp): which types travel
/// as big-endian scalars, and the byte swap. g++ 12 has no std::byteswap, so this uses
/// __builtin_bswap*, which with memcpy compiles to one mov(be).

#include <bit>
#include <concepts>
#include <cstddef>
#include <cstdint>

namespace pgorm::detail {

/// An unsigned integer of `Size` bytes (1, 2, 4 or 8).
template <std::size_t Size>
struct uint_of_size;
template <>
struct uint_of_size<1> {
  using type = std::uint8_t;
};
template <>
struct uint_of_size<2> {
  using type = std::uint16_t;
};
template <>
struct uint_of_size<4> {
  using type = std::uint32_t;
};
template <>
struct uint_of_size<8> {
  using type = std::uint64_t;
};

/// Integers and floating-point types that travel as 1, 2, 4 or 8 big-endian bytes.
template <class T>
concept wire_scalar = (std::integral<T> ||
                       std::floating_point<T>)&&(sizeof(T) == 1 || sizeof(T) == 2 ||
                                                 sizeof(T) == 4 || sizeof(T) == 8);

/// `v` with its bytes reversed.
template <class U>
constexpr U byte_swap(U v) noexcept {
  if constexpr (sizeof(U) == 1) {
    return v;
  } else if constexpr (sizeof(U) == 2) {
    return __builtin_bswap16(v);
  } else if constexpr (sizeof(U) == 4) {
    return __builtin_bswap32(v);
  } else {
    return __builtin_bswap64(v);
  }
}

}  // namespace pgorm::detail
