// SPDX-License-Identifier: MIT
// pgorm::async::each() against a real server: rows reach the function while the server is
// still sending (single-row mode, one row held at a time), on the completion's executor; an
// exception from the function, a deadline and the cancellation slot stop the statement on the
// server and leave the connection usable; other coroutines' statements on the same connection
// go on around a streamed one.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <exception>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/bind_executor.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <gtest/gtest.h>

#include "pgorm/async.hpp"
#include "pgorm/error.hpp"
#include "pgorm/query.hpp"
#include "support/async_test.hpp"
#include "support/db_test.hpp"
#include "support/schema.hpp"

namespace asio = boost::asio;
using namespace std::chrono_literals;
using asio::awaitable;
using asio::use_awaitable;

namespace {

using pgorm::test::run_coro;
using pgorm::test::sleep_for;
namespace pa = pgorm::async;

struct numbered {
  std::int64_t n;
  std::string pad;
};

struct number {
  std::int64_t n;
};

// More rows than any socket buffer holds: ~20 MB.
constexpr std::int64_t many = 100000;
// So many rows that the server cannot send them all within any deadline of these tests (in the
// select list, generate_series() yields its rows one by one; in FROM it would compute them all
// before the first is sent).
const auto endless = pgorm::query<number>("select generate_series(1::int8, 2000000000::int8) as n");

class async_each_test : public pgorm::test::async_db_test {
 protected:
  // The server process `pid`'s state and wait event, as pg_stat_activity shows them.
  std::string activity(int pid) {
    const pgorm::result r = conn().exec(
        "select coalesce(state, '') || '/' || coalesce(wait_event, '') from pg_stat_activity "
        "where pid = $1::int",
        {pgorm::param::text(std::to_string(pid))});
    return r.rows() == 1 ? std::string(r.value(0, 0)) : std::string("gone");
  }

  // Polls (up to 20 s) until the server process `pid` waits to write to its client.
  bool server_blocked_writing(int pid) {
    for (int i = 0; i < 400; ++i) {
      if (activity(pid) == "active/ClientWrite") return true;
      std::this_thread::sleep_for(50ms);
    }
    return false;
  }

