// SPDX-License-Identifier: MIT
// The async pool against a real server: more coroutines than connections all complete on
// max_size connections, acquire timeouts, a returned connection serving a waiter, the session
// reset between borrowers, closing with waiters, idle eviction, a failed connect failing
// waiters at once, and transactions on the pool.

#include <atomic>
#include <chrono>
#include <exception>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <gtest/gtest.h>

#include "pgorm/async.hpp"
#include "pgorm/error.hpp"
#include "pgorm/pool.hpp"
#include "pgorm/query.hpp"
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

// Waits (boundedly) for the connections given back to finish their reset (DISCARD ALL runs
// on the pool's executor after the borrower resumed).
awaitable<void> settle(pa::pool& db) {
  for (int i = 0; db.stats().in_use > 0 && i < 300; ++i) co_await sleep_for(10ms);
}

struct backend {
  std::int32_t pid;
};

class async_pool_test : public pgorm::test::db_test {
 protected:
  pgorm::pool_options options(std::size_t max_size) const {
    pgorm::pool_options o;
    o.max_size = max_size;
    o.connection = pgorm::test::test_options();
    return o;
  }
};

TEST_F(async_pool_test, more_coroutines_than_connections_all_complete) {
  run_coro([&](asio::io_context& io) -> awaitable<void> {
    pa::pool db(io, conninfo(), options(3));
    constexpr int n = 40;
    int done = 0;
    std::set<std::int32_t> pids;
    std::vector<std::string> errors;
    for (int i = 0; i < n; ++i) {
      asio::co_spawn(
          io,
          [&]() -> awaitable<void> {
            try {
              const backend b = co_await pa::one(
                  db, pgorm::query<backend>("select pg_backend_pid() as pid from pg_sleep(0.01)"),
                  use_awaitable);
              pids.insert(b.pid);
            } catch (const std::exception& e) {
              errors.emplace_back(e.what());
            }
            ++done;
          },
          asio::detached);
    }
    for (int i = 0; done < n && i < 1000; ++i) co_await sleep_for(10ms);
    EXPECT_EQ(done, n);
    EXPECT_TRUE(errors.empty()) << errors.front();
    EXPECT_GE(pids.size(), 1u);
    EXPECT_LE(pids.size(), 3u);
    co_await settle(db);
    const pgorm::pool_stats s = db.stats();
    EXPECT_LE(s.total_opened, 3u);
    EXPECT_EQ(s.total_acquired, static_cast<std::uint64_t>(n));
    EXPECT_EQ(s.in_use, 0u);
    EXPECT_EQ(s.waiting, 0u);
  });
}

TEST_F(async_pool_test, many_threads_share_a_pool) {
  // A 4-thread io_context, 64 coroutines, 3 connections: for ThreadSanitizer.
  asio::io_context io;
  auto db = std::make_unique<pa::pool>(io, conninfo(), options(3));
  std::atomic<int> done{0};
  std::mutex mu;
  std::vector<std::string> errors;
  for (int i = 0; i < 64; ++i) {
    asio::co_spawn(
        io,
        [&, i]() -> awaitable<void> {
          try {
            if (i % 4 == 0) {
              pa::lease l = co_await db->async_acquire(use_awaitable);
              co_await l->async_exec("select set_config('app.n', '1', false)", use_awaitable);
            } else {
              (void)co_await pa::one(*db, pgorm::query<backend>("select pg_backend_pid() as pid"),
                                     use_awaitable);
            }
          } catch (const std::exception& e) {
            std::lock_guard lock(mu);
            errors.emplace_back(e.what());
          }
          if (++done == 64) db->close();  // lets run() return once the resets are done
        },
        asio::detached);
  }
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) threads.emplace_back([&io] { io.run(); });
  for (auto& t : threads) t.join();
  EXPECT_EQ(done.load(), 64);
  EXPECT_TRUE(errors.empty()) << errors.front();
  EXPECT_LE(db->stats().total_opened, 3u);
}

