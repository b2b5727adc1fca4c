// SPDX-License-Identifier: MIT
// The async pool's read sharing (pgorm::async::read_sharing) against a real server: builders'
// reads keep more statements in flight than the pool has connections, a lease or a
// transaction keeps its connection to itself, an exclusive borrower waits for a shared
// connection's reads to finish, a failing read fails only its own awaiter, a select calling a
// function that may write is not shared, a connection lost under shared reads is replaced,
// each() does not share, and the mode on a multi-threaded io_context (for ThreadSanitizer).

#include <algorithm>
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
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <fmt/format.h>
#include <gtest/gtest.h>

#include "pgorm/async.hpp"
#include "pgorm/error.hpp"
#include "pgorm/pool.hpp"
#include "pgorm/query.hpp"
#include "pgorm/query/functions.hpp"
#include "support/async_test.hpp"
#include "support/db_test.hpp"

namespace asio = boost::asio;
using namespace std::chrono_literals;
using asio::awaitable;
using asio::use_awaitable;
namespace pa = pgorm::async;

namespace share_test {

// A view (below): five rows, each select of it sleeps `pause` seconds; q divides by id - 3, so
// reading the row with id 3 fails (division by zero) and the others do not.
struct share_probe {
  std::int32_t id;
  std::int32_t q;
  std::int32_t pid;  // the server process that answered
};

// The same, sleeping half a second per select (created by the test that uses it).
struct share_slow {
  std::int32_t id;
  std::int32_t pid;
};

}  // namespace share_test

