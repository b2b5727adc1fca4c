// SPDX-License-Identifier: MIT
#pragma once

/// \file
/// The codec protocol: how a C++ type travels to and from PostgreSQL. A codec is a
/// specialization of pgorm::pg_type<T>; the concepts here say what a specialization must
/// provide. This header is all a codec of one's own needs: it brings pgorm::byte_buffer and
/// pgorm::load_be / pgorm::store_be (pgorm/bytes.hpp), the OIDs (pgorm/oids.hpp) and
/// pgorm::conversion_error (pgorm/error.hpp). The built-in codecs are in pgorm/types.hpp.
/// See docs/types.md, "Adding a type".
///
/// A codec has these static members:
///
/// | member | meaning |
/// |---|---|
/// | `static constexpr pgorm::oid oid` | the parameter type OID; 0 when known only at run time |
/// | `static constexpr pgorm::oid array_oid` | OID of the array type (optional; 0 if unknown) |
/// | `static constexpr std::string_view sql_name` | the DDL spelling, e.g. "bigint" |
/// | `static constexpr bool nullable` | true only for std::optional<U> |
/// | `static void encode(const T&, pgorm::byte_buffer&)` | appends the binary form |
/// | `static bool accepts(pgorm::oid)` | can a column of this type be read into T? |
/// | `static void decode(std::string_view, pgorm::oid, T&)` | binary form -> T, in place |
/// | `static bool is_null(const T&)`, `static void set_null(T&)` | only when nullable |
///
/// Parameter-only types (std::string_view, const char*, std::span<const std::byte>) have no
/// accepts/decode: they satisfy pgorm::pg_encodable but not pgorm::has_pg_type.

#include <concepts>
#include <string_view>

#include "pgorm/bytes.hpp"  // IWYU pragma: export
#include "pgorm/error.hpp"  // IWYU pragma: export
#include "pgorm/fwd.hpp"    // IWYU pragma: export
#include "pgorm/oids.hpp"   // IWYU pragma: export

namespace pgorm {

/// T can be sent as a statement parameter: pg_type<T> has `oid`, `sql_name`, `nullable` and
/// `encode(const T&, byte_buffer&)`. Includes parameter-only types such as std::string_view.
///
/// Example: `static_assert(pgorm::pg_encodable<std::string_view>);`
template <class T>
concept pg_encodable = requires(const T& value, byte_buffer& out) {
  { pg_type<T>::oid } -> std::convertible_to<oid>;
  { pg_type<T>::sql_name } -> std::convertible_to<std::string_view>;
  { pg_type<T>::nullable } -> std::convertible_to<bool>;
  pg_type<T>::encode(value, out);
};

/// T can be read from a result column: pg_type<T> has `accepts(oid)` and
/// `decode(std::string_view bytes, oid type, T& out)`.
///
/// Example: `static_assert(!pgorm::pg_decodable<std::string_view>);  // would dangle`
template <class T>
concept pg_decodable = requires(std::string_view bytes, oid type, T& out) {
  { pg_type<T>::accepts(type) } -> std::same_as<bool>;
  pg_type<T>::decode(bytes, type, out);
};

/// T maps to a PostgreSQL type both ways, so it can be a column of a table: a built-in type
/// (see docs/types.md) or one you added by specializing pgorm::pg_type<T>.
///
/// Example: `static_assert(pgorm::has_pg_type<std::optional<std::int64_t>>);`
template <class T>
concept has_pg_type = pg_encodable<T> && pg_decodable<T>;

}  // namespace pgorm
