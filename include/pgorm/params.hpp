// SPDX-License-Identifier: MIT
#pragma once

/// \file
/// Encoding C++ values into statement parameters: pgorm::encode_params. Binary format, typed
/// by their codec's OID, all bytes in one buffer (inline for typical statements, so no heap
/// allocation).

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstring>
#include <limits>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "pgorm/error.hpp"
#include "pgorm/export.hpp"
#include "pgorm/param_pack.hpp"
#include "pgorm/result.hpp"
#include "pgorm/types.hpp"

namespace pgorm::detail {

/// The codec type for a parameter argument: cv-ref stripped, arrays decayed (a string literal
/// becomes const char*), char* made const char*.
template <class Arg>
using param_type_t =
    std::conditional_t<std::is_same_v<std::decay_t<Arg>, char*>, const char*, std::decay_t<Arg>>;

/// Where one encoded parameter sits in a byte_buffer.
struct param_slot {
  std::size_t offset = 0;
  std::size_t size = 0;
  oid type = 0;
  bool null = true;
  data_format format = data_format::binary;
};

/// A codec that sends its values as text parameters (e.g. arrays of PostgreSQL enums, whose
/// binary form would need an OID known only to the server): it has encode_text_param().
template <class T>
concept text_param_codec = requires(const T& value, byte_buffer& out) {
  pg_type<T>::encode_text_param(value, out);
};

/// Rethrows an encoder's conversion_error naming parameter $n (1-based). In src/types.cpp.
[[noreturn]] PGORM_API void rethrow_param_error(const conversion_error& error, std::size_t n,
                                                std::string_view sql_type, std::string cpp_type);

/// Names T in the first compiler error when it cannot be a parameter; called only on the
/// failure path so that nothing else about T is instantiated (no error cascade).
template <class T>
void report_param_type() {
  if constexpr (!pg_encodable<T>) {
#if defined(__clang__)
    // clang shortens a long string template argument in its message: this static_assert
    // prints T (in its requirement) and the whole message instead.
    static_assert(always_false_v<T>,
                  "pgorm: this C++ type cannot be a statement parameter; pass a supported "
                  "type or specialize pgorm::pg_type<T> (see docs/types.md)");
#else
    no_pg_type_for<T,
                   "pgorm: this C++ type cannot be a statement parameter; pass a supported "
                   "type or specialize pgorm::pg_type<T> (see docs/types.md)">
        unsupported;  // the incomplete type above names T
#endif
  }
}

/// Appends the binary form of `value` to `out` and says where it went. `n` is the 1-based
/// parameter number, for messages.
template <class T>
param_slot encode_param(const T& value, byte_buffer& out, std::size_t n) {
  using codec = pg_type<T>;
  const std::size_t at = out.size();
  if constexpr (codec::nullable) {
    if (codec::is_null(value)) return {at, 0, codec::oid, true};
  }
  constexpr data_format format = text_param_codec<T> ? data_format::text : data_format::binary;
  try {
    if constexpr (format == data_format::text) {
      codec::encode_text_param(value, out);
    } else {
      codec::encode(value, out);
    }
  } catch (const conversion_error& e) {
    out.truncate(at);
    rethrow_param_error(e, n, codec::sql_name, cpp_type_name<T>());
  }
  return {at, out.size() - at, codec::oid, false, format};
}

inline param to_param(const param_slot& slot, const byte_buffer& bytes) noexcept {
  if (slot.null) return param::null(slot.type);
  if (slot.format == data_format::text) {
    return param::text(bytes.view().substr(slot.offset, slot.size), slot.type);
  }
  return param::binary(bytes.bytes(slot.offset, slot.size), slot.type);
}

template <std::size_t N>
std::array<param, N> null_params() noexcept {
  return [&]<std::size_t... I>(std::index_sequence<I...>) {
    return std::array<param, N>{((void)I, param::null())...};
  }
  (std::make_index_sequence<N>{});
}

/// A fixed number of encoded parameters: owns their bytes and the pgorm::param views over
/// them. Copying or moving re-points the views at the new bytes.
///
/// Example: `auto p = encode_params(42, "x"); conn.exec(sql, p.params(), data_format::binary);`
template <std::size_t N>
class encoded_params {
 public:
  template <class... Args>
  requires(sizeof...(Args) == N) explicit encoded_params(const Args&... args) {
    std::size_t i = 0;
    ((slots_[i] = encode_param(static_cast<const param_type_t<Args>&>(args), bytes_, i + 1), ++i),
     ...);
    repoint();
  }
  encoded_params(const encoded_params& other) : bytes_(other.bytes_), slots_(other.slots_) {
    repoint();
  }
  encoded_params(encoded_params&& other) noexcept
      : bytes_(std::move(other.bytes_)), slots_(other.slots_) {
    repoint();
  }
  encoded_params& operator=(const encoded_params& other) {
    bytes_ = other.bytes_;
    slots_ = other.slots_;
    repoint();
    return *this;
  }
  encoded_params& operator=(encoded_params&& other) noexcept {
    bytes_ = std::move(other.bytes_);
    slots_ = other.slots_;
    repoint();
    return *this;
  }
  ~encoded_params() = default;

