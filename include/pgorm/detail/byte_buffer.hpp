// SPDX-License-Identifier: MIT
#pragma once

/// \file
/// pgorm::byte_buffer: where codecs append the binary form of parameter values.

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string_view>

#include "pgorm/detail/byte_order.hpp"
#include "pgorm/export.hpp"

namespace pgorm {

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

  byte_buffer() noexcept = default;
  byte_buffer(const byte_buffer& other) { append(other.view()); }
  byte_buffer(byte_buffer&& other) noexcept { take(other); }
  byte_buffer& operator=(const byte_buffer& other) {
    if (this != &other) {
      clear();
      append(other.view());
    }
    return *this;
  }
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
  void append(std::string_view text) { append(text.data(), text.size()); }
  void append(std::span<const std::byte> bytes) { append(bytes.data(), bytes.size()); }
  void push_back(char c) { *grow_by(1) = c; }

  /// Appends `value` as sizeof(T) big-endian bytes (integers, float, double).
  template <detail::wire_scalar T>
  void append_be(T value) {
    detail::store_be(grow_by(sizeof(T)), value);
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
    detail::store_be(data_ + offset, value);
  }

  /// Makes room for `n` more bytes and returns where they go; the caller writes all of them.
  char* grow_by(std::size_t n) {
    if (capacity_ - size_ < n) grow(n);
    char* at = data_ + size_;
    size_ += n;
    return at;
  }
  void reserve(std::size_t n) {
    if (n > capacity_) grow(n - size_);
  }
  /// Drops the last bytes so that `n` remain (n <= size()).
  void truncate(std::size_t n) noexcept { size_ = n < size_ ? n : size_; }
  void clear() noexcept { size_ = 0; }

  [[nodiscard]] const char* data() const noexcept { return data_; }
  [[nodiscard]] char* data() noexcept { return data_; }
  [[nodiscard]] std::size_t size() const noexcept { return size_; }
  [[nodiscard]] bool empty() const noexcept { return size_ == 0; }
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
