// SPDX-License-Identifier: MIT
// An explicit async pipeline past its deadline against a real server: the statements of the
// batches already sent do not go on running on the server (each is cancelled as it starts,
// with a cancel_grace of its own), so once the run has completed pg_stat_activity shows none
// of them, and the connection (or the pool's) stays usable.

#include <chrono>
#include <cstdint>
#include <string>
#include <tuple>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <gtest/gtest.h>

#include "pgorm/async.hpp"
#include "pgorm/async/pipeline.hpp"
#include "pgorm/error.hpp"
#include "pgorm/query.hpp"
#include "support/async_test.hpp"
#include "support/db_test.hpp"

namespace {

namespace asio = boost::asio;
namespace pa = pgorm::async;
using namespace std::chrono_literals;
using asio::awaitable;
using asio::use_awaitable;
using pgorm::test::run_coro;

class async_pipeline_deadline_test : public pgorm::test::db_test {
 protected:
  // Twelve batches of one 30 s sleep each, tagged so that pg_stat_activity finds them: more
  // than the cancel requests repeated within one cancel_grace (2 s) would stop.
  static std::vector<pgorm::pipeline_result<std::tuple<int>>> sleepers(pa::pipeline& p,
                                                                       const std::string& tag) {
    std::vector<pgorm::pipeline_result<std::tuple<int>>> out;
    for (int i = 0; i != 12; ++i) {
      out.push_back(p.add(pgorm::query<std::tuple<int>>(pgorm::unsafe_sql(
          "select 1 from pg_sleep(30) /* " + tag + " " + std::to_string(i) + " */"))));
      p.sync();
    }
    return out;
  }
};

TEST_F(async_pipeline_deadline_test, no_statement_of_it_runs_on_after_the_run) {
  run_coro([&](asio::io_context& io) -> awaitable<void> {
    pgorm::connect_options o = pgorm::test::test_options();
    o.cancel_grace = 2s;
    auto c = co_await pa::connection::async_connect(io, conninfo(), o, use_awaitable);
    pa::pipeline p;
    auto handles = sleepers(p, "deadline-conn");
    const auto start = std::chrono::steady_clock::now();
    EXPECT_THROW(co_await p.async_run(c, 300ms, use_awaitable), pgorm::query_canceled);
    // Not 6 minutes of sleeps: every batch was cancelled.
    EXPECT_LT(std::chrono::steady_clock::now() - start, 60s);
    EXPECT_EQ(running_statements("deadline-conn"), 0);
    for (auto& h : handles) EXPECT_THROW((void)h.one(), pgorm::error);
    const pgorm::result r = co_await c.async_exec("select 42", use_awaitable);
    EXPECT_EQ(r.value(0, 0), "42");
  });
}

TEST_F(async_pipeline_deadline_test, a_pool_connection_stays_usable) {
  run_coro([&](asio::io_context& io) -> awaitable<void> {
    pgorm::pool_options o;
    o.max_size = 1;
    o.connection = pgorm::test::test_options();
    o.connection.cancel_grace = 2s;
    pa::pool db(io, conninfo(), o);
    pa::pipeline p;
    auto handles = sleepers(p, "deadline-pool");
    EXPECT_THROW(co_await p.async_run(db, 300ms, use_awaitable), pgorm::query_canceled);
    EXPECT_EQ(running_statements("deadline-pool"), 0);
    pa::pipeline q;
    auto one = q.add(pgorm::query<std::tuple<int>>("select 7"));
    co_await q.async_run(db, use_awaitable);
    EXPECT_EQ(std::get<0>(one.one()), 7);
    db.close();
  });
}

}  // namespace
