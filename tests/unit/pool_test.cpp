// SPDX-License-Identifier: MIT
// The pool's server-free parts: lifetime jitter, reconnect backoff, pool_timeout's texts,
// option checks, acquiring from an unreachable server, connection attempts that outlast an
// acquire (a black-holed listener) and shutting down while one runs.

#include "pgorm/pool.hpp"

#include <atomic>
#include <chrono>
#include <cstdint>
#include <exception>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <arpa/inet.h>
#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "support/silent_listener.hpp"

namespace {

using namespace std::chrono_literals;
using pgorm::detail::jittered_lifetime;
using pgorm::detail::reconnect_delay;
using ::testing::HasSubstr;

// No server listens in a directory that does not exist: connecting fails at once.
constexpr const char* nowhere = "host=/nonexistent/pgorm-pool-test port=1 dbname=none";

using clock_type = std::chrono::steady_clock;
using black_hole = pgorm::test::silent_listener;

TEST(pool_lifetime, jitter_stays_within_ten_percent) {
  EXPECT_EQ(jittered_lifetime(1000ms, 0.0), 900ms);
  EXPECT_EQ(jittered_lifetime(1000ms, 0.5), 1000ms);
  EXPECT_EQ(jittered_lifetime(1000ms, 0.999), 1099ms);
  EXPECT_EQ(jittered_lifetime(30min, 0.0), 27min);
  EXPECT_EQ(jittered_lifetime(1000ms, 7.0), 1100ms);  // clamped
}

TEST(pool_backoff, doubles_per_failure_up_to_the_cap) {
  // unit 1.0 gives the full (un-jittered) delay.
  EXPECT_EQ(reconnect_delay(1, 25ms, 500ms, 1.0), 25ms);
  EXPECT_EQ(reconnect_delay(2, 25ms, 500ms, 1.0), 50ms);
  EXPECT_EQ(reconnect_delay(3, 25ms, 500ms, 1.0), 100ms);
  EXPECT_EQ(reconnect_delay(5, 25ms, 500ms, 1.0), 400ms);
  EXPECT_EQ(reconnect_delay(6, 25ms, 500ms, 1.0), 500ms);
  EXPECT_EQ(reconnect_delay(4000000000U, 25ms, 500ms, 1.0), 500ms);
}

TEST(pool_backoff, jitter_keeps_at_least_half) {
  EXPECT_EQ(reconnect_delay(3, 25ms, 500ms, 0.0), 50ms);
  EXPECT_EQ(reconnect_delay(3, 25ms, 500ms, 0.5), 75ms);
  EXPECT_EQ(reconnect_delay(10, 25ms, 500ms, 0.0), 250ms);
}

TEST(pool_backoff, no_failure_or_zero_base_means_no_delay) {
  EXPECT_EQ(reconnect_delay(0, 25ms, 500ms, 1.0), 0ms);
  EXPECT_EQ(reconnect_delay(3, 0ms, 500ms, 1.0), 0ms);
}

TEST(pool_timeout_error, exhausted_unreachable_and_connecting_say_which) {
  const pgorm::pool_timeout exhausted{
      pgorm::pool_timeout_reason::exhausted, 200ms, {2, 0, 3, 2}, ""};
  EXPECT_THAT(exhausted.what(), HasSubstr("pool exhausted"));
  EXPECT_THAT(exhausted.what(), HasSubstr("2 in use of max 2, 0 idle, 3 waiting"));
  EXPECT_EQ(exhausted.reason(), pgorm::pool_timeout_reason::exhausted);
  EXPECT_EQ(exhausted.waited(), 200ms);
  EXPECT_EQ(exhausted.in_use(), 2U);
  EXPECT_EQ(exhausted.waiting(), 3U);
  EXPECT_EQ(exhausted.max_size(), 2U);

  const pgorm::pool_timeout unreachable{
      pgorm::pool_timeout_reason::unreachable, 1000ms, {0, 0, 0, 4}, "pgorm: cannot connect"};
  EXPECT_THAT(unreachable.what(), HasSubstr("database server unreachable"));
  EXPECT_THAT(unreachable.what(), HasSubstr("last connect error: pgorm: cannot connect"));
  EXPECT_EQ(unreachable.last_connect_error(), "pgorm: cannot connect");
  const pgorm::error& base = unreachable;
  EXPECT_FALSE(base.poisons_connection());

  const pgorm::pool_timeout connecting{
      pgorm::pool_timeout_reason::connecting, 100ms, {0, 0, 1, 4}, ""};
  EXPECT_THAT(connecting.what(), HasSubstr("still being opened"));
  EXPECT_THAT(connecting.what(), HasSubstr("connect_timeout"));
  EXPECT_EQ(connecting.reason(), pgorm::pool_timeout_reason::connecting);
}

TEST(pool_options_check, zero_max_size_and_min_idle_above_max_are_refused) {
  EXPECT_THROW(pgorm::pool(nowhere, {.max_size = 0, .lazy = true}), pgorm::usage_error);
  EXPECT_THROW(pgorm::pool(nowhere, {.max_size = 2, .min_idle = 3, .lazy = true}),
               pgorm::usage_error);
}

TEST(pool_unreachable, eager_start_throws_the_connect_error_at_once) {
  const auto start = std::chrono::steady_clock::now();
  EXPECT_THROW(pgorm::pool(nowhere, {.acquire_timeout = 5s}), pgorm::connection_error);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 1s);
}

