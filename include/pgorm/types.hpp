// SPDX-License-Identifier: MIT
#pragma once

/// \file
/// The codecs: how each C++ type travels to and from PostgreSQL, in the binary wire format
/// both ways. See docs/types.md for the table of mappings and for adding a type.
///
/// A codec is a specialization of pgorm::pg_type<T> with these members:
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
///
/// Example:
/// ```
/// static_assert(pgorm::has_pg_type<std::optional<pgorm::timestamptz>>);
/// static_assert(pgorm::pg_type<std::vector<std::int64_t>>::sql_name == "bigint[]");
/// ```

#include "pgorm/detail/byte_buffer.hpp"     // IWYU pragma: export
#include "pgorm/detail/codec_array.hpp"     // IWYU pragma: export
#include "pgorm/detail/codec_enum.hpp"      // IWYU pragma: export
#include "pgorm/detail/codec_numeric.hpp"   // IWYU pragma: export
#include "pgorm/detail/codec_optional.hpp"  // IWYU pragma: export
#include "pgorm/detail/codec_scalar.hpp"    // IWYU pragma: export
#include "pgorm/detail/codec_support.hpp"   // IWYU pragma: export
#include "pgorm/detail/codec_text.hpp"      // IWYU pragma: export
#include "pgorm/detail/codec_time.hpp"      // IWYU pragma: export
#include "pgorm/detail/codec_uuid.hpp"      // IWYU pragma: export
#include "pgorm/detail/oids.hpp"            // IWYU pragma: export
#include "pgorm/detail/read_field.hpp"      // IWYU pragma: export
#include "pgorm/fwd.hpp"
#include "pgorm/json.hpp"
#include "pgorm/numeric.hpp"
#include "pgorm/uuid.hpp"

namespace pgorm {

// Conformance of the built-in codecs, next to their definitions (STYLE.md 4.4).
static_assert(has_pg_type<bool> && has_pg_type<std::int16_t> && has_pg_type<std::int32_t> &&
              has_pg_type<std::int64_t> && has_pg_type<float> && has_pg_type<double>);
static_assert(has_pg_type<std::string> && has_pg_type<std::vector<std::byte>> &&
              has_pg_type<json> && has_pg_type<jsonb> && has_pg_type<uuid> && has_pg_type<numeric>);
static_assert(has_pg_type<timestamptz> && has_pg_type<timestamp> && has_pg_type<date> &&
              has_pg_type<time_of_day> && has_pg_type<interval>);

}  // namespace pgorm