  /// The parameters, for connection::exec(); valid while this object lives.
  [[nodiscard]] std::span<const param> params() const noexcept { return params_; }
  [[nodiscard]] static constexpr std::size_t size() noexcept { return N; }
  /// All encoded bytes, back to back.
  [[nodiscard]] const byte_buffer& bytes() const noexcept { return bytes_; }

 private:
  void repoint() noexcept {
    for (std::size_t i = 0; i != N; ++i) params_[i] = to_param(slots_[i], bytes_);
  }

  byte_buffer bytes_;
  std::array<param_slot, N> slots_{};
  std::array<param, N> params_ = null_params<N>();
};

}  // namespace pgorm::detail

namespace pgorm {

/// Encodes `args` as binary parameters $1, $2, ... typed by their codecs (std::nullopt is a
/// typed NULL), for code that calls connection::exec itself. The result owns the bytes;
/// params() are views into it, valid while it lives. A type without a codec is a compile
/// error naming it. Throws conversion_error when a value cannot be encoded (e.g. a date out
/// of range), naming the parameter.
///
/// Example:
/// ```
/// auto p = pgorm::encode_params(std::int64_t{42}, "a@b.c", std::nullopt);
/// auto res = conn.exec("select $1, $2", p.params(), pgorm::data_format::binary);
/// ```
template <class... Args>
auto encode_params(const Args&... args) {
  if constexpr ((pg_encodable<detail::param_type_t<Args>> && ...)) {
    return detail::encoded_params<sizeof...(Args)>(args...);
  } else {
    (detail::report_param_type<detail::param_type_t<Args>>(), ...);
    return detail::encoded_params<0>();
  }
}

}  // namespace pgorm