TEST(pool_unreachable, a_waiting_acquire_fails_promptly_with_the_connect_error) {
  // The acquire timeout is long: the failed attempt, not the timeout, ends the wait.
  pgorm::pool db{nowhere, {.acquire_timeout = 30s, .lazy = true}};
  const auto start = clock_type::now();
  try {
    auto l = db.acquire();
    FAIL() << "acquire succeeded";
  } catch (const pgorm::connection_error& e) {
    EXPECT_LT(clock_type::now() - start, 5s);
    EXPECT_THAT(e.what(), HasSubstr("the pool could not open a connection"));
    EXPECT_THAT(e.what(), HasSubstr("pgorm-pool-test"));  // names the cause
    EXPECT_THROW(std::rethrow_if_nested(e), pgorm::connection_error);
  }
  const auto s = db.stats();
  EXPECT_EQ(s.total_timeouts, 0U);
  EXPECT_EQ(s.total_connect_failures, 1U);
  EXPECT_EQ(s.total_opened, 0U);
  EXPECT_EQ(s.in_use, 0U);
  EXPECT_EQ(s.waiting, 0U);
}

TEST(pool_unreachable, backoff_limits_connection_attempts) {
  struct counter : pgorm::observer {
    std::atomic<int> failed{0};
    void on_pool_event(const pgorm::pool_event& e) override {
      if (e.kind == pgorm::pool_event_kind::connect_failed) ++failed;
    }
  };
  auto events = std::make_shared<counter>();
  pgorm::pool db{nowhere, {.acquire_timeout = 5s, .lazy = true, .connection = {.events = events}}};
  // Each acquire waits for the next attempt (after the backoff) and fails with it.
  int acquires = 0;
  const auto start = clock_type::now();
  while (clock_type::now() - start < 600ms) {
    EXPECT_THROW((void)db.acquire(), pgorm::connection_error);
    ++acquires;
  }
  // The last event may still be on its way (emitted by the pool's thread after the waiter
  // was told).
  for (int i = 0; i < 200 && static_cast<std::uint64_t>(events->failed.load()) !=
                                 db.stats().total_connect_failures;
       ++i) {
    std::this_thread::sleep_for(10ms);
  }
  // 25, 50, 100, 200, 400 ms (each at least halved by jitter): a handful, not thousands.
  EXPECT_GE(events->failed.load(), 3);
  EXPECT_LE(events->failed.load(), 12);
  EXPECT_EQ(static_cast<std::uint64_t>(events->failed.load()), db.stats().total_connect_failures);
  EXPECT_LE(acquires, events->failed.load());
}

TEST(pool_unreachable, background_top_up_and_acquire_share_the_backoff) {
  // min_idle makes the background thread ask for attempts too; acquires still end promptly,
  // with the connect error or, when the backoff outlasts them, as unreachable.
  pgorm::pool db{nowhere,
                 {.max_size = 2,
                  .min_idle = 1,
                  .acquire_timeout = 200ms,
                  .idle_timeout = 100ms,  // the background thread wakes every 25 ms
                  .lazy = true}};
  for (int i = 0; i < 3; ++i) {
    const auto start = clock_type::now();
    try {
      (void)db.acquire();
      FAIL() << "acquire succeeded";
    } catch (const pgorm::pool_timeout& e) {
      EXPECT_EQ(e.reason(), pgorm::pool_timeout_reason::unreachable);
    } catch (const pgorm::connection_error& e) {
      EXPECT_THAT(e.what(), HasSubstr("could not open a connection"));
    }
    EXPECT_LT(clock_type::now() - start, 3s);
  }
  EXPECT_GE(db.stats().total_connect_failures, 1U);
}

