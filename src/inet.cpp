// SPDX-License-Identifier: MIT
// pgorm::inet and pgorm::cidr: text forms (through inet_pton/inet_ntop) and the binary wire
// format of inet_send/inet_recv (src/backend/utils/adt/network.c).
#include "pgorm/inet.hpp"

#include <charconv>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>

#include <arpa/inet.h>
#include <fmt/format.h>
#include <sys/socket.h>

#include "pgorm/detail/codec_inet.hpp"
#include "pgorm/error.hpp"

namespace pgorm {

namespace {

// PostgreSQL's own family codes on the wire (utils/inet.h): AF_INET + 0 and AF_INET + 1.
constexpr std::uint8_t pgsql_af_inet = 2;
constexpr std::uint8_t pgsql_af_inet6 = 3;

struct parsed_address {
  ip_family family = ip_family::v4;
  std::array<std::uint8_t, 16> bytes{};
  std::uint8_t prefix = 32;
};

std::optional<parsed_address> parse_address(std::string_view text) noexcept {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  std::string_view address = text;
  std::optional<unsigned> prefix;
  if (const std::size_t slash = text.find('/'); slash != std::string_view::npos) {
    address = text.substr(0, slash);
    const std::string_view digits = text.substr(slash + 1);
    unsigned value = 0;
    const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
    if (digits.empty() || ec != std::errc{} || end != digits.data() + digits.size()) {
      return std::nullopt;
    }
    prefix = value;
  }
  if (address.empty() || address.size() > 45) return std::nullopt;  // INET6_ADDRSTRLEN - 1
  char buffer[64]{};
  std::memcpy(buffer, address.data(), address.size());
  parsed_address out;
  if (address.find(':') != std::string_view::npos) {
    if (inet_pton(AF_INET6, buffer, out.bytes.data()) != 1) return std::nullopt;
    out.family = ip_family::v6;
    out.prefix = 128;
  } else {
    if (inet_pton(AF_INET, buffer, out.bytes.data()) != 1) return std::nullopt;
  }
  if (prefix) {
    if (*prefix > out.prefix) return std::nullopt;
    out.prefix = static_cast<std::uint8_t>(*prefix);
  }
  return out;
}

std::string format_address(ip_family family, const std::array<std::uint8_t, 16>& bytes) {
  char buffer[64]{};
  const int af = family == ip_family::v4 ? AF_INET : AF_INET6;
  if (inet_ntop(af, bytes.data(), buffer, sizeof buffer) == nullptr) return "?";
  return buffer;
}

bool host_bits_zero(ip_family family, const std::array<std::uint8_t, 16>& bytes,
                    unsigned prefix) noexcept {
  const unsigned size = family == ip_family::v4 ? 4 : 16;
  for (unsigned i = 0; i != size; ++i) {
    const unsigned first_bit = i * 8;
    std::uint8_t mask = 0xff;  // the host bits of byte i
    if (first_bit + 8 <= prefix) {
      mask = 0;
    } else if (first_bit < prefix) {
      mask = static_cast<std::uint8_t>(0xffU >> (prefix - first_bit));
    }
    if ((bytes[i] & mask) != 0) return false;
  }
  return true;
}

}  // namespace

std::optional<inet> inet::try_parse(std::string_view text) noexcept {
  const auto p = parse_address(text);
  if (!p) return std::nullopt;
  return inet{p->family, p->bytes, p->prefix};
}

inet inet::parse(std::string_view text) {
  if (auto parsed = try_parse(text)) return *parsed;
  throw usage_error(fmt::format(
      "pgorm: \"{}\" is not an inet value; write an IPv4 or IPv6 address with an optional "
      "/prefix, e.g. 192.168.0.1/24 or 2001:db8::1",
      text.substr(0, 64)));
}

std::string inet::to_string() const {
  std::string out = format_address(family, bytes);
  if (prefix != max_prefix()) out += fmt::format("/{}", prefix);
  return out;
}

std::optional<cidr> cidr::try_parse(std::string_view text) noexcept {
  const auto p = parse_address(text);
  if (!p || !host_bits_zero(p->family, p->bytes, p->prefix)) return std::nullopt;
  return cidr{p->family, p->bytes, p->prefix};
}

cidr cidr::parse(std::string_view text) {
  if (auto parsed = try_parse(text)) return *parsed;
  throw usage_error(fmt::format(
      "pgorm: \"{}\" is not a cidr value; write a network address whose bits right of the "
      "prefix are zero, e.g. 192.168.0.0/24 or 2001:db8::/32",
      text.substr(0, 64)));
}

std::string cidr::to_string() const {
  return fmt::format("{}/{}", format_address(family, bytes), prefix);
}

bool cidr::is_valid() const noexcept {
  const unsigned max = family == ip_family::v4 ? 32U : 128U;
  return prefix <= max && host_bits_zero(family, bytes, prefix);
}

namespace detail {

void decode_inet(std::string_view bytes, bool must_be_network, ip_family& family,
                 std::array<std::uint8_t, 16>& address, std::uint8_t& prefix) {
  if (bytes.size() < 4)
    throw_decode_error(
        fmt::format("a binary inet value has {} bytes, "
                    "expected at least 4",
                    bytes.size()));
  const auto code = static_cast<std::uint8_t>(bytes[0]);
  const auto bits = static_cast<std::uint8_t>(bytes[1]);
  const auto length = static_cast<std::uint8_t>(bytes[3]);
  ip_family f = ip_family::v4;
  if (code == pgsql_af_inet6) {
    f = ip_family::v6;
  } else if (code != pgsql_af_inet) {
    throw_decode_error(
        fmt::format("a binary inet value has address family {}, expected 2 "
                    "(IPv4) or 3 (IPv6)",
                    code));
  }
  const std::size_t want = f == ip_family::v4 ? 4 : 16;
  const unsigned max = f == ip_family::v4 ? 32U : 128U;
  if (length != want || bytes.size() != 4 + want) {
    throw_decode_error(
        fmt::format("a binary inet value has {} address bytes in {} bytes, "
                    "expected {} in {}",
                    length, bytes.size(), want, 4 + want));
  }
  if (bits > max) {
    throw_decode_error(
        fmt::format("a binary inet value has prefix length {}, at most {}", bits, max));
  }
  std::array<std::uint8_t, 16> a{};
  std::memcpy(a.data(), bytes.data() + 4, want);
  if (must_be_network && !host_bits_zero(f, a, bits)) {
    throw_decode_error("a binary cidr value has bits set right of its prefix");
  }
  family = f;
  address = a;
  prefix = bits;
}

void encode_inet(ip_family family, const std::array<std::uint8_t, 16>& address, std::uint8_t prefix,
                 bool is_cidr, byte_buffer& out) {
  const unsigned max = family == ip_family::v4 ? 32U : 128U;
  if (prefix > max) {
    throw_encode_error(fmt::format("pgorm: an {} value has prefix length {}, at most {}",
                                   is_cidr ? "cidr" : "inet", prefix, max));
  }
  if (is_cidr && !host_bits_zero(family, address, prefix)) {
    throw_encode_error(
        "pgorm: a cidr value has bits set right of its prefix; use "
        "pgorm::inet for a host address, or clear the host bits");
  }
  const std::size_t size = family == ip_family::v4 ? 4 : 16;
  char* p = out.grow_by(4 + size);
  p[0] = static_cast<char>(family == ip_family::v4 ? pgsql_af_inet : pgsql_af_inet6);
  p[1] = static_cast<char>(prefix);
  p[2] = static_cast<char>(is_cidr ? 1 : 0);
  p[3] = static_cast<char>(size);
  std::memcpy(p + 4, address.data(), size);
}

}  // namespace detail

}  // namespace pgorm
