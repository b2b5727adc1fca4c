// SPDX-License-Identifier: MIT
// inet and cidr through a real server: binary parameters out, binary results back (decoded by
// the codec), and the server's text output, which checks the encoding independently of the
// decoder. IPv4, IPv6, prefixes, ::/0, NULLs and arrays.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include "pgorm/connection.hpp"
#include "pgorm/error.hpp"
#include "pgorm/params.hpp"
#include "pgorm/read_field.hpp"
#include "pgorm/types.hpp"
#include "support/value_test.hpp"

namespace {

class network_types_test : public pgorm::test::value_test {};

TEST_F(network_types_test, inet_round_trips_ipv4_and_ipv6_with_and_without_prefix) {
  for (const std::string_view s :
       {"192.168.0.1", "10.1.2.3/8", "0.0.0.0/0", "255.255.255.255", "::1", "::", "2001:db8::5/64",
        "::ffff:1.2.3.4", "fe80::1:2:3:4/10", "::/0", "2001:db8:85a3:8d3:1319:8a2e:370:7348"}) {
    const auto a = pgorm::inet::parse(s);
    EXPECT_EQ(a.to_string(), s);
    // The server's inet output shows the prefix always in ::text; host() is the address.
    EXPECT_EQ(round_trip(a),
              std::string(s).find('/') == std::string::npos
                  ? std::string(s) + (a.family == pgorm::ip_family::v4 ? "/32" : "/128")
                  : std::string(s));
    // What the server parses from the text, read in binary, is what pgorm parsed.
    EXPECT_EQ(binary<pgorm::inet>("select $1::inet", std::string(s)), a);
  }
}

TEST_F(network_types_test, cidr_round_trips_and_the_server_agrees_on_the_network) {
  for (const std::string_view s : {"10.0.0.0/8", "192.168.10.0/24", "0.0.0.0/0", "::/0",
                                   "2001:db8::/32", "255.255.255.255/32", "2001:db8::1/128"}) {
    const auto n = pgorm::cidr::parse(s);
    EXPECT_EQ(n.to_string(), s);
    EXPECT_EQ(round_trip(n), s);
    EXPECT_EQ(binary<pgorm::cidr>("select $1::cidr", std::string(s)), n);
  }
  // A cidr column reads into inet too; an inet column does not read into cidr.
  EXPECT_EQ(binary<pgorm::inet>("select '10.0.0.0/8'::cidr"), pgorm::inet::parse("10.0.0.0/8"));
  EXPECT_THROW((void)binary<pgorm::cidr>("select '10.0.0.1/8'::inet"), pgorm::conversion_error);
  // Host bits set: refused before anything is sent.
  pgorm::cidr bad = pgorm::cidr::parse("10.0.0.0/8");
  bad.bytes[3] = 1;
  EXPECT_THROW((void)text("select $1::text", bad), pgorm::conversion_error);
}

TEST_F(network_types_test, nulls_and_arrays) {
  using opt = std::optional<pgorm::inet>;
  EXPECT_EQ(binary<opt>("select null::inet"), std::nullopt);
  EXPECT_EQ(text("select $1::text", opt{}), "NULL");
  const std::vector<opt> v{pgorm::inet::parse("10.0.0.1"), std::nullopt,
                           pgorm::inet::parse("::1/64")};
  EXPECT_EQ(binary<std::vector<opt>>("select $1", v), v);
  EXPECT_EQ(text("select $1::text", v), "{10.0.0.1,NULL,::1/64}");
  EXPECT_EQ(binary<std::vector<pgorm::cidr>>("select '{}'::cidr[]"), std::vector<pgorm::cidr>{});
  // Operators on the server see the values as sent.
  EXPECT_EQ(text("select $1 >>= $2", pgorm::cidr::parse("192.168.0.0/16"),
                 pgorm::inet::parse("192.168.3.4")),
            "t");
}

}  // namespace