namespace pgorm::detail {

/// Room for N values of T, left uninitialized: its owner constructs each element before it
/// reads it. Copying copies the bytes (T is trivially copyable).
template <class T, std::size_t N>
union uninitialized_array {
  static_assert(std::is_trivially_copyable_v<T> && std::is_trivially_destructible_v<T>);
  // NOLINTNEXTLINE(cppcoreguidelines-pro-type-member-init): uninitialized on purpose
  uninitialized_array() noexcept {}
  T items[N];  // NOLINT(cppcoreguidelines-avoid-c-arrays)
};

/// A parameter's bytes that the protocol cannot carry: over 2 GiB (usage_error), or text with
/// a NUL byte (conversion_error: PostgreSQL text cannot hold one, and libpq would cut it
/// there). `n` is the 1-based parameter number. In src/types.cpp.
[[noreturn]] PGORM_API void throw_param_too_large(std::size_t n);
[[noreturn]] PGORM_API void throw_nul_in_text_param(std::size_t n, std::size_t offset);

/// A run-time number of encoded parameters, for statements whose shape is decided at run time
/// (dynamic filters) and for every builder's statement. add() appends $n+1.
///
/// The parameters are kept as libpq's Bind takes them (bind_arrays): a builder's values go from
/// their codecs straight into the arrays the connection sends, with nothing in between. The
/// first few live inline (no allocation for a typical statement). Text values are stored
/// NUL-terminated, as libpq reads them.
///
/// Example: `param_list p; p.add(42); if (name) p.add(*name); conn.exec(sql, p.params(), ...);`
class param_list {
 public:
  param_list() noexcept = default;
  param_list(const param_list& other) : bytes_(other.bytes_) { copy_arrays(other); }
  param_list(param_list&& other) noexcept : bytes_(std::move(other.bytes_)) { take_arrays(other); }
  param_list& operator=(const param_list& other) {
    if (this != &other) *this = param_list(other);
    return *this;
  }
  param_list& operator=(param_list&& other) noexcept {
    if (this != &other) {
      bytes_ = std::move(other.bytes_);
      release();
      take_arrays(other);
    }
    return *this;
  }
  ~param_list() {
    if (heap_ != nullptr) release();
  }

  /// Appends one parameter and returns its number (1-based), for writing "$n" into the SQL.
  template <class Arg>
  std::size_t add(const Arg& value) {
    using T = param_type_t<Arg>;
    if constexpr (pg_encodable<T>) {
      const param_slot slot = encode_param(static_cast<const T&>(value), bytes_, size() + 1);
      if constexpr (text_param_codec<T>) {
        if (!slot.null) terminate_text(slot);
      }
      push(slot);
    } else {
      report_param_type<T>();
    }
    return size();
  }

  /// Appends a parameter that is already encoded (its bytes are copied); returns its number.
  std::size_t add_encoded(const param& p) {
    const param_slot slot{bytes_.size(), p.bytes().size(), p.type(), p.is_null(), p.format()};
    if (!p.is_null()) bytes_.append(p.bytes());
    if (slot.format == data_format::text && !slot.null) terminate_text(slot);
    push(slot);
    return size();
  }

  /// The parameters as libpq's send calls take them; valid until the next add() or clear().
  [[nodiscard]] const bind_arrays& arrays() const noexcept { return arrays_; }

  /// The parameters as pgorm::param views, valid until the next add() or clear(). Built on
  /// first use (observers, error messages, executors other than pgorm's); sending them needs
  /// only arrays().
  [[nodiscard]] std::span<const param> params() const {
    const std::size_t n = size();
    if (n <= inline_count) {
      if (views_built_ != n) {
        for (std::size_t i = 0; i != n; ++i) std::construct_at(&inline_views_.items[i], view(i));
        views_built_ = n;
      }
      return {inline_views_.items, n};
    }
    if (views_built_ != n) {
      heap_views_.clear();
      heap_views_.reserve(n);
      for (std::size_t i = 0; i != n; ++i) heap_views_.push_back(view(i));
      views_built_ = n;
    }
    return heap_views_;
  }
  [[nodiscard]] std::size_t size() const noexcept {
    return static_cast<std::size_t>(arrays_.count);
  }
  [[nodiscard]] bool empty() const noexcept { return arrays_.count == 0; }
  void clear() noexcept {
    bytes_.clear();
    arrays_.count = 0;
    views_built_ = stale;
  }

 private:
  // The first few parameters live inline: a typical statement allocates nothing for them
  // (bench: point select, pgorm/libpq instructions).
  static constexpr std::size_t inline_count = 8;
  static constexpr std::size_t stale = static_cast<std::size_t>(-1);

  [[nodiscard]] param view(std::size_t i) const noexcept {
    const bind_arrays& a = arrays_;
    if (a.values[i] == nullptr) return param::null(a.types[i]);
    const auto n = static_cast<std::size_t>(a.lengths[i]);
    if (a.formats[i] == static_cast<int>(data_format::text)) {
      return param::text(std::string_view(a.values[i], n), a.types[i]);
    }
    return param::binary(std::span(reinterpret_cast<const std::byte*>(a.values[i]), n), a.types[i]);
  }

