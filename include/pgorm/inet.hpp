// SPDX-License-Identifier: MIT
#pragma once

/// \file
/// pgorm::inet and pgorm::cidr, the C++ side of PostgreSQL's network address types: an IPv4 or
/// IPv6 address with a prefix length (netmask). inet is a host address with an optional subnet
/// (192.168.0.1/24); cidr is a network, whose bits right of the prefix are all zero
/// (192.168.0.0/24).

#include <array>
#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "pgorm/export.hpp"

namespace pgorm {

/// The address family of an inet or cidr value.
enum class ip_family : std::uint8_t {
  v4,  ///< IPv4: 4 address bytes, prefix 0 to 32
  v6,  ///< IPv6: 16 address bytes, prefix 0 to 128
};

/// An IP address with a prefix length, as PostgreSQL's inet: `192.168.0.1`, `10.1.2.3/8`,
/// `::1`, `2001:db8::5/64`. The host bits right of the prefix may be set.
///
/// Parsing accepts an IPv4 dotted quad or an IPv6 address (any form inet_pton takes, with an
/// embedded IPv4 tail), optionally followed by `/prefix`; without one, the prefix is the full
/// length. to_string() writes what PostgreSQL's inet output writes: the address, then `/prefix`
/// only when it is shorter than the full length.
///
/// Example:
/// ```
/// auto a = pgorm::inet::parse("2001:db8::5/64");
/// assert(a.family == pgorm::ip_family::v6 && a.prefix == 64);
/// assert(a.to_string() == "2001:db8::5/64");
/// ```
struct PGORM_API inet {
  ip_family family = ip_family::v4;      ///< IPv4 or IPv6
  std::array<std::uint8_t, 16> bytes{};  ///< the address, network order; IPv4 uses the first 4
  std::uint8_t prefix = 32;              ///< the prefix length, at most 32 (IPv4) or 128 (IPv6)

  /// Parses the text form, or returns std::nullopt when `text` is not an address.
  [[nodiscard]] static std::optional<inet> try_parse(std::string_view text) noexcept;
  /// Parses the text form. Throws pgorm::usage_error when `text` is not an address.
  [[nodiscard]] static inet parse(std::string_view text);

  /// The text form, e.g. "192.168.0.1", "10.1.2.3/8", "::1".
  [[nodiscard]] std::string to_string() const;

  /// 4 for IPv4, 16 for IPv6.
  [[nodiscard]] constexpr std::size_t address_size() const noexcept {
    return family == ip_family::v4 ? 4 : 16;
  }
  /// 32 for IPv4, 128 for IPv6.
  [[nodiscard]] constexpr unsigned max_prefix() const noexcept {
    return family == ip_family::v4 ? 32U : 128U;
  }

  friend constexpr bool operator==(const inet&, const inet&) noexcept = default;
  friend constexpr auto operator<=>(const inet&, const inet&) noexcept = default;
};

/// A network, as PostgreSQL's cidr: an address whose bits right of the prefix are zero,
/// e.g. `192.168.0.0/24`, `2001:db8::/32`, `0.0.0.0/0`, `::/0`.
///
/// Parsing is inet's, and refuses a value with host bits set ("192.168.0.1/24"), as the server
/// does. to_string() always writes the prefix.
///
/// Example:
/// ```
/// auto net = pgorm::cidr::parse("10.0.0.0/8");
/// assert(net.to_string() == "10.0.0.0/8");
/// assert(!pgorm::cidr::try_parse("10.0.0.1/8"));
/// ```
struct PGORM_API cidr {
  ip_family family = ip_family::v4;      ///< IPv4 or IPv6
  std::array<std::uint8_t, 16> bytes{};  ///< the network address; IPv4 uses the first 4
  std::uint8_t prefix = 32;              ///< the prefix length

  /// Parses the text form, or returns std::nullopt when `text` is not a network (or has bits
  /// set right of the prefix).
  [[nodiscard]] static std::optional<cidr> try_parse(std::string_view text) noexcept;
  /// Parses the text form. Throws pgorm::usage_error when `text` is not a network.
  [[nodiscard]] static cidr parse(std::string_view text);

  /// The text form, always with the prefix, e.g. "10.0.0.0/8", "::/0".
  [[nodiscard]] std::string to_string() const;

  /// True when no bit right of the prefix is set (always true of a parsed or decoded value).
  [[nodiscard]] bool is_valid() const noexcept;

  friend constexpr bool operator==(const cidr&, const cidr&) noexcept = default;
  friend constexpr auto operator<=>(const cidr&, const cidr&) noexcept = default;
};

}  // namespace pgorm
