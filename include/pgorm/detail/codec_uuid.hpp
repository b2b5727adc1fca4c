// SPDX-License-Identifier: MIT
#pragma once

/// \file
/// Codec for pgorm::uuid: the wire format (uuid_send) is the 16 bytes.

#include <cstring>
#include <string_view>

#include "pgorm/detail/codec_support.hpp"
#include "pgorm/uuid.hpp"

namespace pgorm {

/// pgorm::uuid <-> uuid.
///
/// Example: `pgorm::uuid id = pgorm::uuid::parse("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11");`
template <>
struct pg_type<uuid> {
  static constexpr pgorm::oid oid = oids::uuid;
  static constexpr pgorm::oid array_oid = oids::uuid_array;
  static constexpr std::string_view sql_name = "uuid";
  static constexpr bool nullable = false;

  static constexpr bool accepts(pgorm::oid type) noexcept { return type == oids::uuid; }
  static void encode(const uuid& value, byte_buffer& out) {
    out.append(value.bytes.data(), value.bytes.size());
  }
  static void decode(std::string_view bytes, pgorm::oid, uuid& out) {
    if (bytes.size() != 16) [[unlikely]]
      detail::throw_bad_length("uuid", 16, bytes.size());
    std::memcpy(out.bytes.data(), bytes.data(), 16);
  }
};

}  // namespace pgorm