namespace {

using pgorm::test::run_coro;
using pgorm::test::sleep_for;
using share_test::share_probe;
using share_test::share_slow;

class async_shared_reads_test : public pgorm::test::db_test {
 protected:
  void SetUp() override {
    db_test::SetUp();
    conn().exec(
        "create view share_probe as select g as id, 10 / (g - 3) as q, pg_backend_pid() as pid "
        "from generate_series(1, 5) g, pg_sleep(0.03) s");
  }
  pgorm::pool_options options(std::size_t max_size) const {
    pgorm::pool_options o;
    o.max_size = max_size;
    o.connection = pgorm::test::test_options();
    return o;
  }
  static auto probe(std::int32_t id) {
    return pgorm::select<share_probe>().where(pgorm::col<&share_probe::id> == id);
  }
};

// Waits (boundedly) until `n` coroutines are done.
awaitable<void> wait_for(const int& done, int n) {
  for (int i = 0; done < n && i < 1000; ++i) co_await sleep_for(10ms);
}

TEST_F(async_shared_reads_test, reads_keep_more_statements_in_flight_than_connections) {
  run_coro([&](asio::io_context& io) -> awaitable<void> {
    pa::pool db(io, conninfo(), options(2), {.per_connection = 16});
    EXPECT_EQ(db.sharing().per_connection, 16u);
    constexpr int n = 24;
    int done = 0;
    std::size_t peak = 0;
    std::set<std::int32_t> pids;
    std::vector<std::string> errors;
    for (int i = 0; i < n; ++i) {
      asio::co_spawn(
          io,
          [&]() -> awaitable<void> {
            try {
              const share_probe row = co_await pa::one(db, probe(1), use_awaitable);
              EXPECT_EQ(row.q, -5);
              pids.insert(row.pid);
            } catch (const std::exception& e) {
              errors.emplace_back(e.what());
            }
            ++done;
          },
          asio::detached);
    }
    // Each read takes 30 ms on the server, one after another on a connection: sampling every
    // 5 ms sees them in flight together.
    for (int i = 0; done < n && i < 2000; ++i) {
      peak = std::max(peak, db.reads_in_flight());
      co_await sleep_for(5ms);
    }
    EXPECT_EQ(done, n);
    EXPECT_TRUE(errors.empty()) << errors.front();
    EXPECT_GT(peak, 2u) << "no more reads in flight than connections";
    EXPECT_LE(pids.size(), 2u);
    const pgorm::pool_stats s = db.stats();
    EXPECT_LE(s.total_opened, 2u);
    // The last read of each connection gave it back: idle, nothing in flight.
    EXPECT_EQ(db.reads_in_flight(), 0u);
    EXPECT_EQ(s.in_use, 0u);
    EXPECT_EQ(s.idle, s.total_opened);
    EXPECT_EQ(s.waiting, 0u);
  });
}

TEST_F(async_shared_reads_test, leases_and_transactions_keep_their_connection_to_themselves) {
  conn().exec("create table share_item (k int primary key)");
  run_coro([&](asio::io_context& io) -> awaitable<void> {
    pa::pool db(io, conninfo(), options(3), {.per_connection = 16});
    struct backend {
      std::int32_t pid;
    };
    pa::lease held = co_await db.async_acquire(use_awaitable);
    const backend mine = co_await pa::one(
        *held, pgorm::query<backend>("select pg_backend_pid() as pid"), use_awaitable);
    std::int32_t tx_pid = 0;
    bool tx_started = false;
    bool tx_done = false;
    asio::co_spawn(io,
                   pa::run_transaction(
                       db,
                       [&](pa::transaction& tx) -> awaitable<void> {
                         const pgorm::result r = co_await tx.async_exec(
                             "insert into share_item values (1) returning pg_backend_pid()",
                             use_awaitable);
                         tx_pid = std::stoi(std::string(r.value(0, 0)));
                         tx_started = true;
                         for (int i = 0; !tx_done && i < 1000; ++i) co_await sleep_for(5ms);
                       },
                       use_awaitable),
                   asio::detached);
    for (int i = 0; !tx_started && i < 1000; ++i) co_await sleep_for(5ms);
    EXPECT_TRUE(tx_started);
    constexpr int n = 12;
    int done = 0;
    std::set<std::int32_t> pids;
    std::vector<std::string> errors;
    for (int i = 0; i < n; ++i) {
      asio::co_spawn(
          io,
          [&]() -> awaitable<void> {
            try {
              pids.insert((co_await pa::one(db, probe(2), use_awaitable)).pid);
            } catch (const std::exception& e) {
              errors.emplace_back(e.what());
            }
            ++done;
          },
          asio::detached);
    }
    co_await wait_for(done, n);
    tx_done = true;
    EXPECT_EQ(done, n);
    EXPECT_TRUE(errors.empty()) << errors.front();
    // All reads ran on the third connection: neither on the lease's nor the transaction's.
    EXPECT_EQ(pids.size(), 1u);
    EXPECT_EQ(pids.count(mine.pid), 0u);
    EXPECT_EQ(pids.count(tx_pid), 0u);
    held.release();
    for (int i = 0; db.stats().in_use > 0 && i < 300; ++i) co_await sleep_for(10ms);
    EXPECT_EQ(db.stats().in_use, 0u);
  });
  EXPECT_EQ(conn().exec("select count(*) from share_item").value(0, 0), "1");
}

TEST_F(async_shared_reads_test, an_exclusive_borrower_waits_for_the_reads_in_flight) {
  run_coro([&](asio::io_context& io) -> awaitable<void> {
    pa::pool db(io, conninfo(), options(1), {.per_connection = 8});
    constexpr int n = 6;
    int done = 0;
    for (int i = 0; i < n; ++i) {
      asio::co_spawn(
          io,
          [&]() -> awaitable<void> {
            (void)co_await pa::one(db, probe(4), use_awaitable);
            ++done;
          },
          asio::detached);
    }
    for (int i = 0; db.reads_in_flight() == 0 && i < 1000; ++i) co_await sleep_for(2ms);
    EXPECT_GT(db.reads_in_flight(), 0u);
    // A write borrows the one connection exclusively: only once every read on it is done.
    pa::lease l = co_await db.async_acquire(use_awaitable);
    EXPECT_EQ(db.reads_in_flight(), 0u);
    co_await wait_for(done, n);
    EXPECT_EQ(done, n);
    // While it is lent, reads wait for it rather than share it.
    bool read_done = false;
    asio::co_spawn(
        io,
        [&]() -> awaitable<void> {
          (void)co_await pa::one(db, probe(5), use_awaitable);
          read_done = true;
        },
        asio::detached);
    co_await sleep_for(50ms);
    EXPECT_FALSE(read_done);
    EXPECT_EQ(db.reads_in_flight(), 0u);
    EXPECT_EQ(db.stats().waiting, 1u);
    l.release();
    for (int i = 0; !read_done && i < 1000; ++i) co_await sleep_for(5ms);
    EXPECT_TRUE(read_done);
    EXPECT_EQ(db.stats().total_opened, 1u);
  });
}

TEST_F(async_shared_reads_test, a_failing_read_fails_only_its_own_awaiter) {
  run_coro([&](asio::io_context& io) -> awaitable<void> {
    pa::pool db(io, conninfo(), options(1), {.per_connection = 32});
    constexpr int n = 15;
    int done = 0;
    int failed = 0;
    std::vector<std::string> errors;
    std::size_t peak = 0;
    for (int i = 0; i < n; ++i) {
      const std::int32_t id = i % 5 + 1;
      asio::co_spawn(
          io,
          [&, id]() -> awaitable<void> {
            try {
              const share_probe row = co_await pa::one(db, probe(id), use_awaitable);
              EXPECT_EQ(row.id, id);
              EXPECT_EQ(row.q, 10 / (id - 3));
            } catch (const pgorm::sql_error& e) {
              EXPECT_EQ(id, 3) << e.what();
              EXPECT_EQ(e.sqlstate(), "22012") << e.what();
              ++failed;
            } catch (const std::exception& e) {
              errors.emplace_back(e.what());
            }
            ++done;
          },
          asio::detached);
    }
    for (int i = 0; done < n && i < 2000; ++i) {
      peak = std::max(peak, db.reads_in_flight());
      co_await sleep_for(5ms);
    }
    EXPECT_EQ(done, n);
    EXPECT_EQ(failed, 3);
    EXPECT_TRUE(errors.empty()) << errors.front();
    EXPECT_GT(peak, 1u) << "the reads did not share the connection";
    // A statement's error does not poison the connection: it is kept.
    const pgorm::pool_stats s = db.stats();
    EXPECT_EQ(s.total_opened, 1u);
    EXPECT_EQ(s.total_closed, 0u);
    EXPECT_EQ(s.idle, 1u);
  });
}

// A select that calls a function which may write (pgorm::fn<> of a name not known to be
// read-only) is not a read, so it is not shared: in a group of reads, a later failing read of
// the group would roll back what the function wrote, although its own awaiter got its rows.
TEST_F(async_shared_reads_test, a_select_calling_a_function_that_writes_is_not_shared) {
  conn().exec("create table share_touched (id int not null)");
  conn().exec(
      "create function share_touch(id int) returns int language sql as "
      "'insert into share_touched values (id) returning id'");
  const auto touch =
      pgorm::select(pgorm::fn<"share_touch", std::int32_t>(pgorm::col<&share_probe::id>))
          .where(pgorm::col<&share_probe::id> == 1);
  static_assert(decltype(touch)::effect == pgorm::sql_effect::writes);
  run_coro([&](asio::io_context& io) -> awaitable<void> {
    pa::pool db(io, conninfo(), options(1), {.per_connection = 32});
    int done = 0;
    int touched = 0;
    int failed = 0;
    std::vector<std::string> errors;
    const auto spawn = [&](auto body) {
      asio::co_spawn(
          io,
          [&, body]() -> awaitable<void> {
            try {
              co_await body();
            } catch (const pgorm::sql_error& e) {
              EXPECT_EQ(e.sqlstate(), "22012") << e.what();
              ++failed;
            } catch (const std::exception& e) {
              errors.emplace_back(e.what());
            }
            ++done;
          },
          asio::detached);
    };
    // The first read goes out alone; the two statements issued in the same turn behind it
    // would share one sync point as reads: the call, then a read that fails.
    spawn([&]() -> awaitable<void> { co_await pa::one(db, probe(1), use_awaitable); });
    spawn([&]() -> awaitable<void> {
      const auto row = co_await pa::one(db, touch, use_awaitable);
      EXPECT_EQ(std::get<0>(row), 1);
      ++touched;
    });
    spawn([&]() -> awaitable<void> { co_await pa::one(db, probe(3), use_awaitable); });
    co_await wait_for(done, 3);
    EXPECT_EQ(done, 3);
    EXPECT_EQ(touched, 1);
    EXPECT_EQ(failed, 1);
    EXPECT_TRUE(errors.empty()) << errors.front();
  });
  // What the function wrote stands.
  EXPECT_EQ(std::string(conn().exec("select count(*) from share_touched").value(0, 0)), "1");
}

TEST_F(async_shared_reads_test, a_connection_lost_under_shared_reads_is_replaced) {
  conn().exec(
      "create view share_slow as select g as id, pg_backend_pid() as pid "
      "from generate_series(1, 2) g, pg_sleep(0.5) s");
  run_coro([&](asio::io_context& io) -> awaitable<void> {
    pa::pool db(io, conninfo(), options(1), {.per_connection = 8});
    const std::int32_t first = (co_await pa::one(db, probe(1), use_awaitable)).pid;
    constexpr int n = 6;
    int done = 0;
    int lost = 0;
    std::vector<std::string> others;
    for (int i = 0; i < n; ++i) {
      asio::co_spawn(
          io,
          [&]() -> awaitable<void> {
            try {
              (void)co_await pa::one(
                  db, pgorm::select<share_slow>().where(pgorm::col<&share_slow::id> == 1),
                  use_awaitable);
            } catch (const pgorm::connection_error&) {
              ++lost;
            } catch (const std::exception& e) {
              others.emplace_back(e.what());
            }
            ++done;
          },
          asio::detached);
    }
    for (int i = 0; db.reads_in_flight() < n && i < 1000; ++i) co_await sleep_for(2ms);
    EXPECT_EQ(db.reads_in_flight(), static_cast<std::size_t>(n));
    conn().exec(fmt::format("select pg_terminate_backend({})", first));
    co_await wait_for(done, n);
    EXPECT_EQ(done, n);
    EXPECT_GE(lost, 1);
    EXPECT_TRUE(others.empty()) << others.front();
    // The broken connection was closed, not kept: the next read opens another.
    const std::int32_t second = (co_await pa::one(db, probe(1), use_awaitable)).pid;
    EXPECT_NE(second, first);
    const pgorm::pool_stats s = db.stats();
    EXPECT_EQ(s.total_opened, 2u);
    EXPECT_EQ(s.total_closed, 1u);
    EXPECT_EQ(s.in_use, 0u);
    EXPECT_EQ(db.reads_in_flight(), 0u);
  });
}

TEST_F(async_shared_reads_test, each_borrows_its_connection_exclusively) {
  run_coro([&](asio::io_context& io) -> awaitable<void> {
    pa::pool db(io, conninfo(), options(2), {.per_connection = 8});
    std::vector<std::size_t> shared_during;
    co_await pa::each(
        db, pgorm::select<share_probe>().where(pgorm::col<&share_probe::id> != 3),
        [&](const share_probe& /*row*/) { shared_during.push_back(db.reads_in_flight()); },
        use_awaitable);
    EXPECT_EQ(shared_during, std::vector<std::size_t>(4, 0));
  });
}

TEST_F(async_shared_reads_test, many_threads_share_reads_leases_and_transactions) {
  // A 4-thread io_context, 64 coroutines over 3 connections, for ThreadSanitizer.
  conn().exec("create table share_count (k int primary key, n int not null)");
  conn().exec("insert into share_count values (1, 0)");
  asio::io_context io;
  auto db =
      std::make_unique<pa::pool>(io, conninfo(), options(3), pa::read_sharing{.per_connection = 8});
  std::atomic<int> done{0};
  std::mutex mu;
  std::vector<std::string> errors;
  for (int i = 0; i < 64; ++i) {
    asio::co_spawn(
        io,
        [&, i]() -> awaitable<void> {
          try {
            if (i % 8 == 0) {
              pa::lease l = co_await db->async_acquire(use_awaitable);
              co_await l->async_exec("select set_config('app.n', '1', false)", use_awaitable);
            } else if (i % 8 == 1) {
              co_await pa::run_transaction(
                  *db,
                  [](pa::transaction& tx) -> awaitable<void> {
                    co_await tx.async_exec("update share_count set n = n + 1 where k = 1",
                                           use_awaitable);
                  },
                  use_awaitable);
            } else {
              (void)co_await pa::one(*db, probe(i % 2 == 0 ? 1 : 2), use_awaitable);
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
  EXPECT_EQ(db->reads_in_flight(), 0u);
  EXPECT_EQ(conn().exec("select n from share_count").value(0, 0), "8");
}

}  // namespace
