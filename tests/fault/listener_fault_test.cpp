// SPDX-License-Identifier: MIT
// pgorm::listener across server failures (docs/notifications.md, "The listener"), against a
// server of its own: a restart in the middle (the listener reconnects, LISTENs again on every
// channel, reports the gap, and receives what is sent afterwards); a server that stays down
// (every wait still returns on time, and the listener comes back when the server does); a
// black-holed link (the health check notices it). Ends with the leak check.
#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "fault/support/leak_check.hpp"
#include "fault/support/tcp_proxy.hpp"
#include "pgorm/connection.hpp"
#include "pgorm/listener.hpp"
#include "pgorm/testing/server.hpp"

namespace {

using namespace std::chrono_literals;
using pgorm::fault::clock_type;
using pgorm::fault::tcp_proxy;
using ::testing::HasSubstr;

long long ms_since(clock_type::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(clock_type::now() - t).count();
}

class listener_fault : public pgorm::fault::fault_test {
 protected:
  static void SetUpTestSuite() {
    pg_ = std::make_unique<pgorm::testing::any_server>(pgorm::testing::server_options{.tcp = true});
  }
  static void TearDownTestSuite() { pg_.reset(); }
  void SetUp() override {
    if (!pg_->running()) pg_->start();
    fault_test::SetUp();
  }
  static pgorm::testing::any_server& pg() { return *pg_; }

  // The server's conninfo with an application_name that the leak check follows.
  std::string server_conninfo(std::string_view hint) {
    return pgorm::fault::with_application_name(pg().conninfo(), app(hint, pg().conninfo()));
  }
  static pgorm::listener_options quick() {
    return {.connection = {.connect_timeout = 2s, .query_timeout = 10s},
            .reconnect_backoff = 20ms,
            .reconnect_backoff_max = 300ms};
  }

  // Waits (up to `limit`) for the next event, through waits of one second each.
  static std::optional<pgorm::listener_event> next_event(pgorm::listener& l,
                                                         std::chrono::milliseconds limit = 60s) {
    const auto start = clock_type::now();
    while (ms_since(start) < limit.count()) {
      if (auto e = l.wait(1s)) return e;
    }
    return std::nullopt;
  }

  static void send(std::string_view channel, std::string_view payload) {
    pgorm::connection sender{pg().conninfo()};
    sender.notify(channel, payload);
  }

 private:
  static inline std::unique_ptr<pgorm::testing::any_server> pg_;
};

TEST_F(listener_fault, a_restart_in_the_middle_relistens_and_later_notifications_arrive) {
  pgorm::listener l{server_conninfo("restart"), quick()};
  l.listen("jobs");
  l.listen("Audit Log");
  send("jobs", "before");
  auto e = next_event(l);
  ASSERT_TRUE(e && e->is_notification());
  EXPECT_EQ(e->notification.payload, "before");

  pg().restart();
  // A notification sent once the server is back but before the listener is: lost, as
  // PostgreSQL documents; the reconnected event says so.
  e = next_event(l);
  ASSERT_TRUE(e.has_value());
  ASSERT_TRUE(e->is_reconnected());
  EXPECT_THAT(e->reason, HasSubstr("57P01"));  // admin_shutdown: the fast shutdown's message
  EXPECT_EQ(l.reconnects(), 1U);
  EXPECT_GE(e->gap.count(), 0);

  send("Audit Log", "after 1");
  send("jobs", "after 2");
  e = next_event(l);
  ASSERT_TRUE(e && e->is_notification());
  EXPECT_EQ(e->notification.channel, "Audit Log");
  EXPECT_EQ(e->notification.payload, "after 1");
  e = next_event(l);
  ASSERT_TRUE(e && e->is_notification());
  EXPECT_EQ(e->notification.payload, "after 2");
}

TEST_F(listener_fault, while_the_server_is_down_waits_end_on_time_and_it_comes_back) {
  pgorm::listener l{server_conninfo("down"), quick()};
  l.listen("jobs");
  pg().stop();

  // Each wait returns within its timeout (generous bound), connection attempts included.
  for (int i = 0; i < 5; ++i) {
    const auto start = clock_type::now();
    EXPECT_FALSE(l.wait(300ms).has_value());
    EXPECT_LT(ms_since(start), 5000);
  }
  EXPECT_FALSE(l.connected());
  EXPECT_FALSE(l.last_error().empty());
  const auto start = clock_type::now();
  EXPECT_FALSE(l.wait(0ms).has_value());
  EXPECT_LT(ms_since(start), 2000);

  pg().start();
  auto e = next_event(l);
  ASSERT_TRUE(e.has_value());
  ASSERT_TRUE(e->is_reconnected());
  EXPECT_TRUE(l.connected());
  EXPECT_EQ(l.reconnects(), 1U);
  send("jobs", "back");
  e = next_event(l);
  ASSERT_TRUE(e && e->is_notification());
  EXPECT_EQ(e->notification.payload, "back");
}

TEST_F(listener_fault, the_health_check_notices_a_black_holed_link) {
  tcp_proxy proxy(pg().port());
  const std::string name = app("blackhole", pg().conninfo());
  const std::string info =
      fmt::format("host=127.0.0.1 port={} user=postgres dbname=postgres application_name={}",
                  proxy.port(), name);
  pgorm::listener_options o = quick();
  o.health_check_interval = 300ms;
  o.connection.connect_timeout = 1s;
  pgorm::listener l{info, o};
  l.listen("jobs");
  proxy.set_mode(tcp_proxy::mode::stall);

  // Nothing closes the socket; the health check's round trip gets no answer within its budget.
  const auto start = clock_type::now();
  while (l.connected() && ms_since(start) < 30000) (void)l.wait(2s);
  EXPECT_FALSE(l.connected());
  EXPECT_THAT(l.last_error(), ::testing::Not(::testing::IsEmpty()));

  proxy.set_mode(tcp_proxy::mode::pass);
  auto e = next_event(l);
  ASSERT_TRUE(e.has_value());
  ASSERT_TRUE(e->is_reconnected());
  EXPECT_THAT(e->reason, HasSubstr("health check"));
  send("jobs", "through the proxy");
  e = next_event(l);
  ASSERT_TRUE(e && e->is_notification());
  EXPECT_EQ(e->notification.payload, "through the proxy");
}

}  // namespace
