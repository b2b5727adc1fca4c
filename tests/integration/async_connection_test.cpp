// SPDX-License-Identifier: MIT
// pgorm::async::connection against a real server: connect (and its failures, without the
// password), statements with results and typed errors, 256 concurrent coroutines pipelined on
// one connection (one failing statement fails only itself), every completion token, deadlines
// and Asio cancellation that end the statement on the server (pg_stat_activity), and a
// multi-threaded io_context (run under TSan in CI).

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <exception>
#include <future>
#include <optional>
#include <string>
#include <thread>
#include <variant>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>
#include <gtest/gtest.h>

#include "pgorm/async/connection.hpp"
#include "pgorm/connection.hpp"
#include "pgorm/error.hpp"
#include "support/async_test.hpp"
#include "support/db_test.hpp"

namespace asio = boost::asio;
using namespace std::chrono_literals;
using asio::awaitable;
using asio::use_awaitable;
using pgorm::async::connection;

namespace {

using clock_type = std::chrono::steady_clock;

// Runs the coroutine made by fn(io) to its end on a one-thread io_context; rethrows its error.
using pgorm::test::run_coro;

class async_connection_test : public pgorm::test::db_test {
 protected:
  awaitable<connection> open(asio::io_context& io, pgorm::connect_options o = {}) {
    o.cancel_grace = 10s;  // a busy machine acknowledges cancels slowly (see test_options())
    co_return co_await connection::async_connect(io, conninfo(), o, use_awaitable);
  }

