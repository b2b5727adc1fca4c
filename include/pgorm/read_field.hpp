// SPDX-License-Identifier: MIT
#pragma once

/// \file
/// pgorm::read_field: reading one value of a binary-format result into a C++ object, with the
/// checks the row mapper relies on (column type against the field's codec, binary format, NULL
/// into a non-optional) and errors that name the table and column. The row mapper's own steps,
/// check_field() once per result and read_value() per row, are here too, in pgorm::detail.

#include <optional>
#include <string>
#include <string_view>

#include "pgorm/codec.hpp"
#include "pgorm/detail/codec_record.hpp"
#include "pgorm/detail/codec_support.hpp"
#include "pgorm/error.hpp"
#include "pgorm/export.hpp"
#include "pgorm/result.hpp"

namespace pgorm {

/// Where a value comes from, for error messages: "users.email", or just "email" when the
/// column is computed (table empty). An empty column makes read_field() take the result's
/// column name.
///
/// Example: `pgorm::field_context ctx{"users", "email"};`
struct field_context {
  std::string_view table;   ///< the table, or "" for a computed column
  std::string_view column;  ///< the column, or "" for the result's own column name
};

}  // namespace pgorm

namespace pgorm::detail {

// src/types.cpp; all throw with the table and column of `ctx`.
[[noreturn]] PGORM_API void throw_type_mismatch(const field_context& ctx, oid type,
                                                std::string cpp_type);
[[noreturn]] PGORM_API void throw_unexpected_null(const field_context& ctx, std::string cpp_type);
[[noreturn]] PGORM_API void throw_not_binary(const field_context& ctx);
[[noreturn]] PGORM_API void rethrow_in_context(const conversion_error& error,
                                               const field_context& ctx, oid type,
                                               std::string cpp_type);

/// `ctx`, with the column's name from the result (or from a row source with the result's
/// column names, see read_value()) when `ctx` has none (a single value read by position). For
/// error messages only.
template <class Src>
field_context named_context(const field_context& ctx, const Src& res, int col) {
  if (!ctx.column.empty()) return ctx;
  return {ctx.table, res.column_name(col)};
}

/// Checks once per result that column `col` can be read into T: binary format, and a type
/// that pg_type<T>::accepts(). Returns the column's type OID for read_value().
/// Throws usage_error (text format) or conversion_error (type mismatch).
///
/// Example: `const pgorm::oid t = check_field<std::int64_t>(res, 0, {"users", "id"});`
template <class T>
oid check_field(const result& res, int col, const field_context& ctx) {
  if constexpr (!has_pg_type<T>) {
#if defined(__clang__)
    // clang shortens a long string template argument in its message: this static_assert
    // prints T (in its requirement) and the whole message instead.
    static_assert(always_false_v<T>,
                  "pgorm: this C++ type cannot be read from a column; use a supported type or "
                  "specialize pgorm::pg_type<T> (see docs/types.md)");
#else
    no_pg_type_for<T,
                   "pgorm: this C++ type cannot be read from a column; use a supported type or "
                   "specialize pgorm::pg_type<T> (see docs/types.md)">
        unsupported;  // the incomplete type above names T
#endif
    return 0;
  } else {
    const oid type = res.column_type(col);
    if (res.column_format(col) != data_format::binary) [[unlikely]]
      throw_not_binary(named_context(ctx, res, col));
    if (!pg_type<T>::accepts(type)) [[unlikely]]
      throw_type_mismatch(named_context(ctx, res, col), type, cpp_type_name<T>());
    return type;
  }
}

// The error paths of read_value(), out of line so that the per-value code stays small.
template <class T, class Src>
[[noreturn, gnu::cold, gnu::noinline]] void throw_null_value(const field_context& ctx,
                                                             const Src& res, int col) {
  throw_unexpected_null(named_context(ctx, res, col), cpp_type_name<T>());
}
template <class T, class Src>
[[noreturn, gnu::cold, gnu::noinline]] void throw_decode_error(const conversion_error& e,
                                                               const field_context& ctx,
                                                               const Src& res, int col, oid type) {
  rethrow_in_context(e, named_context(ctx, res, col), type, cpp_type_name<T>());
}

/// The error paths of read_value(), for decode_binary(): they name the column of the result.
/// Inlined, so that their operands stay scalars of the caller: called through `this` out of
/// line, the object was stored to the stack before every value's libpq calls. The column type
/// is read through a reference, on the error path only (a copy was kept live across the
/// decode for it).
template <class Src>
struct result_value_errors {
  const field_context& ctx;
  const Src& res;
  int col;
  const oid& type;

