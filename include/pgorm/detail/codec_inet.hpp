// SPDX-License-Identifier: MIT
#pragma once

/// \file
/// Codecs for pgorm::inet and pgorm::cidr. Wire format (inet_send): 1 byte family (2 = IPv4,
/// 3 = IPv6: PGSQL_AF_INET, PGSQL_AF_INET6), 1 byte prefix length, 1 byte is-cidr flag, 1 byte
/// address length (4 or 16), then the address bytes in network order.

#include <cstdint>
#include <string_view>

#include "pgorm/detail/codec_support.hpp"
#include "pgorm/export.hpp"
#include "pgorm/inet.hpp"

namespace pgorm::detail {

/// The fields of a binary inet/cidr value, checked: family, lengths, prefix, and for a cidr
/// (`must_be_network`) no host bits. Throws conversion_error. In src/inet.cpp.
PGORM_API void decode_inet(std::string_view bytes, bool must_be_network, ip_family& family,
                           std::array<std::uint8_t, 16>& address, std::uint8_t& prefix);
/// Appends the binary form; throws conversion_error (via throw_encode_error) on a prefix longer
/// than the family allows, or a cidr with host bits set. In src/inet.cpp.
PGORM_API void encode_inet(ip_family family, const std::array<std::uint8_t, 16>& address,
                           std::uint8_t prefix, bool is_cidr, byte_buffer& out);

}  // namespace pgorm::detail

namespace pgorm {

/// pgorm::inet <-> inet (also reads cidr columns).
///
/// Example: `pgorm::inet client = pgorm::inet::parse("203.0.113.7");`
template <>
struct pg_type<inet> {
  static constexpr pgorm::oid oid = oids::inet;
  static constexpr pgorm::oid array_oid = oids::inet_array;
  static constexpr std::string_view sql_name = "inet";
  static constexpr bool nullable = false;

  static constexpr bool accepts(pgorm::oid type) noexcept {
    return type == oids::inet || type == oids::cidr;
  }
  static void encode(const inet& value, byte_buffer& out) {
    detail::encode_inet(value.family, value.bytes, value.prefix, false, out);
  }
  static void decode(std::string_view bytes, pgorm::oid, inet& out) {
    detail::decode_inet(bytes, false, out.family, out.bytes, out.prefix);
  }
};

/// pgorm::cidr <-> cidr.
///
/// Example: `pgorm::cidr office = pgorm::cidr::parse("192.168.10.0/24");`
template <>
struct pg_type<cidr> {
  static constexpr pgorm::oid oid = oids::cidr;
  static constexpr pgorm::oid array_oid = oids::cidr_array;
  static constexpr std::string_view sql_name = "cidr";
  static constexpr bool nullable = false;

  static constexpr bool accepts(pgorm::oid type) noexcept { return type == oids::cidr; }
  static void encode(const cidr& value, byte_buffer& out) {
    detail::encode_inet(value.family, value.bytes, value.prefix, true, out);
  }
  static void decode(std::string_view bytes, pgorm::oid, cidr& out) {
    detail::decode_inet(bytes, true, out.family, out.bytes, out.prefix);
  }
};

}  // namespace pgorm
