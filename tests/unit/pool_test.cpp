// SPDX-License-Identifier: MIT
// The pool's server-free parts: lifetime jitter, reconnect backoff, pool_timeout's texts,
// option checks, and acquiring from an unreachable server.

#include "pgorm/pool.hpp"

#include <atomic>
#include <chrono>
#include <exception>
#include <memory>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace {

using namespace std::chrono_literals;
using pgorm::detail::jittered_lifetime;
using pgorm::detail::reconnect_delay;
using ::testing::HasSubstr;

// No server listens in a directory that does not exist: connecting fails at once.
constexpr const char* nowhere = "host=/nonexistent/pgorm-pool-test port=1 dbname=none";

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

TEST(pool_timeout_error, exhausted_and_unreachable_say_which) {
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

TEST(pool_unreachable, lazy_acquire_times_out_as_unreachable_with_the_cause_nested) {
  pgorm::pool db{nowhere, {.acquire_timeout = 150ms, .lazy = true}};
  const auto start = std::chrono::steady_clock::now();
  try {
    auto l = db.acquire();
    FAIL() << "acquire succeeded";
  } catch (const pgorm::pool_timeout& e) {
    const auto waited = std::chrono::steady_clock::now() - start;
    EXPECT_GE(waited, 150ms);
    EXPECT_LT(waited, 250ms);
    EXPECT_EQ(e.reason(), pgorm::pool_timeout_reason::unreachable);
    EXPECT_THAT(e.what(), HasSubstr("unreachable"));
    EXPECT_FALSE(e.last_connect_error().empty());
    EXPECT_THAT(e.what(), HasSubstr(e.last_connect_error()));
    EXPECT_THROW(std::rethrow_if_nested(e), pgorm::connection_error);
  }
  const auto s = db.stats();
  EXPECT_EQ(s.total_timeouts, 1U);
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
  pgorm::pool db{nowhere,
                 {.acquire_timeout = 600ms, .lazy = true, .connection = {.events = events}}};
  EXPECT_THROW((void)db.acquire(), pgorm::pool_timeout);
  // 25, 50, 100, 200, 400 ms (each at least halved by jitter): a handful, not thousands.
  EXPECT_GE(events->failed.load(), 3);
  EXPECT_LE(events->failed.load(), 12);
}

TEST(pool_unreachable, background_top_up_and_acquire_share_the_backoff) {
  // min_idle makes the background thread try too; acquires still end on time as unreachable.
  pgorm::pool db{nowhere,
                 {.max_size = 2,
                  .min_idle = 1,
                  .acquire_timeout = 200ms,
                  .idle_timeout = 100ms,  // the background thread wakes every 25 ms
                  .lazy = true}};
  for (int i = 0; i < 3; ++i) {
    const auto start = std::chrono::steady_clock::now();
    try {
      (void)db.acquire();
      FAIL() << "acquire succeeded";
    } catch (const pgorm::pool_timeout& e) {
      EXPECT_EQ(e.reason(), pgorm::pool_timeout_reason::unreachable);
      EXPECT_LT(std::chrono::steady_clock::now() - start, 300ms);
    }
  }
  EXPECT_EQ(db.stats().total_timeouts, 3U);
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
