// SPDX-License-Identifier: MIT
// The async path under faults (docs/reliability.md): the async pool's events and leak
// detection as the synchronous pool reports them, pool exhaustion, a timer that cancels a
// pooled statement on the server, a black-holed link with a deadline, and, against a server of
// its own, a restart under load with many coroutines on a multi-threaded io_context. Every
// scenario ends with the leak check (leak_check.hpp).

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <exception>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <tuple>
#include <typeinfo>
#include <utility>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "fault/support/leak_check.hpp"
#include "fault/support/tcp_proxy.hpp"
#include "pgorm/async.hpp"
#include "pgorm/connection.hpp"
#include "pgorm/error.hpp"
#include "pgorm/observer.hpp"
#include "pgorm/pool.hpp"
#include "pgorm/query.hpp"
#include "pgorm/testing/server.hpp"
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
using pgorm::fault::tcp_proxy;
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

// Runs `n` threads on `io` until its work is done.
void run_threads(asio::io_context& io, int n) {
  std::vector<std::thread> threads;
  for (int i = 0; i < n; ++i) threads.emplace_back([&io] { io.run(); });
  for (auto& t : threads) t.join();
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

// A pool terminal borrows its connection inside the library: the report names the terminal's
// call site (it named a line of pgorm/async/query.hpp).
TEST_F(async_fault, leak_detection_names_a_pool_terminals_call_site) {
  auto events = std::make_shared<event_log>();
  std::string app;
  int line = 0;
  run_coro([&](asio::io_context& io) -> awaitable<void> {
    pa::pool db(io, pool_conninfo("aleak_terminal", &app),
                {.max_size = 1, .leak_threshold = 100ms, .connection = {.events = events}});
    const auto slow = pgorm::query<std::tuple<int>>("select 1 from pg_sleep(0.6)");
    // clang-format off
    line = __LINE__; const auto rows = co_await pa::all(db, slow, use_awaitable);
    // clang-format on
    EXPECT_EQ(rows.size(), 1U);
    co_await settle(db);
  });
  const auto details = events->details(pool_event_kind::leak_suspected);
  ASSERT_EQ(details.size(), 1U);
  EXPECT_THAT(details[0], HasSubstr(fmt::format("async_fault_test.cpp:{}", line)));
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

// ---- cancellation from a timer ------------------------------------------------------------------

TEST_F(async_fault, a_timer_cancels_a_pooled_statement_on_the_server) {
  using namespace asio::experimental::awaitable_operators;
  std::string app;
  asio::io_context io;
  std::exception_ptr failure;
  bool done = false;
  pa::pool db(io, pool_conninfo("acancel", &app),
              {.max_size = 2, .connection = {.cancel_grace = 10s}});
  asio::co_spawn(
      io,
      [&]() -> awaitable<void> {
        asio::steady_timer timer(io);
        timer.expires_after(300ms);
        auto winner =
            co_await (pa::one(db, pgorm::query<value_row>("select 1 as v from pg_sleep(60)"),
                              use_awaitable) ||
                      timer.async_wait(use_awaitable));
        EXPECT_EQ(winner.index(), 1U);  // the timer
        // The sleep is gone from pg_stat_activity, asked over another connection.
        const bool gone = co_await [&]() -> awaitable<bool> {
          for (int i = 0; i < 1000; ++i) {
            const auto r = conn().exec(
                "select count(*) from pg_stat_activity where application_name = $1 and state = "
                "'active' and query like '%pg_sleep(60)%'",
                {pgorm::param::text(app)});
            if (r.value(0, 0) == "0") co_return true;
            co_await sleep_for(10ms);
          }
          co_return false;
        }();
        EXPECT_TRUE(gone) << "the cancelled statement still runs on the server after 10 s";
        // The pool still serves.
        const value_row r =
            co_await pa::one(db, pgorm::query<value_row>("select 3 as v"), use_awaitable);
        EXPECT_EQ(r.v, 3);
        co_await settle(db);
        expect_async_pool_matches_backends(db, app);
        db.close();
      },
      [&](std::exception_ptr e) {
        failure = e;
        done = true;
      });
  run_threads(io, 2);
  ASSERT_TRUE(done);
  if (failure) std::rethrow_exception(failure);
}

// ---- a black-holed link -----------------------------------------------------------------------

class async_proxy_fault : public async_fault {
 protected:
  static void SetUpTestSuite() {
    // The backend notices a vanished client while it runs (see proxy_fault_test.cpp).
    pg_ = std::make_unique<pgorm::testing::any_server>(pgorm::testing::server_options{
        .tcp = true, .settings = {{"client_connection_check_interval", "'50ms'"}}});
  }
  static void TearDownTestSuite() { pg_.reset(); }
  static pgorm::testing::any_server& pg() { return *pg_; }

  std::string via(const tcp_proxy& proxy, std::string_view hint) {
    const std::string name = app(hint, pg_->conninfo());
    return fmt::format("host=127.0.0.1 port={} user=postgres dbname=postgres application_name={}",
                       proxy.port(), name);
  }

 private:
  static inline std::unique_ptr<pgorm::testing::any_server> pg_;
};

TEST_F(async_proxy_fault, a_deadline_holds_on_a_black_holed_link) {
  tcp_proxy proxy(pg().port());
  asio::io_context io;
  std::string outcome;
  bool typed = false;
  std::optional<pa::connection> kept;
  clock_type::time_point start{};
  std::int64_t took_ms = -1;
  asio::co_spawn(
      io,
      [&]() -> awaitable<void> {
        pa::connection c = co_await pa::connection::async_connect(
            io, via(proxy, "ablackhole"), {.connect_timeout = 5s, .cancel_grace = 500ms},
            use_awaitable);
        EXPECT_EQ((co_await c.async_exec("select 1", use_awaitable)).value(0, 0), "1");
        proxy.set_mode(tcp_proxy::mode::stall);
        start = clock_type::now();
        try {
          co_await c.async_exec("select 2", {}, pgorm::data_format::text, 300ms, use_awaitable);
          outcome = "returned a result";
        } catch (const pgorm::error& e) {
          typed = true;
          outcome = std::string(typeid(e).name()) + ": " + e.what();
        } catch (const std::exception& e) {
          outcome = std::string("untyped: ") + e.what();
        }
        took_ms = ms_since(start);
        kept.emplace(std::move(c));
      },
      asio::detached);
  // A watchdog instead of a hang: after 10 s the links are reset, which ends any wait.
  io.run_for(10s);
  const bool bounded = took_ms >= 0;
  if (!bounded) {
    proxy.set_mode(tcp_proxy::mode::reset);
    io.run_for(10s);
  }
  EXPECT_TRUE(bounded) << "a statement with a 300 ms deadline on a black-holed link had not "
                          "completed after 10 s";
  EXPECT_TRUE(typed) << outcome;
  EXPECT_THAT(outcome, ::testing::Not(HasSubstr("returned a result")));
  EXPECT_LE(took_ms, 5000) << outcome;  // deadline + cancel_grace, with room for a busy machine
  ASSERT_TRUE(kept.has_value());
  EXPECT_FALSE(kept->is_open()) << "a connection whose cancel went unanswered must be closed";
  kept.reset();
  proxy.set_mode(tcp_proxy::mode::reset);
}

// ---- a server restart under load ---------------------------------------------------------------

class async_server_fault : public async_fault {
 protected:
  static void SetUpTestSuite() {
    pg_ = std::make_unique<pgorm::testing::any_server>(pgorm::testing::server_options{.tcp = true});
  }
  static void TearDownTestSuite() { pg_.reset(); }
  void SetUp() override {
    if (!pg_->running()) pg_->start();
    async_fault::SetUp();
  }
  static pgorm::testing::any_server& pg() { return *pg_; }

 private:
  static inline std::unique_ptr<pgorm::testing::any_server> pg_;
};

TEST_F(async_server_fault, restart_under_load_with_64_coroutines_recovers) {
  const std::string app_name = app("arestart", pg().conninfo());
  const std::string info = pgorm::fault::with_application_name(pg().conninfo(), app_name);
  struct outcome {
    clock_type::time_point started;
    clock_type::time_point ended;
    std::string error;  // "" for success
  };
  constexpr int coroutines = 64;
  constexpr std::size_t max_size = 4;
  asio::io_context io;
  pa::pool db(io, info, {.max_size = max_size, .acquire_timeout = 20s});
  std::mutex mu;
  std::vector<outcome> outcomes;
  std::atomic<bool> stop{false};
  std::atomic<int> running{0};
  for (int i = 0; i < coroutines; ++i) {
    ++running;
    asio::co_spawn(
        io,
        [&]() -> awaitable<void> {
          while (!stop.load()) {
            outcome o{clock_type::now(), {}, {}};
            try {
              const value_row r = co_await pa::one(
                  db, pgorm::query<value_row>("select 1 as v from pg_sleep(0.002)"), use_awaitable);
              if (r.v != 1) o.error = "wrong value";
            } catch (const pgorm::pool_timeout& e) {
              o.error = std::string("pool_timeout: ") + e.what();
            } catch (const pgorm::error& e) {
              o.error = (e.poisons_connection() ? "lost: " : "other: ") + std::string(e.what());
            }
            o.ended = clock_type::now();
            if (!o.error.empty()) co_await sleep_for(20ms);  // as a caller backing off would
            std::lock_guard lock(mu);
            outcomes.push_back(std::move(o));
          }
          --running;
        },
        asio::detached);
  }
  std::vector<std::thread> threads;
  for (int i = 0; i < 2; ++i) threads.emplace_back([&io] { io.run(); });
  std::this_thread::sleep_for(300ms);
  const auto down = clock_type::now();
  pg().restart();
  const auto up = clock_type::now();
  std::this_thread::sleep_for(2s);
  stop = true;
  const bool ended = pgorm::fault::eventually([&] { return running.load() == 0; }, 30s);
  EXPECT_TRUE(ended) << running.load() << " coroutines still running 30 s after stop";
  db.close();
  for (auto& t : threads) t.join();

  std::lock_guard lock(mu);
  int after_up = 0;
  int failed_after_up = 0;
  int succeeded_late = 0;
  for (const auto& o : outcomes) {
    if (!o.error.empty()) {
      // A lost connection, or no connection to be had while the server was down; never a
      // wrong result, a pool_timeout or a hang.
      EXPECT_THAT(o.error, ::testing::StartsWith("lost: "));
      EXPECT_GE(o.ended, down) << o.error;
      if (o.started >= up) ++failed_after_up;
    } else if (o.started >= up + 1s) {
      ++succeeded_late;
    }
    if (o.started >= up) ++after_up;
  }
  RecordProperty("operations", static_cast<int>(outcomes.size()));
  RecordProperty("failed_started_after_up", failed_after_up);
  // Nothing started after the restart fails: a lost connection makes the pool check its idle
  // siblings before it hands them out (as the synchronous pool does).
  EXPECT_EQ(failed_after_up, 0) << after_up << " started after up";
  EXPECT_GT(succeeded_late, coroutines)
      << "the pool did not recover within a second of the restart";
  // Everything started a second after the restart succeeded.
  for (const auto& o : outcomes) {
    if (o.started >= up + 1s) {
      EXPECT_EQ(o.error, "");
    }
  }
}

}  // namespace
