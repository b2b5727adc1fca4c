// SPDX-License-Identifier: MIT
#pragma once

/// \file
/// Codec for pgorm::tsvector. Wire format (tsvectorsend): int32 number of lexemes, then per
/// lexeme its bytes ending in a NUL byte, uint16 number of positions, and per position a
/// uint16 holding the weight in its top two bits (3 = A, 2 = B, 1 = C, 0 = D) and the position
/// (1 to 16383) in the other fourteen.

#include <string_view>

#include "pgorm/detail/codec_support.hpp"
#include "pgorm/export.hpp"
#include "pgorm/tsvector.hpp"

namespace pgorm::detail {

/// Appends the binary form; throws conversion_error (via throw_encode_error) on an empty or
/// NUL-holding word, too long a word, too many positions, a position out of 1..16383, a weight
/// other than A-D, or positions that do not increase. In src/tsvector.cpp.
PGORM_API void encode_tsvector(const tsvector& value, byte_buffer& out);
/// Reads the binary form; throws conversion_error on truncated or malformed input. In
/// src/tsvector.cpp.
PGORM_API void decode_tsvector(std::string_view bytes, tsvector& out);

}  // namespace pgorm::detail

namespace pgorm {

/// pgorm::tsvector <-> tsvector.
///
/// Example: `struct Post { std::int64_t id; std::string body; pgorm::tsvector search; };`
template <>
struct pg_type<tsvector> {
  static constexpr pgorm::oid oid = oids::tsvector;
  static constexpr pgorm::oid array_oid = oids::tsvector_array;
  static constexpr std::string_view sql_name = "tsvector";
  static constexpr bool nullable = false;

  static constexpr bool accepts(pgorm::oid type) noexcept { return type == oids::tsvector; }
  static void encode(const tsvector& value, byte_buffer& out) {
    detail::encode_tsvector(value, out);
  }
  static void decode(std::string_view bytes, pgorm::oid, tsvector& out) {
    detail::decode_tsvector(bytes, out);
  }
};

}  // namespace pgorm
