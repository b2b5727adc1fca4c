// SPDX-License-Identifier: MIT
#pragma once

/// \file
/// Big-endian (network order) loads and stores for the binary wire format. g++ 12 has no
/// std::byteswap, so this uses memcpy plus __builtin_bswap*, which compile to one mov(be).

#include <bit>
#include <concepts>
#include <cstdint>
#include <cstring>
#include <type_traits>

namespace pgorm::detail {

/// An unsigned integer of the same size as T (T: 1, 2, 4 or 8 bytes).
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

/// Writes `value` as sizeof(T) big-endian bytes at `out`.
///
/// Example: `char b[4]; store_be(b, std::int32_t{42});  // 00 00 00 2a`
template <wire_scalar T>
inline void store_be(char* out, T value) noexcept {
  using U = typename uint_of_size<sizeof(T)>::type;
  U bits = std::bit_cast<U>(value);
  if constexpr (std::endian::native == std::endian::little) bits = byte_swap(bits);
  std::memcpy(out, &bits, sizeof bits);
}

/// Reads a T from sizeof(T) big-endian bytes at `in` (no alignment needed).
///
/// Example: `auto v = load_be<std::int32_t>("\0\0\0\x2a");  // 42`
template <wire_scalar T>
[[nodiscard]] inline T load_be(const char* in) noexcept {
  using U = typename uint_of_size<sizeof(T)>::type;
  U bits;
  std::memcpy(&bits, in, sizeof bits);
  if constexpr (std::endian::native == std::endian::little) bits = byte_swap(bits);
  return std::bit_cast<T>(bits);
}

}  // namespace pgorm::detail

namespace pgorm {
/// load_be<T>(bytes): a big-endian integer or float, for codecs of one's own (docs/types.md).
using detail::load_be;
}  // namespace pgorm
