// SPDX-License-Identifier: MIT
// A statement sent alone, outside pipeline mode (docs/async.md, "Automatic pipelining"): what
// a lone result's handler issues is held until it returns, then sent (one alone, more
// pipelined); a statement issued elsewhere while one runs alone waits for its result; errors,
// deadlines and cancellation still hold for both; and sequential coroutines on a multi-threaded
// io_context (for ThreadSanitizer).

#include <atomic>
#include <chrono>
#include <exception>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <gtest/gtest.h>

#include "pgorm/async.hpp"
#include "pgorm/error.hpp"
#include "support/async_test.hpp"

namespace asio = boost::asio;
using namespace std::chrono_literals;
using asio::awaitable;
using asio::use_awaitable;
using pgorm::async::connection;

namespace {

using pgorm::test::run_coro;
using pgorm::test::sleep_for;

class async_alone_test : public pgorm::test::async_db_test {};

// A callback's outcome.
struct outcome {
  bool done = false;
  std::exception_ptr error;
  std::string value;
};

auto record(outcome& o) {
  return [&o](std::exception_ptr e, pgorm::result r) {
    o.done = true;
    o.error = e;
    if (!e && r.rows() > 0) o.value = std::string(r.value(0, 0));
  };
}

TEST_F(async_alone_test, statements_a_lone_results_handler_issues_are_sent_when_it_returns) {
  run_coro([&](asio::io_context& io) -> awaitable<void> {
    connection conn = co_await open(io);
    (void)co_await conn.async_exec("select 1", use_awaitable);
    // Resumed by a lone result: these two are held until the coroutine suspends...
    outcome slow;
    outcome fast;
    conn.async_exec("select pg_sleep(1)", record(slow));
    conn.async_exec("select 2", record(fast));
    EXPECT_EQ(conn.in_flight(), 0u);
    co_await sleep_for(50ms);
    // ...then both go out, pipelined: the second does not wait for the first's result.
    EXPECT_EQ(conn.in_flight(), 2u);
    while (!slow.done || !fast.done) co_await sleep_for(10ms);
    EXPECT_FALSE(slow.error);
    EXPECT_FALSE(fast.error);
    EXPECT_EQ(fast.value, "2");
    EXPECT_EQ(conn.in_flight(), 0u);
  });
}

TEST_F(async_alone_test, a_statement_issued_elsewhere_waits_for_the_lone_one) {
  run_coro([&](asio::io_context& io) -> awaitable<void> {
    connection conn = co_await open(io);
    outcome other;
    std::size_t in_flight_then = 99;
    bool issued = false;
    asio::co_spawn(
        io,
        [&]() -> awaitable<void> {
          co_await sleep_for(400ms);
          conn.async_exec("select 2", record(other));
          in_flight_then = conn.in_flight();
          issued = true;
        },
        asio::detached);
    (void)co_await conn.async_exec("select 1", use_awaitable);
    // Alone (the coroutine's next statement after a lone result): the timer's statement,
    // issued while it runs, is held until its result is in.
    pgorm::result r = co_await conn.async_exec("select 3 from pg_sleep(1.5)", use_awaitable);
    EXPECT_EQ(r.value(0, 0), "3");
    EXPECT_TRUE(issued);
    EXPECT_EQ(in_flight_then, 1u);  // only the lone statement was out
    EXPECT_FALSE(other.done);       // its result comes after
    while (!other.done) co_await sleep_for(10ms);
    EXPECT_FALSE(other.error);
    EXPECT_EQ(other.value, "2");
  });
}

TEST_F(async_alone_test, lone_statements_keep_their_errors_deadlines_and_transactions) {
  conn().exec("create table alone_t (x int primary key)");
  run_coro([&](asio::io_context& io) -> awaitable<void> {
    connection conn = co_await open(io);
    (void)co_await conn.async_exec("select 1", use_awaitable);
    // A failing lone statement fails alone; the next one runs.
    EXPECT_THROW((void)co_await conn.async_exec("select 1 / 0", use_awaitable), pgorm::sql_error);
    pgorm::result r = co_await conn.async_exec("select 5", use_awaitable);
    EXPECT_EQ(r.value(0, 0), "5");
    // Past its deadline, a lone statement is cancelled on the server.
    EXPECT_THROW((void)co_await conn.async_exec("select pg_sleep(30)", {}, pgorm::data_format::text,
                                                200ms, use_awaitable),
                 pgorm::query_canceled);
    EXPECT_EQ(conn.status(), pgorm::transaction_status::idle);
    // A statement held behind a lone one is cancelled before it is sent at its own deadline.
    outcome held;
    asio::co_spawn(
        io,
        [&]() -> awaitable<void> {
          co_await sleep_for(50ms);
          conn.async_exec("insert into alone_t values (1)", {}, pgorm::data_format::text, 100ms,
                          record(held));
        },
        asio::detached);
    (void)co_await conn.async_exec("select pg_sleep(0.6)", use_awaitable);
    while (!held.done) co_await sleep_for(10ms);
    EXPECT_TRUE(held.error);
    // A transaction's statements go alone one after another, pinned to the connection.
    co_await pgorm::async::run_transaction(
        conn,
        [&](pgorm::async::transaction& tx) -> awaitable<void> {
          (void)co_await tx.async_exec("insert into alone_t values (2)", use_awaitable);
          (void)co_await tx.async_exec("insert into alone_t values (3)", use_awaitable);
        },
        {}, use_awaitable);
  });
  EXPECT_EQ(conn().exec("select string_agg(x::text, ',' order by x) from alone_t").value(0, 0),
            "2,3");
}

TEST_F(async_alone_test, sequential_coroutines_on_a_multi_threaded_io_context) {
  asio::io_context io(4);
  std::optional<connection> conn;
  std::atomic<int> finished = 0;
  std::atomic<int> wrong = 0;
  std::atomic<int> failed = 0;
  asio::co_spawn(
      io,
      [&]() -> awaitable<void> {
        conn.emplace(co_await open(io));
        for (int w = 0; w < 8; ++w) {
          asio::co_spawn(
              io,
              [&, w]() -> awaitable<void> {
                for (int i = 0; i < 40; ++i) {
                  const std::string v = std::to_string(w * 1000 + i);
                  const pgorm::param p[] = {pgorm::param::text(v)};
                  pgorm::result r = co_await conn->async_exec("select $1::int", p, use_awaitable);
                  if (r.value(0, 0) != v) ++wrong;
                }
                ++finished;
              },
              [&](std::exception_ptr e) {
                if (e) ++failed;
              });
        }
      },
      [&](std::exception_ptr e) {
        if (e) ++failed;
      });
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) threads.emplace_back([&] { io.run(); });
  for (auto& t : threads) t.join();
  EXPECT_EQ(failed.load(), 0);
  EXPECT_EQ(finished.load(), 8);
  EXPECT_EQ(wrong.load(), 0);
  if (conn) conn->close();
}

}  // namespace