TEST_F(async_pool_test, acquire_times_out_and_a_returned_connection_serves_a_waiter) {
  run_coro([&](asio::io_context& io) -> awaitable<void> {
    auto o = options(1);
    o.acquire_timeout = 200ms;
    pa::pool db(io, conninfo(), o);
    pa::lease held = co_await db.async_acquire(use_awaitable);
    const int pid = held->backend_pid();
    const auto start = std::chrono::steady_clock::now();
    try {
      (void)co_await db.async_acquire(use_awaitable);
      ADD_FAILURE() << "a second connection came out of a pool of one";
    } catch (const pgorm::pool_timeout& e) {
      EXPECT_EQ(e.reason(), pgorm::pool_timeout_reason::exhausted) << e.what();
      EXPECT_EQ(e.in_use(), 1u);
    }
    const auto waited = std::chrono::steady_clock::now() - start;
    EXPECT_GE(waited, 150ms);
    EXPECT_LT(waited, 3s);

    // A waiter with time to spare gets the connection when it comes back.
    int served_pid = 0;
    bool served = false;
    asio::co_spawn(
        io,
        [&]() -> awaitable<void> {
          pa::lease l = co_await db.async_acquire(5s, use_awaitable);
          served_pid = l->backend_pid();
          served = true;
        },
        asio::detached);
    co_await sleep_for(50ms);
    EXPECT_FALSE(served);
    EXPECT_EQ(db.stats().waiting, 1u);
    held.release();
    for (int i = 0; !served && i < 300; ++i) co_await sleep_for(10ms);
    EXPECT_TRUE(served);
    EXPECT_EQ(served_pid, pid);
  });
}

TEST_F(async_pool_test, a_timer_cancels_a_waiting_acquire) {
  run_coro([&](asio::io_context& io) -> awaitable<void> {
    using namespace asio::experimental::awaitable_operators;
    auto o = options(1);
    o.acquire_timeout = 30s;
    pa::pool db(io, conninfo(), o);
    pa::lease held = co_await db.async_acquire(use_awaitable);
    const auto start = std::chrono::steady_clock::now();
    asio::steady_timer timer(io, 100ms);
    auto winner = co_await (
        pa::one(db, pgorm::query<backend>("select pg_backend_pid() as pid"), use_awaitable) ||
        timer.async_wait(use_awaitable));
    EXPECT_EQ(winner.index(), 1u);
    EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);  // not the 30 s acquire_timeout
    EXPECT_EQ(db.stats().waiting, 0u);
    held.release();
    // The pool goes on serving.
    const backend b = co_await pa::one(db, pgorm::query<backend>("select pg_backend_pid() as pid"),
                                       use_awaitable);
    EXPECT_GT(b.pid, 0);
  });
}

TEST_F(async_pool_test, session_state_does_not_leak_to_the_next_borrower) {
  run_coro([&](asio::io_context& io) -> awaitable<void> {
    pa::pool db(io, conninfo(), options(1));
    int pid = 0;
    {
      pa::lease l = co_await db.async_acquire(use_awaitable);
      pid = l->backend_pid();
      co_await l->async_exec("select set_config('app.secret', 'leaked', false)", use_awaitable);
      auto r = co_await l->async_exec("select current_setting('app.secret', true)", use_awaitable);
      EXPECT_EQ(r.value(0, 0), "leaked");
    }
    pa::lease l = co_await db.async_acquire(use_awaitable);
    EXPECT_EQ(l->backend_pid(), pid);  // the same session, reset
    auto r = co_await l->async_exec("select coalesce(current_setting('app.secret', true), '')",
                                    use_awaitable);
    EXPECT_EQ(r.value(0, 0), "");
    l.release();
    // Raw SQL through a pool terminal is reset after too.
    co_await pa::exec(db, pgorm::query<backend>("select set_config('app.secret', 'again', false)"),
                      use_awaitable);
    struct setting {
      std::string v;
    };
    const setting s = co_await pa::one(
        db, pgorm::query<setting>("select coalesce(current_setting('app.secret', true), '') as v"),
        use_awaitable);
    EXPECT_EQ(s.v, "");
    EXPECT_EQ(db.stats().total_opened, 1u);
  });
}

TEST_F(async_pool_test, closing_fails_waiters_and_later_acquires) {
  run_coro([&](asio::io_context& io) -> awaitable<void> {
    auto o = options(1);
    o.acquire_timeout = 30s;
    pa::pool db(io, conninfo(), o);
    pa::lease held = co_await db.async_acquire(use_awaitable);
    int refused = 0;
    for (int i = 0; i < 2; ++i) {
      asio::co_spawn(
          io,
          [&]() -> awaitable<void> {
            try {
              (void)co_await db.async_acquire(use_awaitable);
            } catch (const pgorm::usage_error&) {
              ++refused;
            }
          },
          asio::detached);
    }
    co_await sleep_for(30ms);
    EXPECT_EQ(db.stats().waiting, 2u);
    const auto start = std::chrono::steady_clock::now();
    db.close();
    for (int i = 0; refused < 2 && i < 300; ++i) co_await sleep_for(10ms);
    EXPECT_EQ(refused, 2);
    EXPECT_LT(std::chrono::steady_clock::now() - start, 3s);
    EXPECT_THROW((void)co_await db.async_acquire(use_awaitable), pgorm::usage_error);
    EXPECT_TRUE(held->is_open());  // a lease stays valid; closed when it comes back
    held.release();
    EXPECT_EQ(db.stats().idle, 0u);
    EXPECT_EQ(db.stats().total_closed, 1u);
  });
}

