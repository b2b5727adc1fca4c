// SPDX-License-Identifier: MIT
#pragma once

/// \file
/// Reading one result value into a C++ object, with the checks the row mapper relies on:
/// column type against the field's codec, binary format, NULL into a non-optional.

#include <optional>
#include <string>
#include <string_view>

#include "pgorm/connection.hpp"
#include "pgorm/detail/codec_support.hpp"
#include "pgorm/error.hpp"

namespace pgorm::detail {

/// Where a value comes from, for error messages: "users.email", or just "email" when the
/// column is computed (table empty).
struct field_context {
  std::string_view table;
  std::string_view column;
};

// src/types.cpp; all throw with the table and column of `ctx`.
[[noreturn]] void throw_type_mismatch(const field_context& ctx, oid type, std::string cpp_type);
[[noreturn]] void throw_unexpected_null(const field_context& ctx, std::string cpp_type);
[[noreturn]] void throw_not_binary(const field_context& ctx);
[[noreturn]] void rethrow_in_context(const conversion_error& error, const field_context& ctx,
                                     oid type, std::string cpp_type);

/// Checks once per result that column `col` can be read into T: binary format, and a type
/// that pg_type<T>::accepts(). Returns the column's type OID for read_value().
/// Throws usage_error (text format) or conversion_error (type mismatch).
///
/// Example: `const pgorm::oid t = check_field<std::int64_t>(res, 0, {"users", "id"});`
template <class T>
oid check_field(const result& res, int col, const field_context& ctx) {
  if constexpr (!has_pg_type<T>) {
    no_pg_type_for<T,
                   "pgorm: this C++ type cannot be read from a column; use a supported type or "
                   "specialize pgorm::pg_type<T> (see docs/types.md)">
        unsupported;  // the incomplete type above names T
    return 0;
  } else {
    const oid type = res.column_type(col);
    if (res.column_format(col) != data_format::binary) [[unlikely]]
      throw_not_binary(ctx);
    if (!pg_type<T>::accepts(type)) [[unlikely]]
      throw_type_mismatch(ctx, type, cpp_type_name<T>());
    return type;
  }
}

/// Decodes the value at (row, col) into `out`, whose column check_field<T>() has passed and
/// returned `type`. NULL resets a nullable T and throws unexpected_null otherwise; a decoding
/// failure (bad length, integer out of range) throws conversion_error naming the column.
///
/// Example: `for (int r = 0; r < res.rows(); ++r) read_value(res, r, 0, t, ids[r], ctx);`
template <class T>
void read_value(const result& res, int row, int col, oid type, T& out, const field_context& ctx) {
  const std::optional<std::string_view> value = res.get(row, col);
  if (!value) [[unlikely]] {
    if constexpr (pg_type<T>::nullable) {
      pg_type<T>::set_null(out);
      return;
    } else {
      throw_unexpected_null(ctx, cpp_type_name<T>());
    }
  }
  try {
    pg_type<T>::decode(*value, type, out);
  } catch (const conversion_error& e) {
    rethrow_in_context(e, ctx, type, cpp_type_name<T>());
  }
}

/// check_field() then read_value(): reads the value at (row, col) of a binary-format result
/// into `out`. The row mapper calls check_field() once per result and read_value() per row.
///
/// Example:
/// ```
/// auto res = conn.exec("select id from users", {}, pgorm::data_format::binary);
/// std::int64_t id;
/// pgorm::detail::read_field(res, 0, 0, id, {"users", "id"});
/// ```
template <class T>
void read_field(const result& res, int row, int col, T& out, const field_context& ctx) {
  if constexpr (!has_pg_type<T>) {
    no_pg_type_for<T,
                   "pgorm: this C++ type cannot be read from a column; use a supported type or "
                   "specialize pgorm::pg_type<T> (see docs/types.md)">
        unsupported;  // the incomplete type above names T
  } else {
    read_value(res, row, col, check_field<T>(res, col, ctx), out, ctx);
  }
}

}  // namespace pgorm::detail