  // A text value is read by libpq up to its NUL: one inside is refused, one is put after it.
  void terminate_text(const param_slot& slot) {
    const char* text = bytes_.data() + slot.offset;
    if (const void* nul = std::memchr(text, '\0', slot.size); nul != nullptr) {
      bytes_.truncate(slot.offset);
      throw_nul_in_text_param(size() + 1,
                              static_cast<std::size_t>(static_cast<const char*>(nul) - text));
    }
    bytes_.push_back('\0');
  }

  // Inlined into every add(): the slot's fields are then mostly constants of the codec (a
  // fixed-size value's length, its format, its OID), stored without a call (bench: ~40
  // instructions per parameter out of line, TPC-B binds 11 per transaction).
  [[gnu::always_inline]] void push(const param_slot& slot) {
    if (slot.size > static_cast<std::size_t>(std::numeric_limits<int>::max())) [[unlikely]] {
      bytes_.truncate(slot.offset);
      throw_param_too_large(size() + 1);
    }
    const std::size_t i = size();
    if (i == capacity_) [[unlikely]]
      grow();
    bind_arrays& a = arrays_;
    offsets_[i] = slot.offset;
    a.lengths[i] = static_cast<int>(slot.size);
    a.formats[i] = static_cast<int>(slot.format);
    a.types[i] = slot.type;
    a.values[i] = slot.null ? nullptr : bytes_.data() + slot.offset;
    ++a.count;
    if (bytes_.data() != base_) [[unlikely]]
      repoint_moved();  // the bytes moved as they grew
  }

  // push()'s rare case out of line (push() is inlined into every add()).
  [[gnu::noinline]] void repoint_moved() noexcept { repoint(); }

  // The values point into bytes_: after it moved, again at the same offsets.
  void repoint() noexcept {
    base_ = bytes_.data();
    for (std::size_t i = 0, n = size(); i != n; ++i) {
      if (arrays_.values[i] != nullptr) arrays_.values[i] = base_ + offsets_[i];
    }
  }

  PGORM_API void grow();                                // src/types.cpp: doubles the arrays
  PGORM_API void copy_arrays(const param_list& other);  // src/types.cpp
  PGORM_API void take_arrays(param_list& other) noexcept;
  PGORM_API void release() noexcept;  // frees the heap arrays, back to the inline ones

  byte_buffer bytes_;
  const char* base_ = bytes_.data();  // where the values point into; bytes_ moves as it grows
  // Only the first count entries are written: a statement's few parameters cost no zeroing.
  bind_arrays arrays_{0, inline_.types, inline_.values, inline_.lengths, inline_.formats};
  std::size_t* offsets_ = inline_.offsets;  // each value's offset in bytes_
  std::size_t capacity_ = inline_count;
  std::byte* heap_ = nullptr;  // the arrays past inline_count entries, in one block
  // NOLINTBEGIN(cppcoreguidelines-pro-type-member-init,cppcoreguidelines-avoid-c-arrays)
  struct inline_arrays {  // one struct: a move copies it in one go
    const char* values[inline_count];
    std::size_t offsets[inline_count];
    int lengths[inline_count];
    int formats[inline_count];
    oid types[inline_count];
  } inline_;
  // NOLINTEND(cppcoreguidelines-pro-type-member-init,cppcoreguidelines-avoid-c-arrays)
  mutable std::size_t views_built_ = stale;  // how many views are up to date
  mutable uninitialized_array<param, inline_count> inline_views_;
  mutable std::vector<param> heap_views_;  // the views past inline_count parameters
};

}  // namespace pgorm::detail

namespace pgorm::detail {

/// The parameters of `list` for an executor (the runner passes a builder's this way).
inline param_pack pack(const param_list& list) noexcept { return {list, list.arrays()}; }

}  // namespace pgorm::detail
