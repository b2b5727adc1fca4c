// SPDX-License-Identifier: MIT
// pgorm::async::pipeline against a real server: mixed builders and raw queries run with one
// co_await; a failing statement fails only itself (the rest of its batch pipeline_aborted, the
// next batch runs); other coroutines' statements queued before and after the run complete; a
// deadline cancels the running statement on the server and leaves the connection usable.

#include <chrono>
#include <cstdint>
#include <exception>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <gtest/gtest.h>

#include "pgorm/async.hpp"
#include "pgorm/async/pipeline.hpp"
#include "pgorm/error.hpp"
#include "pgorm/query.hpp"
#include "support/async_test.hpp"
#include "support/db_test.hpp"
#include "support/members_schema.hpp"

namespace {

namespace asio = boost::asio;
namespace pa = pgorm::async;
using namespace std::chrono_literals;
using asio::awaitable;
using asio::use_awaitable;
using members_schema::Member;
using members_schema::member;
using pgorm::col;
using pgorm::test::run_coro;
using pgorm::test::sleep_for;

class async_pipeline_test : public pgorm::test::async_db_test {
 protected:
  void SetUp() override {
    db_test::SetUp();
    conn().exec(std::string(members_schema::ddl));
  }
};

TEST_F(async_pipeline_test, runs_mixed_statements_with_one_await) {
  run_coro([&](asio::io_context& io) -> awaitable<void> {
    auto c = co_await open(io);
    pa::pipeline p;
    auto inserted = p.add(pgorm::insert(member("a@x.org", 30)).returning(col<&Member::id>));
    auto more = p.add(pgorm::insert(member("b@x.org", 17)));
    auto adults = p.add(pgorm::select<Member>().where(col<&Member::age> >= 18));
    auto sum = p.add(pgorm::query<std::tuple<std::int64_t>>("select $1::int8 + 1", 41));
    EXPECT_EQ(p.size(), 4U);
    EXPECT_FALSE(adults.ready());
    co_await p.async_run(c, use_awaitable);
    EXPECT_TRUE(p.empty());
    EXPECT_EQ(std::get<0>(inserted.one()), 1);
    EXPECT_EQ(more.exec(), 1);
    const std::vector<Member> rows = adults.all();
    EXPECT_EQ(rows.size(), 1U);
    if (!rows.empty()) {
      EXPECT_EQ(rows[0].email, "a@x.org");
    }
    EXPECT_EQ(std::get<0>(sum.one()), 42);
    // Reused, and an empty run completes at once.
    auto again = p.add(pgorm::query<std::tuple<std::int64_t>>("select count(*) from members"));
    co_await p.async_run(c, use_awaitable);
    EXPECT_EQ(std::get<0>(again.one()), 2);
    co_await p.async_run(c, use_awaitable);
  });
}

TEST_F(async_pipeline_test, a_failing_statement_aborts_only_its_batch) {
  run_coro([&](asio::io_context& io) -> awaitable<void> {
    auto c = co_await open(io);
    pa::pipeline p;
    auto first = p.add(pgorm::insert(member("a@x.org", 30)));
    auto dup = p.add(pgorm::insert(member("a@x.org", 31)));
    auto skipped = p.add(pgorm::query<std::tuple<int>>("select 1"));
    p.sync();
    auto next = p.add(pgorm::insert(member("c@x.org", 40)));
    co_await p.async_run(c, use_awaitable);
    EXPECT_TRUE(first.ok());  // ran, then rolled back with its batch
    EXPECT_THROW((void)dup.exec(), pgorm::unique_violation);
    try {
      (void)skipped.one();
      ADD_FAILURE() << "expected pipeline_aborted";
    } catch (const pgorm::pipeline_aborted& e) {
      EXPECT_EQ(e.index(), 2U);
      EXPECT_EQ(e.failed_index(), 1U);
    }
    EXPECT_EQ(next.exec(), 1);
    const pgorm::result r =
        co_await c.async_exec("select string_agg(email, ',') from members", use_awaitable);
    EXPECT_EQ(r.value(0, 0), "c@x.org");
  });
}

TEST_F(async_pipeline_test, statements_of_other_coroutines_run_around_it) {
  run_coro([&](asio::io_context& io) -> awaitable<void> {
    auto c = co_await open(io);
    std::vector<std::string> order;
    asio::co_spawn(
        io,
        [&]() -> awaitable<void> {
          co_await c.async_exec("select pg_sleep(0.3)", use_awaitable);
          order.push_back("before");
        },
        asio::detached);
    pa::pipeline p;
    auto a = p.add(pgorm::insert(member("a@x.org", 30)));
    auto b = p.add(pgorm::query<std::tuple<std::int64_t>>("select count(*) from members"));
    asio::co_spawn(
        io,
        [&]() -> awaitable<void> {
          co_await p.async_run(c, use_awaitable);
          order.push_back("pipeline");
        },
        asio::detached);
    co_await sleep_for(50ms);  // the pipeline is queued behind the sleep by now
    const pgorm::result after =
        co_await c.async_exec("select count(*) from members", use_awaitable);
    order.push_back("after");
    EXPECT_EQ(after.value(0, 0), "1");
    EXPECT_EQ(a.exec(), 1);
    EXPECT_EQ(std::get<0>(b.one()), 1);
    EXPECT_EQ(order, (std::vector<std::string>{"before", "pipeline", "after"}));
  });
}

TEST_F(async_pipeline_test, a_deadline_cancels_the_running_statement) {
  run_coro([&](asio::io_context& io) -> awaitable<void> {
    auto c = co_await open(io);
    pa::pipeline p;
    auto fast = p.add(pgorm::query<std::tuple<int>>("select 1"));
    auto slow = p.add(pgorm::query<std::tuple<int>>("select 2 from pg_sleep(30)"));
    auto after = p.add(pgorm::query<std::tuple<int>>("select 3"));
    const auto start = std::chrono::steady_clock::now();
    EXPECT_THROW(co_await p.async_run(c, 300ms, use_awaitable), pgorm::query_canceled);
    EXPECT_LT(std::chrono::steady_clock::now() - start, 20s);
    EXPECT_EQ(std::get<0>(fast.one()), 1);
    EXPECT_THROW((void)slow.one(), pgorm::query_canceled);
    EXPECT_THROW((void)after.one(), pgorm::pipeline_aborted);
    const pgorm::result r = co_await c.async_exec("select 42", use_awaitable);
    EXPECT_EQ(r.value(0, 0), "42");
  });
}

// The backend dies while the pipeline runs: the run fails with connection_error saying the
// connection was lost (it said "more results than statements": libpq reports the closed
// connection as one more result after the server's own error), and so do its handles.
TEST_F(async_pipeline_test, a_terminated_backend_fails_the_run_as_a_lost_connection) {
  run_coro([&](asio::io_context& io) -> awaitable<void> {
    auto c = co_await open(io);
    const int pid = c.backend_pid();
    pa::pipeline p;
    auto slow = p.add(pgorm::query<std::tuple<int>>("select 2 from pg_sleep(30)"));
    asio::co_spawn(
        io,
        [&, pid]() -> awaitable<void> {
          co_await sleep_for(300ms);
          conn().exec("select pg_terminate_backend($1::int)",
                      {pgorm::param::text(std::to_string(pid))});
        },
        asio::detached);
    try {
      co_await p.async_run(c, 20s, use_awaitable);
      ADD_FAILURE() << "the pipeline outlived its backend";
    } catch (const pgorm::connection_error& e) {
      EXPECT_NE(std::string(e.what()).find("connection was lost during a pipeline"),
                std::string::npos)
          << e.what();
    }
    EXPECT_THROW((void)slow.one(), pgorm::error);
  });
}

}  // namespace
