// SPDX-License-Identifier: MIT
#pragma once

/// \file
/// Every type mapping at once: the codec protocol (pgorm/codec.hpp), the value types
/// (pgorm/time.hpp, pgorm/numeric.hpp, pgorm/uuid.hpp, pgorm/json.hpp, pgorm/inet.hpp,
/// pgorm/range.hpp), the enum opt-in (pgorm/enum.hpp), the OIDs (pgorm/oids.hpp),
/// pgorm::read_field (pgorm/read_field.hpp) and the built-in codecs, which travel in PostgreSQL's
/// binary wire format both ways. See docs/types.md for the table of mappings and for adding a type.
///
/// Example:
/// ```
/// static_assert(pgorm::has_pg_type<std::optional<pgorm::timestamptz>>);
/// static_assert(pgorm::pg_type<std::vector<std::int64_t>>::sql_name == "bigint[]");
/// ```

// The built-in codecs, one header each (docs/types.md, "Adding a built-in type").
#include "pgorm/detail/codec_array.hpp"     // IWYU pragma: export
#include "pgorm/detail/codec_enum.hpp"      // IWYU pragma: export
#include "pgorm/detail/codec_inet.hpp"      // IWYU pragma: export
#include "pgorm/detail/codec_numeric.hpp"   // IWYU pragma: export
#include "pgorm/detail/codec_optional.hpp"  // IWYU pragma: export
#include "pgorm/detail/codec_range.hpp"     // IWYU pragma: export
#include "pgorm/detail/codec_scalar.hpp"    // IWYU pragma: export
#include "pgorm/detail/codec_text.hpp"      // IWYU pragma: export
#include "pgorm/detail/codec_time.hpp"      // IWYU pragma: export
#include "pgorm/detail/codec_tsvector.hpp"  // IWYU pragma: export
#include "pgorm/detail/codec_uuid.hpp"      // IWYU pragma: export
// What users name.
#include "pgorm/bytes.hpp"       // IWYU pragma: export
#include "pgorm/codec.hpp"       // IWYU pragma: export
#include "pgorm/defaulted.hpp"   // IWYU pragma: export
#include "pgorm/enum.hpp"        // IWYU pragma: export
#include "pgorm/fwd.hpp"         // IWYU pragma: export
#include "pgorm/inet.hpp"        // IWYU pragma: export
#include "pgorm/json.hpp"        // IWYU pragma: export
#include "pgorm/numeric.hpp"     // IWYU pragma: export
#include "pgorm/oids.hpp"        // IWYU pragma: export
#include "pgorm/range.hpp"       // IWYU pragma: export
#include "pgorm/read_field.hpp"  // IWYU pragma: export
#include "pgorm/time.hpp"        // IWYU pragma: export
#include "pgorm/tsvector.hpp"    // IWYU pragma: export
#include "pgorm/uuid.hpp"        // IWYU pragma: export

namespace pgorm {

// Conformance of the built-in codecs, next to their definitions (STYLE.md 4.4).
static_assert(has_pg_type<bool> && has_pg_type<std::int16_t> && has_pg_type<std::int32_t> &&
              has_pg_type<std::int64_t> && has_pg_type<float> && has_pg_type<double>);
static_assert(has_pg_type<std::string> && has_pg_type<std::vector<std::byte>> &&
              has_pg_type<json> && has_pg_type<jsonb> && has_pg_type<uuid> && has_pg_type<numeric>);
static_assert(has_pg_type<timestamptz> && has_pg_type<timestamp> && has_pg_type<date> &&
              has_pg_type<time_of_day> && has_pg_type<interval>);
static_assert(has_pg_type<inet> && has_pg_type<cidr> && has_pg_type<tsvector>);
static_assert(has_pg_type<range<std::int32_t>> && has_pg_type<range<std::int64_t>> &&
              has_pg_type<range<numeric>> && has_pg_type<range<timestamp>> &&
              has_pg_type<range<timestamptz>> && has_pg_type<range<date>>);

// Registration: each built-in codec's OID and array OID are a row of oids::builtin_types.
static_assert(detail::registered_builtin<bool> && detail::registered_builtin<std::int16_t> &&
              detail::registered_builtin<std::int32_t> &&
              detail::registered_builtin<std::int64_t> && detail::registered_builtin<float> &&
              detail::registered_builtin<double>);
static_assert(detail::registered_builtin<std::string> &&
              detail::registered_builtin<std::vector<std::byte>> &&
              detail::registered_builtin<json> && detail::registered_builtin<jsonb> &&
              detail::registered_builtin<uuid> && detail::registered_builtin<numeric>);
static_assert(detail::registered_builtin<timestamptz> && detail::registered_builtin<timestamp> &&
              detail::registered_builtin<date> && detail::registered_builtin<time_of_day> &&
              detail::registered_builtin<interval>);
static_assert(detail::registered_builtin<inet> && detail::registered_builtin<cidr> &&
              detail::registered_builtin<tsvector>);
static_assert(detail::registered_builtin<range<std::int32_t>> &&
              detail::registered_builtin<range<std::int64_t>> &&
              detail::registered_builtin<range<numeric>> &&
              detail::registered_builtin<range<timestamp>> &&
              detail::registered_builtin<range<timestamptz>> &&
              detail::registered_builtin<range<date>>);

}  // namespace pgorm
