// SPDX-License-Identifier: MIT
// The async path under faults (docs/reliability.md): the async pool's events and leak
// detection as the synchronous pool reports them, and pool exhaustion. Every scenario ends
// with the leak check (leak_check.hpp).

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "fault/support/leak_check.hpp"
#include "pgorm/async.hpp"
#include "pgorm/connection.hpp"
#include "pgorm/error.hpp"
#include "pgorm/observer.hpp"
#include "pgorm/pool.hpp"
#include "pgorm/query.hpp"
#include "support/async_test.hpp"

namespace {

namespace asio = boost::asio;
namespace pa = pgorm::async;
using namespace std::chrono_literals;
using asio::awaitable;
using asio::use_awaitable;
using pgorm::pool_event_kind;
using pgorm::fault::clock_type;
using pgorm::fault::ms_since;
using pgorm::test::run_coro;
using pgorm::test::sleep_for;
using ::testing::HasSubstr;

// Records pool events (thread-safe).
struct event_log : pgorm::observer {
  mutable std::mutex mu;
  std::vector<std::pair<pool_event_kind, std::string>> events;
  void on_pool_event(const pgorm::pool_event& e) override {
    std::lock_guard lock(mu);
    events.emplace_back(e.kind, std::string(e.detail));
  }
  int count(pool_event_kind k) const {
    std::lock_guard lock(mu);
    return static_cast<int>(
        std::count_if(events.begin(), events.end(), [k](const auto& e) { return e.first == k; }));
  }
  std::vector<std::string> details(pool_event_kind k) const {
    std::lock_guard lock(mu);
    std::vector<std::string> out;
    for (const auto& e : events) {
      if (e.first == k) out.push_back(e.second);
    }
    return out;
  }
  // Every event but connect (whose detail names the connection), sorted: the two pools emit
  // them from different threads, so only the multiset is comparable.
  std::vector<std::pair<pool_event_kind, std::string>> sorted() const {
    std::lock_guard lock(mu);
    std::vector<std::pair<pool_event_kind, std::string>> out;
    for (const auto& e : events) {
      if (e.first == pool_event_kind::connect) {
        out.emplace_back(e.first, "");
      } else {
        out.push_back(e);
      }
    }
    std::sort(out.begin(), out.end());
    return out;
  }
};

struct value_row {
  int v;
};

// Waits (boundedly) for connections given back to finish their reset on the executor.
awaitable<void> settle(pa::pool& db) {
  for (int i = 0; db.stats().in_use > 0 && i < 500; ++i) co_await sleep_for(10ms);
}

class async_fault : public pgorm::fault::fault_test {
 protected:
  // The pool's count (in use + idle) equals its backends, as expect_pool_matches_backends does
  // for a synchronous pool.
  void expect_async_pool_matches_backends(const pa::pool& db, const std::string& app_name,
                                          const std::string& admin_conninfo = {}) {
    int seen = -1;
    std::size_t expected = 0;
    const bool ok = pgorm::fault::eventually([&] {
      const auto s = db.stats();
      expected = s.in_use + s.idle;
      seen = backends_of(app_name, admin_conninfo);
      return static_cast<std::size_t>(seen) == expected;
    });
    EXPECT_TRUE(ok) << "pool holds " << expected << " connections, the server shows " << seen
                    << " backends of " << app_name;
  }
};

// ---- parity with the synchronous pool ----------------------------------------------------------

TEST_F(async_fault, leak_detection_names_the_acquire_site) {
  auto events = std::make_shared<event_log>();
  std::string app;
  int line = 0;
  run_coro([&](asio::io_context& io) -> awaitable<void> {
    pa::pool db(io, pool_conninfo("aleak", &app),
                {.max_size = 2, .leak_threshold = 100ms, .connection = {.events = events}});
    // clang-format off
    line = __LINE__; pa::lease l = co_await db.async_acquire(use_awaitable);
    // clang-format on
    for (int i = 0; i < 300 && events->count(pool_event_kind::leak_suspected) == 0; ++i) {
      co_await sleep_for(10ms);
    }
    co_await sleep_for(200ms);  // reported once, not again
    l.release();
    co_await settle(db);
    expect_async_pool_matches_backends(db, app);
  });
  const auto details = events->details(pool_event_kind::leak_suspected);
  ASSERT_EQ(details.size(), 1U);
  EXPECT_THAT(details[0], HasSubstr(fmt::format("async_fault_test.cpp:{}", line)));
  EXPECT_THAT(details[0], HasSubstr("leak_threshold 100 ms"));
  EXPECT_THAT(details[0], HasSubstr("possible connection leak"));
}

TEST_F(async_fault, leak_detection_without_an_observer_warns_on_stderr) {
  std::string app;
  ::testing::internal::CaptureStderr();
  run_coro([&](asio::io_context& io) -> awaitable<void> {
    pa::pool db(io, pool_conninfo("aleak_stderr", &app), {.max_size = 1, .leak_threshold = 50ms});
    pa::lease l = co_await db.async_acquire(use_awaitable);
    co_await sleep_for(400ms);
    l.release();
    co_await settle(db);
  });
  const std::string err = ::testing::internal::GetCapturedStderr();
  EXPECT_THAT(err, HasSubstr("possible connection leak"));
  EXPECT_THAT(err, HasSubstr("async_fault_test.cpp"));
}

// The same borrowing, on each pool: the same events with the same details (connect's detail
// aside), as a multiset.
TEST_F(async_fault, the_async_pool_emits_the_events_of_the_synchronous_pool) {
  auto sync_events = std::make_shared<event_log>();
  auto async_events = std::make_shared<event_log>();
  const auto options = [](std::shared_ptr<event_log> log) {
    return pgorm::pool_options{.max_size = 1,
                               .acquire_timeout = 5s,
                               .lazy = true,
                               .health_check_after = 1h,
                               .connection = {.events = std::move(log)}};
  };
  std::string sync_app;
  std::string async_app;
  {
    pgorm::pool db(pool_conninfo("events_sync", &sync_app), options(sync_events));
    {
      pgorm::lease l = db.acquire();
      l->exec("select 1");
    }  // reset and kept
    {
      pgorm::lease l = db.acquire();
      EXPECT_THROW((void)db.acquire(100ms), pgorm::pool_timeout);
      l.poison();
    }  // evicted: poisoned
    {
      pgorm::lease l = db.acquire();
      l->exec("begin");
    }  // evicted: the reset fails inside a transaction block
    (void)db.acquire();
    db.close();  // evicts the idle one
  }
  run_coro([&](asio::io_context& io) -> awaitable<void> {
    pa::pool db(io, pool_conninfo("events_async", &async_app), options(async_events));
    {
      pa::lease l = co_await db.async_acquire(use_awaitable);
      co_await l->async_exec("select 1", use_awaitable);
    }
    co_await settle(db);
    {
      pa::lease l = co_await db.async_acquire(use_awaitable);
      EXPECT_THROW(co_await db.async_acquire(100ms, use_awaitable), pgorm::pool_timeout);
      l.poison();
    }
    co_await settle(db);
    {
      pa::lease l = co_await db.async_acquire(use_awaitable);
      co_await l->async_exec("begin", use_awaitable);
    }
    co_await settle(db);
    (void)co_await db.async_acquire(use_awaitable);
    co_await settle(db);
    db.close();
  });
  EXPECT_EQ(async_events->sorted(), sync_events->sorted());
  EXPECT_THAT(async_events->details(pool_event_kind::evict),
              ::testing::UnorderedElementsAre("poisoned", "in transaction", "pool closed"));
  EXPECT_THAT(async_events->details(pool_event_kind::timeout), ::testing::ElementsAre("exhausted"));
}

// ---- exhaustion ---------------------------------------------------------------------------------

TEST_F(async_fault, exhaustion_fails_every_waiter_in_time_as_exhausted_with_counts) {
  auto events = std::make_shared<event_log>();
  std::string app;
  run_coro([&](asio::io_context& io) -> awaitable<void> {
    pa::pool db(io, pool_conninfo("aexhaust", &app),
                {.max_size = 2, .acquire_timeout = 300ms, .connection = {.events = events}});
    pa::lease a = co_await db.async_acquire(use_awaitable);
    pa::lease b = co_await db.async_acquire(use_awaitable);
    constexpr int waiters = 20;
    std::atomic<int> timed_out{0};
    std::atomic<int> finished{0};
    std::vector<std::string> wrong;
    const auto start = clock_type::now();
    for (int i = 0; i < waiters; ++i) {
      asio::co_spawn(
          io,
          [&]() -> awaitable<void> {
            try {
              (void)co_await pa::one(db, pgorm::query<value_row>("select 1 as v"), use_awaitable);
              wrong.emplace_back("a statement ran on an exhausted pool");
            } catch (const pgorm::pool_timeout& e) {
              if (e.reason() == pgorm::pool_timeout_reason::exhausted && e.in_use() == 2 &&
                  e.max_size() == 2 && e.waited() >= 300ms) {
                ++timed_out;
              } else {
                wrong.emplace_back(e.what());
              }
            } catch (const std::exception& e) {
              wrong.emplace_back(e.what());
            }
            ++finished;
          },
          asio::detached);
    }
    for (int i = 0; i < 1000 && finished < waiters; ++i) co_await sleep_for(10ms);
    EXPECT_EQ(finished.load(), waiters);
    EXPECT_LT(ms_since(start), 10000);  // a generous bound on a 300 ms timeout
    EXPECT_EQ(timed_out.load(), waiters);
    EXPECT_THAT(wrong, ::testing::IsEmpty());
    EXPECT_EQ(db.stats().total_timeouts, static_cast<std::uint64_t>(waiters));
    EXPECT_EQ(events->count(pool_event_kind::timeout), waiters);
    EXPECT_THAT(events->details(pool_event_kind::timeout), ::testing::Each("exhausted"));
    // A connection given back serves the next caller at once.
    a.release();
    const value_row r =
        co_await pa::one(db, pgorm::query<value_row>("select 7 as v"), use_awaitable);
    EXPECT_EQ(r.v, 7);
    b.release();
    co_await settle(db);
    expect_async_pool_matches_backends(db, app);
  });
}

}  // namespace
