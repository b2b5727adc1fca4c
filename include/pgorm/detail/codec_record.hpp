// SPDX-License-Identifier: MIT
#pragma once

/// \file
/// Reading binary records (record_send's format: an int32 column count, then per column its
/// type OID, an int32 length, -1 for NULL, and the bytes), and decoding one binary value into a
/// C++ object. One reader for every record pgorm decodes: composite types (pgorm/composite.hpp)
/// and include()'s related rows (pgorm/query/include.hpp); one value decoder under the row
/// mapper's read_value() (pgorm/read_field.hpp) and every record field. Each caller says how
/// its errors read through an `Errors` object whose members are called only on error paths.

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "pgorm/codec.hpp"
#include "pgorm/detail/codec_support.hpp"

namespace pgorm::detail {

/// Decodes one binary value into `out`: a NULL (`null`) resets a nullable T and calls
/// `errors.template null<T>()` otherwise; a conversion_error of the codec goes to
/// `errors.template failed<T>(e, type)`. Both must not return. The caller has checked that
/// pg_type<T> accepts `type`.
///
/// Example: `decode_binary(false, bytes.data(), bytes.size(), oids::int8, id, errors);`
template <class T, class Errors>
[[gnu::always_inline]] inline void decode_binary(bool null, const char* data, std::size_t length,
                                                 oid type, T& out, const Errors& errors) {
  if (null) {
    if constexpr (pg_type<T>::nullable) {
      pg_type<T>::set_null(out);
      return;
    } else {
      errors.template null<T>();
    }
  }
  try {
    pg_type<T>::decode(std::string_view{data, length}, type, out);
  } catch (const conversion_error& e) {
    errors.template failed<T>(e, type);
  }
}

/// What a record is called in errors: its name (a table, a composite type) and its fields'
/// names, in order (columns past the end of `fields` are named by position only).
struct record_names {
  std::string_view record;
  std::span<const std::string_view> fields;
};

/// The position, and the name when known, of a record's field: "field 2 (city)".
inline std::string record_field_label(const record_names& names, std::size_t index) {
  std::string out = "field " + std::to_string(index + 1);
  if (index < names.fields.size()) {
    out += " (";
    out += names.fields[index];
    out += ')';
  }
  return out;
}

[[noreturn, gnu::cold, gnu::noinline]] inline void throw_record_count(const record_names& names,
                                                                      std::int64_t found,
                                                                      std::size_t expected) {
  if (found < 0) {
    throw_decode_error("a binary record of " + std::string(names.record) +
                       " is shorter than its field count");
  }
  throw_decode_error("a binary record with " + std::to_string(found) +
                     " fields cannot be read into " + std::string(names.record) + ", which has " +
                     std::to_string(expected));
}
[[noreturn, gnu::cold, gnu::noinline]] inline void throw_record_truncated(const record_names& names,
                                                                          std::size_t index) {
  throw_decode_error("a binary record of " + std::string(names.record) + " ends inside its " +
                     record_field_label(names, index));
}
[[noreturn, gnu::cold, gnu::noinline]] inline void throw_record_trailing(
    const record_names& names) {
  throw_decode_error("a binary record of " + std::string(names.record) +
                     " has bytes after its last field");
}

/// One column of a binary record: its type OID and its bytes (`null` for SQL NULL).
struct record_column {
  oid type;
  bool null;
  const char* data;
  std::size_t length;
};

/// Reads the columns of one binary record in order, checking every length against the bytes
/// left; errors (conversion_error) name the record and the field through `names`.
///
/// Example:
/// `record_reader r(bytes, 2, names); auto a = r.next(0); auto b = r.next(1); r.finish();`
class record_reader {
 public:
  /// Opens `bytes`, which must hold a record of `columns` columns.
  [[gnu::always_inline]] record_reader(std::string_view bytes, std::size_t columns,
                                       const record_names& names)
      : at_(bytes.data()), end_(bytes.data() + bytes.size()), names_(&names) {
    if (bytes.size() < 4) [[unlikely]]
      throw_record_count(names, -1, columns);
    at_ += 4;
    const auto count = load_be<std::int32_t>(bytes.data());
    if (count < 0 || static_cast<std::size_t>(count) != columns) [[unlikely]]
      throw_record_count(names, count, columns);
  }

  /// The next column, the `index`-th (for errors).
  [[gnu::always_inline]] record_column next(std::size_t index) {
    if (end_ - at_ < 8) [[unlikely]]
      throw_record_truncated(*names_, index);
    const auto length = load_be<std::int32_t>(at_ + 4);
    record_column c{load_be<oid>(at_), length < 0, at_ + 8, 0};
    at_ += 8;
    if (length >= 0) {
      if (end_ - at_ < length) [[unlikely]]
        throw_record_truncated(*names_, index);
      c.length = static_cast<std::size_t>(length);
      at_ += length;
    }
    return c;
  }

  /// Checks that the record has no bytes after the columns read.
  [[gnu::always_inline]] void finish() const {
    if (at_ != end_) [[unlikely]]
      throw_record_trailing(*names_);
  }

  /// The record's names, for the caller's own errors.
  [[nodiscard]] const record_names& names() const noexcept { return *names_; }

 private:
  const char* at_;
  const char* end_;
  const record_names* names_;
};

/// Reads column `c` of a record into `out`: NULL, pg_type<F>::accepts() and the decoding, as
/// decode_binary() with `errors`, which also has `errors.template mismatch<F>(type)` for a
/// column type F does not accept.
template <class F, class Errors>
[[gnu::always_inline]] inline void decode_record_field(const record_column& c, F& out,
                                                       const Errors& errors) {
  if (!c.null && !pg_type<F>::accepts(c.type)) [[unlikely]]
    errors.template mismatch<F>(c.type);
  decode_binary(c.null, c.data, c.length, c.type, out, errors);
}

}  // namespace pgorm::detail