  template <class T>
  [[noreturn, gnu::always_inline]] void null() const {
    throw_null_value<T>(ctx, res, col);
  }
  template <class T>
  [[noreturn, gnu::always_inline]] void failed(const conversion_error& e, oid /*type*/) const {
    throw_decode_error<T>(e, ctx, res, col, type);
  }
};

/// Decodes the value at (row, col) into `out`, whose column check_field<T>() has passed and
/// returned `type`. NULL resets a nullable T and throws unexpected_null otherwise; a decoding
/// failure (bad length, integer out of range) throws conversion_error naming the column.
/// `row` and `col` must be in range: the row reader checks them once per row and per result.
///
/// `res` is the result, or a copy of its values with the same unchecked accessors
/// (length_unchecked, is_null_unchecked, data_unchecked; column_name for errors about a value
/// read by position): a pipeline keeps its rows so (pipeline.hpp, pipeline_rows).
///
/// Example: `for (int r = 0; r < res.rows(); ++r) read_value(res, r, 0, t, ids[r], ctx);`
template <class T, class Src>
[[gnu::always_inline]] inline void read_value(const Src& res, int row, int col, const oid& type,
                                              T& out, const field_context& ctx) {
  // A NULL has length 0, so libpq is asked about NULL only for empty values: two calls per
  // value, as hand-written code makes, instead of three.
  const int length = res.length_unchecked(row, col);
  const bool null = length == 0 && res.is_null_unchecked(row, col);
  const char* data = res.data_unchecked(row, col);
  decode_binary(null, data, static_cast<std::size_t>(length), type, out,
                result_value_errors<Src>{ctx, res, col, type});
}

}  // namespace pgorm::detail

namespace pgorm {

/// Reads the value at (row, col) of a binary-format result into `out`, which pg_type<T>
/// decodes in place (reusing its storage). `ctx` names the value in errors. Throws
/// usage_error (a text-format result, a row or column out of range), conversion_error (a
/// column type T does not accept, bad bytes, an integer out of T's range) and
/// unexpected_null (NULL into a T that is not nullable). A T without a codec is a compile
/// error naming it.
///
/// Example:
/// ```
/// auto res = conn.exec("select id from users", {}, pgorm::data_format::binary);
/// std::int64_t id;
/// pgorm::read_field(res, 0, 0, id, {"users", "id"});
/// ```
template <class T>
void read_field(const result& res, int row, int col, T& out, const field_context& ctx) {
  if constexpr (!has_pg_type<T>) {
#if defined(__clang__)
    // clang shortens a long string template argument in its message: this static_assert
    // prints T (in its requirement) and the whole message instead.
    static_assert(detail::always_false_v<T>,
                  "pgorm: this C++ type cannot be read from a column; use a supported type or "
                  "specialize pgorm::pg_type<T> (see docs/types.md)");
#else
    detail::no_pg_type_for<T,
                           "pgorm: this C++ type cannot be read from a column; use a supported "
                           "type or specialize pgorm::pg_type<T> (see docs/types.md)">
        unsupported;  // the incomplete type above names T
#endif
  } else {
    const oid type = detail::check_field<T>(res, col, ctx);  // checks col
    res.check_row(row);
    detail::read_value(res, row, col, type, out, ctx);
  }
}

}  // namespace pgorm