TEST_F(async_pool_test, idle_connections_are_closed_after_idle_timeout) {
  run_coro([&](asio::io_context& io) -> awaitable<void> {
    auto o = options(2);
    o.idle_timeout = 50ms;
    pa::pool db(io, conninfo(), o);
    co_await pa::exec(db, pgorm::query<backend>("select 1"), use_awaitable);
    EXPECT_EQ(db.stats().total_opened, 1u);
    for (int i = 0; db.stats().total_closed == 0 && i < 300; ++i) co_await sleep_for(10ms);
    EXPECT_EQ(db.stats().idle, 0u);
    EXPECT_EQ(db.stats().total_closed, 1u);
  });
}

TEST_F(async_pool_test, health_check_replaces_a_dead_idle_connection) {
  run_coro([&](asio::io_context& io) -> awaitable<void> {
    auto o = options(1);
    o.health_check_after = 0ms;  // every connection that sat idle is checked
    pa::pool db(io, conninfo(), o);
    const backend first = co_await pa::one(
        db, pgorm::query<backend>("select pg_backend_pid() as pid"), use_awaitable);
    co_await settle(db);
    // The server ends the idle session (as a restart or an idle-session timeout would).
    conn().exec("select pg_terminate_backend(" + std::to_string(first.pid) + ")");
    co_await sleep_for(50ms);
    const backend second = co_await pa::one(
        db, pgorm::query<backend>("select pg_backend_pid() as pid"), use_awaitable);
    EXPECT_NE(second.pid, first.pid);
    EXPECT_EQ(db.stats().total_opened, 2u);
    EXPECT_EQ(db.stats().total_closed, 1u);
  });
}

TEST_F(async_pool_test, failed_connect_fails_the_waiter_at_once_naming_the_cause) {
  run_coro([&](asio::io_context& io) -> awaitable<void> {
    auto o = options(2);
    o.acquire_timeout = 20s;
    // Nothing listens on port 1: the attempt is refused at once.
    pa::pool db(io, "host=127.0.0.1 port=1 dbname=nope user=nope password=hunter2", o);
    const auto start = std::chrono::steady_clock::now();
    try {
      (void)co_await db.async_acquire(use_awaitable);
      ADD_FAILURE() << "connected to port 1";
    } catch (const pgorm::pool_connect_error& e) {
      const std::string what = e.what();
      EXPECT_NE(what.find("127.0.0.1"), std::string::npos) << what;
      EXPECT_EQ(what.find("hunter2"), std::string::npos) << what;
      EXPECT_THROW(std::rethrow_if_nested(e), pgorm::connection_error);
    }
    EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
    EXPECT_EQ(db.stats().total_connect_failures, 1u);
  });
}

TEST_F(async_pool_test, transactions_and_terminals_run_on_the_pool) {
  conn().exec("create table item (k int primary key)");
  run_coro([&](asio::io_context& io) -> awaitable<void> {
    pa::pool db(io, conninfo(), options(2));
    co_await pa::run_transaction(
        db,
        [&](pa::transaction& tx) -> awaitable<void> {
          co_await tx.async_exec("insert into item values (1), (2)", use_awaitable);
        },
        use_awaitable);
    EXPECT_THROW(co_await pa::run_transaction(
                     db,
                     [&](pa::transaction& tx) -> awaitable<void> {
                       co_await tx.async_exec("insert into item values (3)", use_awaitable);
                       co_await tx.async_exec("insert into item values (1)", use_awaitable);
                     },
                     use_awaitable),
                 pgorm::unique_violation);
    struct item {
      std::int32_t k;
    };
    const auto rows =
        co_await pa::all(db, pgorm::query<item>("select k from item order by k"), use_awaitable);
    EXPECT_EQ(rows.size(), 2u);
    co_await settle(db);
    EXPECT_EQ(db.stats().in_use, 0u);
  });
}

}  // namespace
