// SPDX-License-Identifier: MIT
#pragma once

/// \file
/// The byte helpers a codec uses: pgorm::byte_buffer, where pg_type<T>::encode appends the
/// binary form of a value, and pgorm::store_be / pgorm::load_be, which write and read the
/// big-endian (network order) integers and floats of PostgreSQL's binary wire format.
/// See docs/types.md, "Adding a type".

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string_view>

#include "pgorm/detail/byte_order.hpp"
#include "pgorm/export.hpp"

namespace pgorm {

/// Writes `value` as sizeof(T) big-endian bytes at `out` (no alignment needed). T is an
/// integer or a floating-point type of 1, 2, 4 or 8 bytes.
///
/// Example: `char b[4]; pgorm::store_be(b, std::int32_t{42});  // 00 00 00 2a`
template <detail::wire_scalar T>
inline void store_be(char* out, T value) noexcept {
  using U = typename detail::uint_of_size<sizeof(T)>::type;
  U bits = std::bit_cast<U>(value);
  if constexpr (std::endian::native == std::endian::little) bits = detail::byte_swap(bits);
  std::memcpy(out, &bits, sizeof bits);
}

/// Reads a T from sizeof(T) big-endian bytes at `in` (no alignment needed). T is an integer or
/// a floating-point type of 1, 2, 4 or 8 bytes. The caller checks that the bytes are there.
///
/// Example: `auto v = pgorm::load_be<std::int32_t>("\0\0\0\x2a");  // 42`
template <detail::wire_scalar T>
[[nodiscard]] inline T load_be(const char* in) noexcept {
  using U = typename detail::uint_of_size<sizeof(T)>::type;
  U bits;
  std::memcpy(&bits, in, sizeof bits);
  if constexpr (std::endian::native == std::endian::little) bits = detail::byte_swap(bits);
  return std::bit_cast<T>(bits);
}

/// A growable byte buffer with inline storage, so that encoding the parameters of a typical
/// statement (a few scalars and short strings) allocates nothing. Codecs append to it
/// (pg_type<T>::encode); pgorm then points libpq at the bytes.
///
/// Offsets stay valid as the buffer grows; pointers into it do not.
///
/// Example:
/// ```
/// pgorm::byte_buffer out;
/// out.append_be(std::int32_t{42});   // 00 00 00 2a
/// out.append("abc");                 // 61 62 63
/// ```
class PGORM_API byte_buffer {
 public:
  /// Bytes held without a heap allocation.
  static constexpr std::size_t inline_capacity = 240;

  /// An empty buffer, using its inline storage.
  byte_buffer() noexcept = default;
  /// Copies the bytes (not the capacity).
  byte_buffer(const byte_buffer& other) { append(other.view()); }
  /// Takes the bytes; `other` is left empty.
  byte_buffer(byte_buffer&& other) noexcept { take(other); }
  /// Replaces the bytes with a copy of `other`'s.
  byte_buffer& operator=(const byte_buffer& other) {
    if (this != &other) {
      clear();
      append(other.view());
    }
    return *this;
  }
  /// Takes `other`'s bytes; `other` is left empty.
  byte_buffer& operator=(byte_buffer&& other) noexcept {
    if (this != &other) {
      release();
      take(other);
    }
    return *this;
  }
  ~byte_buffer() { release(); }

  /// Appends `n` bytes from `bytes`.
  void append(const void* bytes, std::size_t n) {
    if (n == 0) return;
    char* at = grow_by(n);
    std::memcpy(at, bytes, n);
  }
  /// Appends the characters of `text` (no terminator, no length prefix).
  void append(std::string_view text) { append(text.data(), text.size()); }
  /// Appends `bytes`.
  void append(std::span<const std::byte> bytes) { append(bytes.data(), bytes.size()); }
  /// Appends one byte.
  void push_back(char c) { *grow_by(1) = c; }

  /// Appends `value` as sizeof(T) big-endian bytes (integers, float, double).
  template <detail::wire_scalar T>
  void append_be(T value) {
    store_be(grow_by(sizeof(T)), value);
  }

  /// Appends a 4-byte placeholder and returns its offset, for a length known only later
  /// (array elements, see patch_be32).
  std::size_t append_placeholder32() {
    const std::size_t at = size_;
    grow_by(4);
    return at;
  }
  /// Overwrites the 4 bytes at `offset` with `value`, big-endian.
  void patch_be32(std::size_t offset, std::int32_t value) noexcept {
    store_be(data_ + offset, value);
  }

  /// Makes room for `n` more bytes and returns where they go; the caller writes all of them.
  char* grow_by(std::size_t n) {
    if (capacity_ - size_ < n) grow(n);
    char* at = data_ + size_;
    size_ += n;
    return at;
  }
  /// Makes room for `n` bytes in all, so that appending up to there does not allocate.
  void reserve(std::size_t n) {
    if (n > capacity_) grow(n - size_);
  }
  /// Drops the last bytes so that `n` remain (n <= size()).
  void truncate(std::size_t n) noexcept { size_ = n < size_ ? n : size_; }
  /// Drops every byte; the capacity stays.
  void clear() noexcept { size_ = 0; }

  /// The first byte; valid until the next call that grows the buffer.
  [[nodiscard]] const char* data() const noexcept { return data_; }
  /// The first byte, writable; valid until the next call that grows the buffer.
  [[nodiscard]] char* data() noexcept { return data_; }
  /// Number of bytes held.
  [[nodiscard]] std::size_t size() const noexcept { return size_; }
  /// True when no byte is held.
  [[nodiscard]] bool empty() const noexcept { return size_ == 0; }
  /// All bytes held.
  [[nodiscard]] std::string_view view() const noexcept { return {data_, size_}; }
  /// The bytes at [offset, offset + n).
  [[nodiscard]] std::span<const std::byte> bytes(std::size_t offset, std::size_t n) const noexcept {
    return {reinterpret_cast<const std::byte*>(data_) + offset, n};
  }

 private:
  void grow(std::size_t extra);  // src/types.cpp: at least doubles, moves the bytes
  void release() noexcept {
    if (data_ != inline_) delete[] data_;
    data_ = inline_;
    capacity_ = inline_capacity;
  }
  void take(byte_buffer& other) noexcept {
    if (other.data_ == other.inline_) {
      std::memcpy(inline_, other.inline_, other.size_);
      data_ = inline_;
      capacity_ = inline_capacity;
    } else {
      data_ = other.data_;
      capacity_ = other.capacity_;
    }
    size_ = other.size_;
    other.data_ = other.inline_;
    other.capacity_ = inline_capacity;
    other.size_ = 0;
  }

  char* data_ = inline_;
  std::size_t size_ = 0;
  std::size_t capacity_ = inline_capacity;
  char inline_[inline_capacity];
};

}  // namespace pgorm
