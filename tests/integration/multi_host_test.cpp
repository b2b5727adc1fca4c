// SPDX-License-Identifier: MIT
// Multi-host connection strings: every host gets the whole connect_timeout, so a black-holed
// first host (a listener that never answers) does not use up the time of the real server.
#include <chrono>
#include <cstring>
#include <string>

#include <arpa/inet.h>
#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <libpq-fe.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "pgorm/connection.hpp"
#include "pgorm/error.hpp"
#include "support/test_database.hpp"

namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;

// A TCP listener on 127.0.0.1 that never accepts: the kernel completes the handshake, libpq
// sends its startup packet and waits for an answer that never comes.
struct black_hole {
  int fd = -1;
  int port = 0;
  black_hole() {
    fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    ::inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
    socklen_t len = sizeof addr;
    if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::listen(fd, 16) != 0 || ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      throw pgorm::error(fmt::format("black_hole: {}", std::strerror(errno)));
    }
    port = ntohs(addr.sin_port);
  }
  black_hole(const black_hole&) = delete;
  black_hole& operator=(const black_hole&) = delete;
  ~black_hole() { ::close(fd); }
};

// host, port, user and dbname of the run's server.
struct endpoint {
  std::string host, port, user, dbname, password;
};

endpoint server_endpoint() {
  endpoint e;
  char* err = nullptr;
  PQconninfoOption* parsed = PQconninfoParse(pgorm::test::server_conninfo().c_str(), &err);
  if (parsed == nullptr) {
    if (err != nullptr) PQfreemem(err);
    throw pgorm::error("cannot parse the server's conninfo");
  }
  for (PQconninfoOption* o = parsed; o->keyword != nullptr; ++o) {
    if (o->val == nullptr) continue;
    const std::string_view key = o->keyword;
    if (key == "host") e.host = o->val;
    if (key == "port") e.port = o->val;
    if (key == "user") e.user = o->val;
    if (key == "dbname") e.dbname = o->val;
    if (key == "password") e.password = o->val;
  }
  PQconninfoFree(parsed);
  return e;
}

std::string with_hosts(const endpoint& e, const std::string& hosts, const std::string& ports) {
  auto info =
      fmt::format("host='{}' port='{}' user='{}' dbname='{}'", hosts, ports, e.user, e.dbname);
  if (!e.password.empty()) info += fmt::format(" password='{}'", e.password);
  return info;
}

TEST(multi_host, a_black_holed_first_host_does_not_starve_the_second) {
  const auto e = server_endpoint();
  if (e.host.empty() || e.port.empty() || e.host.find(',') != std::string::npos) {
    GTEST_SKIP() << "the run's server has no single host and port to list second";
  }
  const black_hole hole;
  pgorm::connect_options o;
  o.connect_timeout = 1s;
  const auto started = std::chrono::steady_clock::now();
  pgorm::connection conn{
      with_hosts(e, "127.0.0.1," + e.host, std::to_string(hole.port) + "," + e.port), o};
  EXPECT_EQ(conn.exec("select 1").value(0, 0), "1");
  EXPECT_EQ(std::string(PQhost(conn.native_handle())), e.host);
  // The first host had its 1 s; generous bound for the rest on a busy machine.
  EXPECT_LT(std::chrono::steady_clock::now() - started, 10s);
}

TEST(multi_host, every_host_failing_names_each_and_keeps_the_password_out) {
  const black_hole first;
  const black_hole second;
  pgorm::connect_options o;
  o.connect_timeout = 300ms;
  const auto started = std::chrono::steady_clock::now();
  try {
    pgorm::connection conn{
        fmt::format("host=127.0.0.1,127.0.0.1 port={},{} user=u dbname=d password=s3cr3t-pw",
                    first.port, second.port),
        o};
    FAIL() << "connected to a black hole";
  } catch (const pgorm::connection_error& err) {
    const std::string what = err.what();
    EXPECT_THAT(what, HasSubstr(std::to_string(first.port)));
    EXPECT_THAT(what, HasSubstr(std::to_string(second.port)));
    EXPECT_THAT(what, HasSubstr("timed out"));
    EXPECT_THAT(what, ::testing::Not(HasSubstr("s3cr3t-pw")));
  }
  // Two hosts at 300 ms each; generous bound.
  EXPECT_LT(std::chrono::steady_clock::now() - started, 10s);
}

TEST(multi_host, split_hosts_keeps_every_other_parameter_and_pairs_the_ports) {
  const auto hosts = pgorm::detail::split_hosts(
      "host=a,b port=5433,5434 dbname=app target_session_attrs=read-write");
  ASSERT_EQ(hosts.size(), 2U);
  EXPECT_THAT(hosts[0], HasSubstr("host='a'"));
  EXPECT_THAT(hosts[0], HasSubstr("port='5433'"));
  EXPECT_THAT(hosts[1], HasSubstr("host='b'"));
  EXPECT_THAT(hosts[1], HasSubstr("port='5434'"));
  EXPECT_THAT(hosts[1], HasSubstr("target_session_attrs='read-write'"));
  EXPECT_THAT(hosts[1], HasSubstr("dbname='app'"));
  const auto url = pgorm::detail::split_hosts("postgresql://u@a:1,b:2/app");
  ASSERT_EQ(url.size(), 2U);
  EXPECT_THAT(url[1], HasSubstr("host='b'"));
  EXPECT_THAT(url[1], HasSubstr("port='2'"));
  EXPECT_TRUE(pgorm::detail::split_hosts("host=a port=1").empty());
  EXPECT_TRUE(pgorm::detail::split_hosts("host=a,b port=1,2,3").empty());  // libpq reports it
}

}  // namespace
