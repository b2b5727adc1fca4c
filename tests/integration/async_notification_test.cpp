// SPDX-License-Identifier: MIT
// LISTEN/NOTIFY on an async connection against a real server: notifications in order, a
// waiting coroutine woken by one, statements on the connection while it waits, notifications
// landing between lone statements, the deadline, cancellation through the cancellation slot,
// and a lost connection.

#include <chrono>
#include <exception>
#include <optional>
#include <string>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <gtest/gtest.h>

#include "pgorm/async.hpp"
#include "pgorm/error.hpp"
#include "support/async_test.hpp"
#include "support/db_test.hpp"

namespace asio = boost::asio;
using namespace std::chrono_literals;
using asio::awaitable;
using asio::use_awaitable;
namespace pa = pgorm::async;

namespace {

using pgorm::test::run_coro;
using pgorm::test::sleep_for;

class async_notification_test : public pgorm::test::db_test {
 protected:
  void SetUp() override {
    db_test::SetUp();
    PGORM_SKIP_BEHIND_POOLER("LISTEN");
  }
  // A channel unique to the test: the run's server is shared by tests running in parallel,
  // and a NOTIFY reaches every session listening on its channel, whatever its schema.
  [[nodiscard]] std::string channel() {
    return "async_jobs_" + std::to_string(conn().backend_pid());
  }
  awaitable<pa::connection> listening(asio::io_context& io) {
    auto c = co_await pa::connection::async_connect(io, conninfo(), pgorm::test::test_options(),
                                                    use_awaitable);
    const std::string listen = "listen " + channel();
    co_await c.async_exec(listen, use_awaitable);
    co_return c;
  }
  void notify(const std::string& payload) {
    conn().exec("select pg_notify($1, $2)",
                {pgorm::param::text(channel()), pgorm::param::text(payload)});
  }
};

TEST_F(async_notification_test, takes_notifications_in_order_then_times_out) {
  run_coro([&](asio::io_context& io) -> awaitable<void> {
    auto c = co_await listening(io);
    notify("a");
    notify("b");
    auto first = co_await c.async_next_notification(5s, use_awaitable);
    auto second = co_await c.async_next_notification(5s, use_awaitable);
    EXPECT_TRUE(first && second);
    if (!first || !second) co_return;
    EXPECT_EQ(first->channel, channel());
    EXPECT_EQ(first->payload, "a");
    EXPECT_EQ(second->payload, "b");
    EXPECT_EQ(first->sender_pid, conn().backend_pid());
    const auto start = std::chrono::steady_clock::now();
    auto none = co_await c.async_next_notification(100ms, use_awaitable);
    EXPECT_FALSE(none);
    EXPECT_GE(std::chrono::steady_clock::now() - start, 80ms);
    EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
    // Zero: only what has arrived.
    EXPECT_FALSE(co_await c.async_next_notification(0ms, use_awaitable));
  });
}

TEST_F(async_notification_test, wakes_a_waiter_while_statements_run) {
  run_coro([&](asio::io_context& io) -> awaitable<void> {
    auto c = co_await listening(io);
    std::optional<pgorm::notification> got;
    bool done = false;
    asio::co_spawn(
        io,
        [&]() -> awaitable<void> {
          got = co_await c.async_next_notification(10s, use_awaitable);
          done = true;
        },
        asio::detached);
    co_await sleep_for(30ms);
    // The connection runs statements while the wait goes on.
    auto r = co_await c.async_exec("select 41 + 1", use_awaitable);
    EXPECT_EQ(r.value(0, 0), "42");
    EXPECT_FALSE(done);
    // A second waiter on the same connection is refused.
    EXPECT_THROW(co_await c.async_next_notification(1s, use_awaitable), pgorm::usage_error);
    const auto sent = std::chrono::steady_clock::now();
    notify("wake");
    for (int i = 0; !done && i < 500; ++i) co_await sleep_for(5ms);
    EXPECT_TRUE(done);
    EXPECT_LT(std::chrono::steady_clock::now() - sent, 3s);
    EXPECT_TRUE(got);
    if (got) {
      EXPECT_EQ(got->payload, "wake");
    }
  });
}

// Notifications that land between lone statements (nobody waits on the socket then, or a wait
// is out for a statement's answer) neither stall the statements nor get lost.
TEST_F(async_notification_test, arrive_between_lone_statements) {
  run_coro([&](asio::io_context& io) -> awaitable<void> {
    auto c = co_await listening(io);
    for (int i = 0; i < 20; ++i) {
      if (i % 5 == 0) {
        notify("n" + std::to_string(i));
        co_await sleep_for(10ms);  // lands while the connection is idle
      }
      const std::string sql = "select " + std::to_string(i) + " + 1";
      auto r = co_await c.async_exec(sql, {}, pgorm::data_format::text, 5s, use_awaitable);
      EXPECT_EQ(r.value(0, 0), std::to_string(i + 1));
    }
    for (int i = 0; i < 20; i += 5) {
      auto n = co_await c.async_next_notification(5s, use_awaitable);
      EXPECT_TRUE(n);
      if (!n) co_return;
      EXPECT_EQ(n->payload, "n" + std::to_string(i));
    }
  });
}

TEST_F(async_notification_test, a_timer_cancels_the_wait_and_later_ones_still_arrive) {
  run_coro([&](asio::io_context& io) -> awaitable<void> {
    using namespace asio::experimental::awaitable_operators;
    auto c = co_await listening(io);
    asio::steady_timer timer(io, 50ms);
    auto winner = co_await (c.async_next_notification(pgorm::no_timeout, use_awaitable) ||
                            timer.async_wait(use_awaitable));
    EXPECT_EQ(winner.index(), 1u);
    notify("later");
    auto n = co_await c.async_next_notification(5s, use_awaitable);
    EXPECT_TRUE(n);
    if (n) {
      EXPECT_EQ(n->payload, "later");
    }
  });
}

TEST_F(async_notification_test, a_lost_connection_fails_the_wait) {
  run_coro([&](asio::io_context& io) -> awaitable<void> {
    auto c = co_await listening(io);
    const int pid = c.backend_pid();
    bool lost = false;
    bool done = false;
    asio::co_spawn(
        io,
        [&]() -> awaitable<void> {
          try {
            (void)co_await c.async_next_notification(10s, use_awaitable);
          } catch (const pgorm::connection_error&) {
            lost = true;
          }
          done = true;
        },
        asio::detached);
    co_await sleep_for(30ms);
    conn().exec("select pg_terminate_backend(" + std::to_string(pid) + ")");
    for (int i = 0; !done && i < 500; ++i) co_await sleep_for(5ms);
    EXPECT_TRUE(done);
    EXPECT_TRUE(lost);
  });
}

}  // namespace
