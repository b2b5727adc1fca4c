// SPDX-License-Identifier: MIT
#pragma once

/// \file
/// Codec for pgorm::numeric. Wire format (numeric_send): int16 ndigits, int16 weight, int16
/// sign (0x0000 +, 0x4000 -, 0xC000 NaN, 0xD000 +Infinity, 0xF000 -Infinity), int16 dscale,
/// then ndigits int16 base-10000 digits, most significant first; weight is the power of 10000
/// of the first digit. The conversions live in src/types.cpp.

#include <string>
#include <string_view>

#include "pgorm/detail/codec_support.hpp"
#include "pgorm/export.hpp"
#include "pgorm/numeric.hpp"

namespace pgorm::detail {

/// Appends the binary numeric form of `canonical` (numeric::str() text).
PGORM_API void numeric_text_to_binary(std::string_view canonical, byte_buffer& out);
/// Replaces `out` with the canonical text of the binary numeric `bytes`; throws
/// conversion_error on malformed input.
PGORM_API void numeric_binary_to_text(std::string_view bytes, std::string& out);

}  // namespace pgorm::detail

namespace pgorm {

/// pgorm::numeric <-> numeric, every digit and the display scale kept.
///
/// Example: `pgorm::numeric total{"1234567890123456789012345678901234567890.5"};`
template <>
struct pg_type<numeric> {
  static constexpr pgorm::oid oid = oids::numeric;
  static constexpr pgorm::oid array_oid = oids::numeric_array;
  static constexpr std::string_view sql_name = "numeric";
  static constexpr bool nullable = false;

  static constexpr bool accepts(pgorm::oid type) noexcept { return type == oids::numeric; }
  static void encode(const numeric& value, byte_buffer& out) {
    detail::numeric_text_to_binary(value.str(), out);
  }
  static void decode(std::string_view bytes, pgorm::oid, numeric& out) {
    detail::numeric_binary_to_text(bytes, out.canonical_text());
  }
};

}  // namespace pgorm