TEST(pool_events, connect_failed_details_stay_valid_while_later_attempts_fail) {
  // Each connect_failed event's detail must stay the text of its own failure while the
  // observer reads it, however many attempts fail meanwhile on other threads. (Run under
  // ThreadSanitizer this catches a detail that views a string a later failure overwrites.)
  struct reader : pgorm::observer {
    std::mutex mu;
    std::vector<std::string> details;
    void on_pool_event(const pgorm::pool_event& e) override {
      if (e.kind != pgorm::pool_event_kind::connect_failed) return;
      std::string first(e.detail);
      std::this_thread::sleep_for(1ms);  // let other attempts fail meanwhile
      std::string again(e.detail);
      std::lock_guard lock(mu);
      details.push_back(first == again ? first : "changed: " + first + " / " + again);
    }
  };
  auto events = std::make_shared<reader>();
  pgorm::pool db{nowhere,
                 {.max_size = 4,
                  .acquire_timeout = 5s,
                  .lazy = true,
                  .reconnect_backoff = 0ms,  // no backoff: attempts follow each other at once
                  .connection = {.events = events}}};
  std::vector<std::thread> callers;
  for (int t = 0; t < 4; ++t) {
    callers.emplace_back([&] {
      const auto start = clock_type::now();
      while (clock_type::now() - start < 300ms) {
        try {
          (void)db.acquire();
        } catch (const pgorm::error&) {  // expected: nothing listens
        }
      }
    });
  }
  for (auto& c : callers) c.join();
  std::lock_guard lock(events->mu);
  ASSERT_GE(events->details.size(), 2U);
  for (const auto& d : events->details) {
    EXPECT_THAT(d, ::testing::StartsWith("pgorm:"));
    EXPECT_THAT(d, HasSubstr("pgorm-pool-test"));
  }
}

TEST(pool_connect, an_attempt_outlasting_the_acquire_is_not_a_failure) {
  // The acquire gives up after 200 ms; the attempt goes on, within its own connect timeout,
  // on the pool's thread, and is not counted as a failure (no backoff follows).
  black_hole server;
  pgorm::pool db{server.conninfo(),
                 {.acquire_timeout = 200ms, .lazy = true, .connection = {.connect_timeout = 60s}}};
  const auto start = clock_type::now();
  try {
    (void)db.acquire();
    FAIL() << "acquired from a black hole";
  } catch (const pgorm::pool_timeout& e) {
    EXPECT_LT(clock_type::now() - start, 3s);
    EXPECT_EQ(e.reason(), pgorm::pool_timeout_reason::connecting);
    EXPECT_THAT(e.what(), HasSubstr("still being opened"));
  }
  const auto s = db.stats();
  EXPECT_EQ(s.total_connect_failures, 0U);
  EXPECT_EQ(s.total_timeouts, 1U);
  EXPECT_EQ(s.waiting, 0U);
}

TEST(pool_connect, destroying_the_pool_abandons_attempts_in_progress) {
  // Attempts that would wait a minute for the server (one for an acquire, one of the
  // background thread keeping min_idle) do not hold up ~pool.
  black_hole server;
  std::optional<pgorm::pool> db;
  db.emplace(server.conninfo(), pgorm::pool_options{.max_size = 2,
                                                    .min_idle = 1,
                                                    .acquire_timeout = 60s,
                                                    .idle_timeout = 100ms,  // wakes every 25 ms
                                                    .lazy = true,
                                                    .connection = {.connect_timeout = 60s}});
  EXPECT_THROW((void)db->acquire(300ms), pgorm::pool_timeout);
  const auto start = clock_type::now();
  db.reset();
  EXPECT_LT(clock_type::now() - start, 5s);
}

TEST(pool_close, acquire_after_close_is_a_usage_error) {
  pgorm::pool db{nowhere, {.lazy = true}};
  db.close();
  EXPECT_TRUE(db.closed());
  EXPECT_THROW((void)db.acquire(), pgorm::usage_error);
  db.close();  // idempotent
}

TEST(pool_lease, an_empty_lease_is_false_and_get_throws) {
  pgorm::lease l;
  EXPECT_FALSE(l);
  EXPECT_THROW((void)l.get(), pgorm::usage_error);
  l.release();  // no-op
}

}  // namespace
