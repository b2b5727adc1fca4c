// SPDX-License-Identifier: MIT
// pgorm::listener against the run's server: it receives, reconnects after its session is
// terminated, listens on every channel again and says so before any later notification;
// waits are bounded; interrupt() ends a wait from another thread; bad names are usage errors.
// A server that stops and restarts under a listener: tests/fault/listener_fault_test.cpp.
#include "pgorm/listener.hpp"

#include <chrono>
#include <string>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "pgorm/connection.hpp"
#include "support/db_test.hpp"

namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;
using clock_type = std::chrono::steady_clock;

class listener_test : public pgorm::test::db_test {
 protected:
  [[nodiscard]] std::string channel(std::string_view name) {
    return "l" + std::to_string(conn().backend_pid()) + "_" + std::string(name);
  }
  static long long ms_since(clock_type::time_point t) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(clock_type::now() - t).count();
  }
  void terminate(int pid) {
    const std::string pid_text = std::to_string(pid);  // param::text views it
    const pgorm::param p[] = {pgorm::param::text(pid_text)};
    conn().exec("select pg_terminate_backend($1::int)", p);
  }
  pgorm::listener_options options() const { return {.connection = pgorm::test::test_options()}; }
};

TEST_F(listener_test, receives_notifications_on_each_channel) {
  pgorm::listener l{conninfo(), options()};
  const std::string a = channel("a");
  const std::string b = channel("B b");
  l.listen(a);
  l.listen(b);
  l.listen(a);  // once
  EXPECT_THAT(l.channels(), ::testing::ElementsAre(a, b));
  EXPECT_TRUE(l.connected());

  conn().notify(a, "1");
  conn().notify(b, "2");
  auto e = l.wait(20s);
  ASSERT_TRUE(e.has_value());
  ASSERT_TRUE(e->is_notification());
  EXPECT_EQ(e->notification.channel, a);
  EXPECT_EQ(e->notification.payload, "1");
  EXPECT_EQ(e->notification.sender_pid, conn().backend_pid());
  e = l.wait(20s);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->notification.channel, b);

  l.unlisten(a);
  EXPECT_THAT(l.channels(), ::testing::ElementsAre(b));
  conn().notify(a, "not heard");
  const auto start = clock_type::now();
  EXPECT_FALSE(l.wait(300ms).has_value());
  EXPECT_GE(ms_since(start), 290);
  EXPECT_LT(ms_since(start), 5000);
  EXPECT_EQ(l.reconnects(), 0U);
}

TEST_F(listener_test, reconnects_after_its_session_is_terminated_and_listens_again) {
  pgorm::listener l{conninfo(), options()};
  const std::string a = channel("jobs");
  const std::string b = channel("Other");
  l.listen(a);
  l.listen(b);
  const int first_pid = l.backend_pid();
  terminate(first_pid);

  const auto start = clock_type::now();
  std::optional<pgorm::listener_event> e;
  while (!e && ms_since(start) < 20000) e = l.wait(1s);
  ASSERT_TRUE(e.has_value());
  ASSERT_TRUE(e->is_reconnected());
  EXPECT_THAT(e->reason, HasSubstr("terminating connection"));
  EXPECT_EQ(l.reconnects(), 1U);
  EXPECT_TRUE(l.connected());
  EXPECT_NE(l.backend_pid(), first_pid);

  // Both channels are listened on again.
  conn().notify(b, "after b");
  conn().notify(a, "after a");
  e = l.wait(20s);
  ASSERT_TRUE(e.has_value());
  ASSERT_TRUE(e->is_notification());
  EXPECT_EQ(e->notification.payload, "after b");
  e = l.wait(20s);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->notification.payload, "after a");
}

TEST_F(listener_test, a_channel_added_while_disconnected_is_listened_on_at_reconnection) {
  pgorm::listener l{conninfo(), options()};
  const std::string a = channel("early");
  l.listen(a);
  terminate(l.backend_pid());
  // The loss is noticed either here (the LISTEN fails) or by the wait below.
  const std::string late = channel("late");
  l.listen(late);
  const auto start = clock_type::now();
  std::optional<pgorm::listener_event> e;
  while (!e && ms_since(start) < 20000) e = l.wait(1s);
  ASSERT_TRUE(e.has_value());
  ASSERT_TRUE(e->is_reconnected());
  conn().notify(late, "late one");
  e = l.wait(20s);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->notification.payload, "late one");
}

TEST_F(listener_test, interrupt_ends_a_wait_from_another_thread) {
  pgorm::listener l{conninfo(), options()};
  l.listen(channel("x"));
  const auto start = clock_type::now();
  std::thread t([&] {
    std::this_thread::sleep_for(200ms);
    l.interrupt();
  });
  EXPECT_FALSE(l.wait(60s).has_value());
  t.join();
  EXPECT_LT(ms_since(start), 20000);
  // The interrupt was consumed: the next wait waits again.
  const auto again = clock_type::now();
  EXPECT_FALSE(l.wait(200ms).has_value());
  EXPECT_GE(ms_since(again), 190);
  // An interrupt with no wait in progress ends the next one at once.
  l.interrupt();
  const auto next = clock_type::now();
  EXPECT_FALSE(l.wait(60s).has_value());
  EXPECT_LT(ms_since(next), 20000);
}

TEST_F(listener_test, bad_input_is_refused_and_a_bad_server_fails_the_constructor) {
  pgorm::listener l{conninfo(), options()};
  EXPECT_THROW(l.listen(""), pgorm::usage_error);
  EXPECT_THROW(l.listen(std::string(64, 'x')), pgorm::usage_error);
  EXPECT_TRUE(l.channels().empty());
  EXPECT_THROW((void)l.wait(pgorm::no_timeout), pgorm::usage_error);
  EXPECT_THROW(pgorm::listener(conninfo() + " dbname=no_such_database_here", options()),
               pgorm::connection_error);
  pgorm::listener_options pooled = options();
  pooled.connection.pooler = pgorm::pooler_mode::transaction;
  EXPECT_THROW(pgorm::listener(conninfo(), pooled), pgorm::pooler_unsupported);
}

}  // namespace
