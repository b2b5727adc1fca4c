// SPDX-License-Identifier: MIT
// pgorm::inet and pgorm::cidr without a server: parsing, formatting and the binary codec
// (inet_send's format), including the malformed inputs the decoder must refuse.
#include "pgorm/inet.hpp"

#include <cstdint>
#include <string>
#include <string_view>

#include <gtest/gtest.h>

#include "pgorm/error.hpp"
#include "pgorm/types.hpp"

namespace {

std::string encode(const auto& value) {
  pgorm::byte_buffer out;
  pgorm::pg_type<std::remove_cvref_t<decltype(value)>>::encode(value, out);
  return {out.data(), out.size()};
}

TEST(inet, parses_and_formats_like_the_server) {
  const auto a = pgorm::inet::parse("192.168.0.1");
  EXPECT_EQ(a.family, pgorm::ip_family::v4);
  EXPECT_EQ(a.prefix, 32);
  EXPECT_EQ(a.bytes[0], 192);
  EXPECT_EQ(a.bytes[3], 1);
  EXPECT_EQ(a.to_string(), "192.168.0.1");
  EXPECT_EQ(pgorm::inet::parse(" 10.1.2.3/8 ").to_string(), "10.1.2.3/8");
  EXPECT_EQ(pgorm::inet::parse("2001:DB8::5/64").to_string(), "2001:db8::5/64");
  EXPECT_EQ(pgorm::inet::parse("::").to_string(), "::");
  EXPECT_EQ(pgorm::inet::parse("::/0").prefix, 0);
  for (const std::string_view bad : {"", "1.2.3", "1.2.3.4/33", "::1/129", "1.2.3.4/", "1.2.3.4/x",
                                     "256.1.1.1", "1.2.3.4/-1", "gg::1", "1.2.3.4/8/8"}) {
    EXPECT_FALSE(pgorm::inet::try_parse(bad)) << bad;
  }
  EXPECT_THROW((void)pgorm::inet::parse("nope"), pgorm::usage_error);
}

TEST(cidr, refuses_host_bits_and_always_writes_the_prefix) {
  EXPECT_EQ(pgorm::cidr::parse("10.0.0.0/8").to_string(), "10.0.0.0/8");
  EXPECT_EQ(pgorm::cidr::parse("10.0.0.1").to_string(), "10.0.0.1/32");
  EXPECT_EQ(pgorm::cidr::parse("::/0").to_string(), "::/0");
  EXPECT_EQ(pgorm::cidr::parse("2001:db8:8000::/33").prefix, 33);
  EXPECT_FALSE(pgorm::cidr::try_parse("10.0.0.1/8"));
  EXPECT_FALSE(pgorm::cidr::try_parse("2001:db8:c000::/33"));
  EXPECT_THROW((void)pgorm::cidr::parse("10.0.0.1/8"), pgorm::usage_error);
}

TEST(inet_codec, writes_inet_send_format_and_reads_it_back) {
  EXPECT_EQ(encode(pgorm::inet::parse("10.1.2.3/8")),
            std::string("\x02\x08\x00\x04\x0a\x01\x02\x03", 8));
  EXPECT_EQ(encode(pgorm::cidr::parse("::/0")),
            std::string("\x03\x00\x01\x10", 4) + std::string(16, '\0'));
  pgorm::inet back;
  const std::string bytes = encode(pgorm::inet::parse("fe80::1/10"));
  pgorm::pg_type<pgorm::inet>::decode(bytes, pgorm::oids::inet, back);
  EXPECT_EQ(back, pgorm::inet::parse("fe80::1/10"));
}

TEST(inet_codec, refuses_malformed_values) {
  pgorm::inet a;
  pgorm::cidr n;
  const auto bad_inet = [&](std::string bytes) {
    EXPECT_THROW(pgorm::pg_type<pgorm::inet>::decode(bytes, pgorm::oids::inet, a),
                 pgorm::conversion_error);
  };
  bad_inet("");
  bad_inet(std::string("\x02\x20\x00\x04\x01\x02\x03", 7));          // short address
  bad_inet(std::string("\x02\x21\x00\x04\x01\x02\x03\x04", 8));      // prefix 33
  bad_inet(std::string("\x07\x20\x00\x04\x01\x02\x03\x04", 8));      // family 7
  bad_inet(std::string("\x03\x20\x00\x04\x01\x02\x03\x04", 8));      // IPv6 with 4 bytes
  bad_inet(std::string("\x02\x20\x00\x04\x01\x02\x03\x04\x05", 9));  // trailing byte
  EXPECT_THROW(pgorm::pg_type<pgorm::cidr>::decode(
                   std::string("\x02\x08\x01\x04\x0a\x00\x00\x01", 8), pgorm::oids::cidr, n),
               pgorm::conversion_error);  // host bits
  pgorm::inet wide = pgorm::inet::parse("1.2.3.4");
  wide.prefix = 40;
  pgorm::byte_buffer out;
  EXPECT_THROW(pgorm::pg_type<pgorm::inet>::encode(wide, out), pgorm::conversion_error);
}

}  // namespace