  // A statement that completes within 20 s: the connection is usable and the server is free.
  awaitable<void> expect_usable(pa::connection& c) {
    const pgorm::result r =
        co_await c.async_exec("select 41 + 1", {}, pgorm::data_format::text, 20s, use_awaitable);
    EXPECT_EQ(r.value(0, 0), "42");
  }
};

TEST_F(async_each_test, streams_rows_while_the_server_is_still_sending) {
  run_coro([&](asio::io_context& io) -> awaitable<void> {
    auto conn = co_await open(io);
    const int pid = conn.backend_pid();
    const auto q = pgorm::query<numbered>(
        "select g::int8 as n, repeat('x', 200) as pad from generate_series(1, $1::int8) g", many);
    std::int64_t seen = 0;
    bool in_order = true;
    bool blocked_at_first = false;
    bool blocked_later = false;
    co_await pa::each(
        conn, q,
        [&](const numbered& row) {
          ++seen;
          in_order = in_order && row.n == seen && row.pad.size() == 200;
          // The first row arrived and the server still has most of the result to send: it
          // waits for us to read (we hold one row, not the result).
          if (seen == 1) blocked_at_first = server_blocked_writing(pid);
          if (seen == 1000) blocked_later = server_blocked_writing(pid);
        },
        use_awaitable);
    EXPECT_EQ(seen, many);
    EXPECT_TRUE(in_order);
    EXPECT_TRUE(blocked_at_first) << activity(pid);
    EXPECT_TRUE(blocked_later) << activity(pid);
    co_await expect_usable(conn);
  });
}

TEST_F(async_each_test, streams_a_prepared_builder_select) {
  conn().exec(std::string(qt::ddl));
  conn().exec(
      "insert into \"user\" (email, name, age) select 'u' || g || '@x.org', repeat('n', 300), "
      "g % 90 from generate_series(1, 60000) g");
  run_coro([&](asio::io_context& io) -> awaitable<void> {
    auto conn = co_await open(io);
    const int pid = conn.backend_pid();
    const auto q = pgorm::select<qt::User>()
                       .where(pgorm::col<&qt::User::age> >= 0)
                       .order_by(pgorm::col<&qt::User::id>);
    for (int round = 0; round < 2; ++round) {  // prepared (Parse sent with it), then by name
      std::int64_t seen = 0;
      std::int64_t last_id = 0;
      bool in_order = true;
      bool blocked_at_first = false;
      co_await pa::each(
          conn, q,
          [&](const qt::User& u) {
            ++seen;
            in_order = in_order && u.id > last_id && u.name && u.name->size() == 300;
            last_id = u.id;
            if (seen == 1) blocked_at_first = server_blocked_writing(pid);
          },
          use_awaitable);
      EXPECT_EQ(seen, 60000) << "round " << round;
      EXPECT_TRUE(in_order) << "round " << round;
      EXPECT_TRUE(blocked_at_first) << "round " << round << ": " << activity(pid);
    }
  });
}

TEST_F(async_each_test, calls_the_function_on_the_completion_executor) {
  asio::io_context io;
  auto strand = asio::make_strand(io);
  std::optional<pa::connection> conn;
  int rows = 0;
  int off_strand = 0;
  bool done = false;
  std::exception_ptr error;
  pa::connection::async_connect(io, conninfo(), {}, [&](std::exception_ptr e, pa::connection c) {
    if (e) {
      error = e;
      return;
    }
    conn.emplace(std::move(c));
    pa::each(
        *conn, pgorm::query<number>("select g::int8 as n from generate_series(1, 50) g"),
        [&](const number& /*row*/) {
          ++rows;
          if (!strand.running_in_this_thread()) ++off_strand;
        },
        asio::bind_executor(strand, [&](std::exception_ptr e2) {
          error = e2;
          done = strand.running_in_this_thread();
        }));
  });
  io.run();
  if (error) std::rethrow_exception(error);
  EXPECT_TRUE(done);
  EXPECT_EQ(rows, 50);
  EXPECT_EQ(off_strand, 0);
}

TEST_F(async_each_test, an_exception_from_the_function_stops_the_statement) {
  run_coro([&](asio::io_context& io) -> awaitable<void> {
    auto conn = co_await open(io);
    std::int64_t seen = 0;
    try {
      co_await pa::each(
          pa::with_timeout(conn, 60s), endless,
          [&](const number& row) {
            seen = row.n;
            if (row.n == 100) throw std::runtime_error("enough rows");
          },
          use_awaitable);
      ADD_FAILURE() << "each() completed without the function's exception";
    } catch (const std::runtime_error& e) {
      EXPECT_EQ(std::string(e.what()), "enough rows");
    }
    EXPECT_EQ(seen, 100);  // no call after the one that threw
    // Two billion rows would take minutes: the server stopped sending them.
    co_await expect_usable(conn);
    std::vector<std::int64_t> after;
    co_await pa::each(
        conn, pgorm::query<number>("select g::int8 as n from generate_series(1, 3) g"),
        [&](const number& row) { after.push_back(row.n); }, use_awaitable);
    EXPECT_EQ(after, (std::vector<std::int64_t>{1, 2, 3}));
  });
}

TEST_F(async_each_test, a_deadline_or_the_cancellation_slot_stops_a_stream) {
  run_coro([&](asio::io_context& io) -> awaitable<void> {
    auto conn = co_await open(io);
    // The session's first statement (catalog caches, planning) done before the clock starts:
    // the deadline below must pass while rows are flowing. On a loaded CI machine a 2 s
    // deadline once passed before the server had sent the first row (query_canceled, as it
    // should be, but with no row seen); what this test checks is a stream stopped midway.
    co_await expect_usable(conn);
    std::int64_t seen = 0;
    EXPECT_THROW(co_await pa::each(
                     pa::with_timeout(conn, 3s), endless, [&](const number& /*row*/) { ++seen; },
                     use_awaitable),
                 pgorm::query_canceled);
    EXPECT_GT(seen, 0);
    co_await expect_usable(conn);

    // The server has sent all 20 rows long before the deadline; the function is slow. Once
    // the deadline passed, the rows not yet handed over are dropped: the operation must not
    // report success for a stream its function did not see whole.
    seen = 0;
    EXPECT_THROW(co_await pa::each(
                     pa::with_timeout(conn, 150ms),
                     pgorm::query<number>("select g::int8 as n from generate_series(1, 20) g"),
                     [&](const number& /*row*/) {
                       ++seen;
                       std::this_thread::sleep_for(100ms);
                     },
                     use_awaitable),
                 pgorm::query_canceled);
    EXPECT_LT(seen, 20);
    co_await expect_usable(conn);

    using namespace asio::experimental::awaitable_operators;
    seen = 0;
    auto raced =
        co_await (pa::each(
                      conn, endless, [&](const number& /*row*/) { ++seen; }, use_awaitable) ||
                  sleep_for(2s));
    EXPECT_EQ(raced.index(), 1u);  // the timer won; the stream was cancelled
    EXPECT_GT(seen, 0);
    co_await expect_usable(conn);
  });
}

TEST_F(async_each_test, other_statements_go_on_around_a_stream) {
  run_coro([&](asio::io_context& io) -> awaitable<void> {
    auto conn = co_await open(io);
    int done = 0;
    int wrong = 0;
    auto reader = [&](std::int64_t k) -> awaitable<void> {
      const std::optional<number> r = co_await pa::first(
          conn, pgorm::query<number>("select $1::int8 * 2 as n", k), use_awaitable);
      if (!r || r->n != k * 2) ++wrong;
      ++done;
    };
    // Statements in flight before the stream, and others issued while it runs.
    for (std::int64_t k = 0; k < 20; ++k) asio::co_spawn(io, reader(k), asio::detached);
    std::int64_t seen = 0;
    bool in_order = true;
    co_await pa::each(
        conn, pgorm::query<number>("select g::int8 as n from generate_series(1, 20000) g"),
        [&](const number& row) {
          ++seen;
          in_order = in_order && row.n == seen;
          if (row.n % 1000 == 0) {
            for (std::int64_t k = 0; k < 5; ++k) {
              asio::co_spawn(io, reader(row.n + k), asio::detached);
            }
          }
        },
        use_awaitable);
    EXPECT_EQ(seen, 20000);
    EXPECT_TRUE(in_order);
    for (int waited = 0; done < 120 && waited < 2000; ++waited) co_await sleep_for(10ms);
    EXPECT_EQ(done, 120);
    EXPECT_EQ(wrong, 0);
    // Two streams at once on the one connection: each gets its own rows, in order.
    std::vector<std::int64_t> a;
    std::vector<std::int64_t> b;
    int streams = 0;
    auto stream = [&](std::vector<std::int64_t>& into, std::int64_t from) -> awaitable<void> {
      co_await pa::each(
          conn,
          pgorm::query<number>(
              "select g::int8 as n from generate_series($1::int8, $1::int8 + 999) g", from),
          [&](const number& row) { into.push_back(row.n); }, use_awaitable);
      ++streams;
    };
    asio::co_spawn(io, stream(a, 1), asio::detached);
    asio::co_spawn(io, stream(b, 5001), asio::detached);
    for (int waited = 0; streams < 2 && waited < 2000; ++waited) co_await sleep_for(10ms);
    EXPECT_EQ(streams, 2);
    EXPECT_EQ(a.size(), 1000u);
    EXPECT_EQ(b.size(), 1000u);
    if (a.size() == 1000u && b.size() == 1000u) {
      EXPECT_EQ(a.front(), 1);
      EXPECT_EQ(a.back(), 1000);
      EXPECT_EQ(b.front(), 5001);
      EXPECT_EQ(b.back(), 6000);
    }
  });
}

TEST_F(async_each_test, streams_through_a_pool) {
  run_coro([&](asio::io_context& io) -> awaitable<void> {
    pa::pool db(io, conninfo(), {.max_size = 1});
    std::int64_t seen = 0;
    co_await pa::each(
        db, pgorm::query<number>("select g::int8 as n from generate_series(1, 5000) g"),
        [&](const number& row) { seen += row.n == seen + 1 ? 1 : 0; }, use_awaitable);
    EXPECT_EQ(seen, 5000);
    // A function that throws: the statement is stopped, the connection goes back to the pool
    // and serves the next statement.
    EXPECT_THROW(co_await pa::each(
                     db, endless,
                     [&](const number& row) {
                       if (row.n == 10) throw std::runtime_error("stop");
                     },
                     use_awaitable),
                 std::runtime_error);
    const std::optional<number> r =
        co_await pa::first(db, pgorm::query<number>("select 7::int8 as n"), use_awaitable);
    EXPECT_TRUE(r && r->n == 7);
  });
}

TEST_F(async_each_test, streams_on_a_multi_threaded_io_context) {
  constexpr int coroutines = 8;
  asio::io_context io(4);
  std::optional<pa::connection> conn;
  std::atomic<int> ok{0};
  std::atomic<int> bad{0};
  asio::co_spawn(
      io,
      [&]() -> awaitable<void> {
        conn.emplace(co_await open(io));
        for (int c = 0; c < coroutines; ++c) {
          // Each coroutine on its own strand, so that they run on different threads.
          asio::co_spawn(
              asio::make_strand(io),
              [&, c]() -> awaitable<void> {
                std::int64_t seen = 0;
                bool in_order = true;
                co_await pa::each(
                    *conn,
                    pgorm::query<number>(
                        "select g::int8 as n from generate_series($1::int8, $1::int8 + 1999) g",
                        c * 10000),
                    [&](const number& row) {
                      in_order = in_order && row.n == c * 10000 + seen;
                      ++seen;
                    },
                    use_awaitable);
                const std::optional<number> r = co_await pa::first(
                    *conn, pgorm::query<number>("select $1::int8 as n", c), use_awaitable);
                (seen == 2000 && in_order && r && r->n == c ? ok : bad).fetch_add(1);
              },
              asio::detached);
        }
      },
      asio::detached);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) threads.emplace_back([&] { io.run(); });
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), coroutines);
  EXPECT_EQ(bad.load(), 0);
}

}  // namespace