  // Whether `pid` runs a statement right now, asked over a second (synchronous) connection.
  bool backend_active(int pid) {
    auto other = connect();
    const auto r = other.exec(
        "select count(*) from pg_stat_activity where pid = $1::int and "
        "state = 'active'",
        {pgorm::param::text(std::to_string(pid))});
    return r.value(0, 0) != "0";
  }
};

TEST_F(async_connection_test, runs_a_statement_with_parameters) {
  run_coro([&](asio::io_context& io) -> awaitable<void> {
    connection conn = co_await open(io);
    EXPECT_TRUE(conn.is_open());
    EXPECT_GT(conn.backend_pid(), 0);
    EXPECT_NE(conn.description().find("dbname="), std::string::npos);
    const pgorm::param p[] = {pgorm::param::text("41"), pgorm::param::text("x")};
    pgorm::result r =
        co_await conn.async_exec("select $1::int + 1, $2::text || 'y'", p, use_awaitable);
    EXPECT_EQ(r.rows(), 1);
    EXPECT_EQ(r.value(0, 0), "42");
    EXPECT_EQ(r.value(0, 1), "xy");
    // Binary results and a statement without rows.
    pgorm::result b =
        co_await conn.async_exec("select 7::int4", {}, pgorm::data_format::binary, use_awaitable);
    EXPECT_EQ(b.column_format(0), pgorm::data_format::binary);
    EXPECT_EQ(b.value(0, 0).size(), 4u);
    pgorm::result c = co_await conn.async_exec("create table t (x int)", use_awaitable);
    EXPECT_EQ(c.rows(), 0);
    EXPECT_EQ(conn.in_flight(), 0u);
  });
}

TEST_F(async_connection_test, each_statement_gets_its_own_typed_error) {
  conn().exec("create table u (email text unique)");
  run_coro([&](asio::io_context& io) -> awaitable<void> {
    connection conn = co_await open(io);
    co_await conn.async_exec("insert into u values ('a@b.c')", use_awaitable);
    EXPECT_THROW(co_await conn.async_exec("insert into u values ('a@b.c')", use_awaitable),
                 pgorm::unique_violation);
    try {
      co_await conn.async_exec("selec 1", use_awaitable);
      ADD_FAILURE() << "a syntax error went through";
    } catch (const pgorm::sql_error& e) {
      EXPECT_EQ(e.sqlstate(), "42601");
    }
    // A text parameter with a NUL byte is refused before anything is sent.
    const pgorm::param bad[] = {pgorm::param::text(std::string_view("a\0b", 3))};
    EXPECT_THROW(co_await conn.async_exec("select $1::text", bad, use_awaitable),
                 pgorm::conversion_error);
    // The connection is fine after all of them.
    pgorm::result r = co_await conn.async_exec("select count(*) from u", use_awaitable);
    EXPECT_EQ(r.value(0, 0), "1");
  });
}

TEST_F(async_connection_test, concurrent_coroutines_are_pipelined_and_fail_alone) {
  constexpr int n = 256;
  run_coro([&](asio::io_context& io) -> awaitable<void> {
    connection conn = co_await open(io);
    int done = 0;
    int failed = 0;
    std::size_t most_in_flight = 0;
    std::vector<std::string> wrong;
    auto one = [&](int i) -> awaitable<void> {
      const std::string v = std::to_string(i);
      const pgorm::param p[] = {pgorm::param::text(v)};
      // Every 10th statement divides by zero: it alone fails.
      const char* sql = i % 10 == 3 ? "select 1 / ($1::int - $1::int)" : "select $1::int * 2";
      try {
        pgorm::result r = co_await conn.async_exec(sql, p, use_awaitable);
        if (i % 10 == 3 || r.value(0, 0) != std::to_string(i * 2)) {
          wrong.push_back(v + " got " + std::string(r.value(0, 0)));
        }
      } catch (const pgorm::sql_error& e) {
        if (i % 10 != 3 || e.sqlstate() != "22012") wrong.push_back(v + ": " + e.what());
        ++failed;
      }
      ++done;
    };
    for (int i = 0; i < n; ++i) {
      asio::co_spawn(io, one(i), asio::detached);
      most_in_flight = std::max(most_in_flight, conn.in_flight());
    }
    asio::steady_timer t(io);
    for (int waited = 0; done < n && waited < 3000; ++waited) {
      t.expires_after(10ms);
      co_await t.async_wait(use_awaitable);
    }
    EXPECT_EQ(done, n);
    EXPECT_EQ(failed, n / 10 + (n % 10 > 3 ? 1 : 0));
    EXPECT_TRUE(wrong.empty()) << wrong.front();
    // Sent without waiting for each other: all of them were out at once.
    EXPECT_EQ(most_in_flight, static_cast<std::size_t>(n));
    pgorm::result r = co_await conn.async_exec("select 'still fine'", use_awaitable);
    EXPECT_EQ(r.value(0, 0), "still fine");
  });
}

TEST_F(async_connection_test, callbacks_and_futures_complete_too) {
  asio::io_context io;
  std::optional<connection> conn;
  connection::async_connect(io, conninfo(), {}, [&](std::exception_ptr e, connection c) {
    ASSERT_FALSE(e);
    conn.emplace(std::move(c));
  });
  io.run();
  ASSERT_TRUE(conn && conn->is_open());
  io.restart();
  std::string via_callback;
  conn->async_exec("select 'cb'", [&](std::exception_ptr e, pgorm::result r) {
    ASSERT_FALSE(e);
    via_callback = std::string(r.value(0, 0));
  });
  io.run();
  EXPECT_EQ(via_callback, "cb");

  io.restart();
  auto work = asio::make_work_guard(io);
  std::thread runner([&] { io.run(); });
  std::future<pgorm::result> ok = conn->async_exec("select 'fut'", asio::use_future);
  std::future<pgorm::result> bad = conn->async_exec("select 1/0", asio::use_future);
  EXPECT_EQ(ok.get().value(0, 0), "fut");
  EXPECT_THROW(bad.get(), pgorm::sql_error);
  work.reset();
  runner.join();
}

TEST_F(async_connection_test, a_timer_cancels_the_statement_on_the_server) {
  using namespace asio::experimental::awaitable_operators;
  run_coro([&](asio::io_context& io) -> awaitable<void> {
    connection conn = co_await open(io);
    const int pid = conn.backend_pid();
    asio::steady_timer timer(io);
    timer.expires_after(300ms);
    const auto start = clock_type::now();
    auto winner = co_await (conn.async_exec("select pg_sleep(60)", use_awaitable) ||
                            timer.async_wait(use_awaitable));
    const auto took = clock_type::now() - start;
    EXPECT_EQ(winner.index(), 1u);  // the timer
    EXPECT_LT(took, 20s);
    // The sleep no longer runs on the server, and the connection is usable.
    EXPECT_FALSE(backend_active(pid));
    pgorm::result r = co_await conn.async_exec("select 'after'", use_awaitable);
    EXPECT_EQ(r.value(0, 0), "after");
  });
}

TEST_F(async_connection_test, a_deadline_cancels_a_sleeping_statement) {
  run_coro([&](asio::io_context& io) -> awaitable<void> {
    pgorm::connect_options o;
    o.query_timeout = 250ms;  // the default per call
    connection conn = co_await open(io, o);
    EXPECT_EQ(conn.default_timeout(), 250ms);
    const int pid = conn.backend_pid();
    const auto start = clock_type::now();
    try {
      co_await conn.async_exec("select pg_sleep(60)", use_awaitable);
      ADD_FAILURE() << "the sleep was not cancelled";
    } catch (const pgorm::query_canceled& e) {
      EXPECT_NE(std::string(e.what()).find("250 ms"), std::string::npos) << e.what();
    }
    EXPECT_LT(clock_type::now() - start, 20s);
    EXPECT_FALSE(backend_active(pid));
    // Its own timeout overrides the default, both ways.
    pgorm::result r = co_await conn.async_exec("select pg_sleep(0.6), 'slow but allowed'", {},
                                               pgorm::data_format::text, 30s, use_awaitable);
    EXPECT_EQ(r.value(0, 1), "slow but allowed");
    EXPECT_THROW(co_await conn.async_exec("select pg_sleep(60)", {}, pgorm::data_format::text,
                                          100ms, use_awaitable),
                 pgorm::query_canceled);
    EXPECT_EQ((co_await conn.async_exec("select 1", use_awaitable)).value(0, 0), "1");
  });
}

// The server drops a cancel that lands while it handles the statement's Bind (JIT inlining
// forced: a few hundred milliseconds per Bind, so each deadline passes in it); the connection
// asks again until the statement ends (engine_test has the synchronous case).
TEST_F(async_connection_test, a_cancel_the_server_drops_while_binding_is_sent_again) {
  run_coro([&](asio::io_context& io) -> awaitable<void> {
    connection conn = co_await open(io);
    for (const char* setting :
         {"set jit = on", "set jit_above_cost = 0", "set jit_inline_above_cost = 0",
          "set jit_optimize_above_cost = 0"}) {
      co_await conn.async_exec(setting, use_awaitable);
    }
    const std::array<pgorm::param, 1> rows{pgorm::param::text("2000000000")};
    for (const auto budget : {1ms, 5ms, 20ms}) {
      const auto start = clock_type::now();
      EXPECT_THROW(co_await conn.async_exec("select generate_series(1, $1::int8)", rows,
                                            pgorm::data_format::binary, budget, use_awaitable),
                   pgorm::query_canceled)
          << budget.count() << " ms";
      EXPECT_LT(clock_type::now() - start, 8s) << budget.count() << " ms";  // below the grace
      EXPECT_EQ((co_await conn.async_exec("select 1", use_awaitable)).value(0, 0), "1");
    }
  });
}

TEST_F(async_connection_test, cancelling_a_queued_statement_leaves_the_others_alone) {
  using namespace asio::experimental::awaitable_operators;
  run_coro([&](asio::io_context& io) -> awaitable<void> {
    connection conn = co_await open(io);
    std::optional<std::string> slow_result;
    bool slow_done = false;
    // A slow statement in front, then one behind it that its caller gives up on.
    asio::co_spawn(
        io,
        [&]() -> awaitable<void> {
          pgorm::result r = co_await conn.async_exec("select pg_sleep(1), 'slow'", use_awaitable);
          slow_result = std::string(r.value(0, 1));
          slow_done = true;
        },
        asio::detached);
    asio::steady_timer timer(io);
    timer.expires_after(100ms);
    const auto start = clock_type::now();
    auto winner = co_await (conn.async_exec("select 'behind'", use_awaitable) ||
                            timer.async_wait(use_awaitable));
    EXPECT_EQ(winner.index(), 1u);
    EXPECT_FALSE(slow_done);  // given up while still queued, without waiting for the front
    EXPECT_LT(clock_type::now() - start, 20s);
    // The statement in front is not harmed by its neighbour's cancellation.
    while (!slow_done) {
      timer.expires_after(20ms);
      co_await timer.async_wait(use_awaitable);
    }
    EXPECT_EQ(slow_result, "slow");
    pgorm::result r = co_await conn.async_exec("select 'next'", use_awaitable);
    EXPECT_EQ(r.value(0, 0), "next");
  });
}

TEST_F(async_connection_test, closing_fails_what_is_queued) {
  run_coro([&](asio::io_context& io) -> awaitable<void> {
    connection conn = co_await open(io);
    std::exception_ptr seen;
    bool done = false;
    conn.async_exec("select pg_sleep(60)", [&](std::exception_ptr e, pgorm::result) {
      seen = e;
      done = true;
    });
    conn.close();
    asio::steady_timer t(io);
    t.expires_after(50ms);
    co_await t.async_wait(use_awaitable);
    EXPECT_TRUE(done);
    EXPECT_THROW(std::rethrow_exception(seen), pgorm::connection_error);
    EXPECT_FALSE(conn.is_open());
    EXPECT_THROW(co_await conn.async_exec("select 1", use_awaitable), pgorm::connection_error);
  });
}

TEST_F(async_connection_test, a_backend_killed_under_load_fails_every_statement) {
  run_coro([&](asio::io_context& io) -> awaitable<void> {
    connection conn = co_await open(io);
    const int pid = conn.backend_pid();
    constexpr int n = 50;
    int connection_errors = 0;
    int other = 0;
    int done = 0;
    for (int i = 0; i < n; ++i) {
      asio::co_spawn(
          io,
          [&]() -> awaitable<void> {
            try {
              co_await conn.async_exec("select pg_sleep(0.05)", use_awaitable);
              ++other;  // ran before the kill: possible for the first ones
            } catch (const pgorm::connection_error&) {
              ++connection_errors;
            } catch (const pgorm::sql_error& e) {
              // The one running when the server went away reports the server's reason.
              if (e.poisons_connection()) {
                ++connection_errors;
              } else {
                ++other;
              }
            }
            ++done;
          },
          asio::detached);
    }
    {
      auto admin = connect();
      admin.exec("select pg_terminate_backend($1::int)", {pgorm::param::text(std::to_string(pid))});
    }
    asio::steady_timer t(io);
    for (int waited = 0; done < n && waited < 2000; ++waited) {
      t.expires_after(10ms);
      co_await t.async_wait(use_awaitable);
    }
    EXPECT_EQ(done, n);  // nobody hangs
    EXPECT_GT(connection_errors, 0);
    EXPECT_EQ(connection_errors + other, n);
    EXPECT_FALSE(conn.is_open());
    EXPECT_THROW(co_await conn.async_exec("select 1", use_awaitable), pgorm::connection_error);
  });
}

TEST_F(async_connection_test, a_failed_connect_names_no_password) {
  run_coro([&](asio::io_context& io) -> awaitable<void> {
    pgorm::connect_options o;
    o.connect_timeout = 300ms;
    const auto start = clock_type::now();
    try {
      // Port 1 on loopback refuses; the password must not show up in the error.
      co_await connection::async_connect(
          io, "host=127.0.0.1 port=1 user=x password=hunter2secret dbname=x", o, use_awaitable);
      ADD_FAILURE() << "connected to port 1";
    } catch (const pgorm::connection_error& e) {
      EXPECT_EQ(std::string(e.what()).find("hunter2secret"), std::string::npos) << e.what();
    }
    // A black-holed address gives up within the connect timeout (generous bound).
    try {
      co_await connection::async_connect(io, "host=10.255.255.1 port=5432 dbname=x user=x", o,
                                         use_awaitable);
      ADD_FAILURE() << "connected to a black hole";
    } catch (const pgorm::connection_error&) {
    }
    EXPECT_LT(clock_type::now() - start, 10s);
  });
}

TEST_F(async_connection_test, a_multi_threaded_io_context_shares_one_connection) {
  constexpr int coroutines = 32;
  constexpr int each = 20;
  asio::io_context io(4);
  std::optional<connection> conn;
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
                for (int i = 0; i < each; ++i) {
                  const std::string v = std::to_string(c * 1000 + i);
                  const pgorm::param p[] = {pgorm::param::text(v)};
                  pgorm::result r = co_await conn->async_exec("select $1::int", p, use_awaitable);
                  (r.value(0, 0) == v ? ok : bad).fetch_add(1);
                }
              },
              asio::detached);
        }
      },
      asio::detached);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) threads.emplace_back([&] { io.run(); });
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), coroutines * each);
  EXPECT_EQ(bad.load(), 0);
}

}  // namespace
