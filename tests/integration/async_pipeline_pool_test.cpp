// SPDX-License-Identifier: MIT
// pgorm::async::pipeline::async_run() on an async pool against a real server: the run borrows a
// connection and gives it back (reset with DISCARD ALL after raw SQL, not after builders'
// statements only); many runs share a small pool; an acquire timeout fails the run and its
// handles; a backend lost mid-run fails it and the pool closes that connection.

#include <chrono>
#include <cstdint>
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

// Waits (boundedly) for the connections given back to finish their reset.
awaitable<void> settle(pa::pool& db) {
  for (int i = 0; db.stats().in_use > 0 && i < 300; ++i) co_await sleep_for(10ms);
}

class async_pipeline_pool_test : public pgorm::test::db_test {
 protected:
  void SetUp() override {
    db_test::SetUp();
    conn().exec(std::string(members_schema::ddl));
  }

  pgorm::pool_options options(std::size_t max_size) const {
    pgorm::pool_options o;
    o.max_size = max_size;
    o.connection = pgorm::test::test_options();
    return o;
  }

  // The last statement server process `pid` ran, as pg_stat_activity shows it.
  std::string last_query_of(int pid) {
    const pgorm::result r = conn().exec("select query from pg_stat_activity where pid = $1::int",
                                        {pgorm::param::text(std::to_string(pid))});
    return r.rows() == 1 ? std::string(r.value(0, 0)) : std::string("gone");
  }
};

TEST_F(async_pipeline_pool_test, runs_on_a_borrowed_connection_and_gives_it_back) {
  run_coro([&](asio::io_context& io) -> awaitable<void> {
    pa::pool db(io, conninfo(), options(1));
    pa::pipeline p;
    auto inserted = p.add(pgorm::insert(member("a@x.org", 30)).returning(col<&Member::id>));
    auto dup = p.add(pgorm::insert(member("a@x.org", 31)));
    p.sync();
    auto more = p.add(pgorm::insert(member("b@x.org", 17)));
    auto adults = p.add(pgorm::select<Member>().where(col<&Member::age> >= 18));
    co_await p.async_run(db, use_awaitable);
    EXPECT_TRUE(p.empty());
    EXPECT_TRUE(inserted.ok());  // ran, then rolled back with its batch
    EXPECT_THROW((void)dup.exec(), pgorm::unique_violation);
    EXPECT_EQ(more.exec(), 1);
    const std::vector<Member> rows = adults.all();
    EXPECT_TRUE(rows.empty());  // a@x.org was rolled back, b@x.org is 17
    EXPECT_EQ(db.stats().in_use, 0U);
    EXPECT_EQ(db.stats().total_acquired, 1U);

    // Builders' statements only: given back without a reset (the session's last statement is
    // the pipeline's own).
    const pgorm::pool_stats before = db.stats();
    pa::lease l = co_await db.async_acquire(use_awaitable);
    const int pid = l->backend_pid();
    l.release();
    co_await settle(db);
    auto count = p.add(pgorm::select<Member>().where(col<&Member::email> == "b@x.org"));
    co_await p.async_run(db, 10s, use_awaitable);
    EXPECT_EQ(count.all().size(), 1U);
    co_await settle(db);
    EXPECT_NE(last_query_of(pid).find("members"), std::string::npos) << last_query_of(pid);
    // An empty run borrows nothing.
    co_await p.async_run(db, use_awaitable);
    EXPECT_EQ(db.stats().total_acquired, before.total_acquired + 2);
    EXPECT_EQ(db.stats().total_opened, 1U);
  });
}

TEST_F(async_pipeline_pool_test, raw_sql_in_the_run_resets_the_connection) {
  run_coro([&](asio::io_context& io) -> awaitable<void> {
    pa::pool db(io, conninfo(), options(1));
    struct setting {
      std::string v;
    };
    pa::pipeline p;
    auto set =
        p.add(pgorm::query<setting>("select set_config('app.secret', 'leaked', false) as v"));
    auto seen = p.add(
        pgorm::query<setting>("select coalesce(current_setting('app.secret', true), '') as v"));
    co_await p.async_run(db, use_awaitable);
    EXPECT_EQ(set.one().v, "leaked");
    EXPECT_EQ(seen.one().v, "leaked");
    co_await settle(db);
    // The same session, reset before the next borrower.
    const setting after = co_await pa::one(
        db, pgorm::query<setting>("select coalesce(current_setting('app.secret', true), '') as v"),
        use_awaitable);
    EXPECT_EQ(after.v, "");
    EXPECT_EQ(db.stats().total_opened, 1U);
  });
}

TEST_F(async_pipeline_pool_test, many_runs_share_a_small_pool) {
  run_coro([&](asio::io_context& io) -> awaitable<void> {
    pa::pool db(io, conninfo(), options(2));
    constexpr int n = 24;
    int done = 0;
    std::vector<std::string> errors;
    for (int i = 0; i < n; ++i) {
      asio::co_spawn(
          io,
          [&, i]() -> awaitable<void> {
            pa::pipeline p;
            auto ins = p.add(pgorm::insert(member("m" + std::to_string(i) + "@x.org", i)));
            auto sum = p.add(pgorm::query<std::tuple<std::int64_t>>("select $1::int8 * 2", i));
            co_await p.async_run(db, 20s, use_awaitable);
            if (ins.exec() != 1 || std::get<0>(sum.one()) != 2 * i) {
              errors.push_back("run " + std::to_string(i) + " read wrong results");
            }
            ++done;
          },
          [&](const std::exception_ptr& e) {
            if (!e) return;
            try {
              std::rethrow_exception(e);
            } catch (const std::exception& x) {
              errors.push_back(x.what());
            }
          });
    }
    for (int i = 0; done + static_cast<int>(errors.size()) < n && i < 2000; ++i) {
      co_await sleep_for(10ms);
    }
    EXPECT_EQ(done, n);
    EXPECT_TRUE(errors.empty()) << errors.front();
    EXPECT_LE(db.stats().total_opened, 2U);
    co_await settle(db);
    EXPECT_EQ(db.stats().in_use, 0U);
  });
  EXPECT_EQ(std::stoll(std::string(conn().exec("select count(*) from members").value(0, 0))), 24);
}

TEST_F(async_pipeline_pool_test, an_acquire_timeout_fails_the_run_and_its_handles) {
  run_coro([&](asio::io_context& io) -> awaitable<void> {
    auto o = options(1);
    o.acquire_timeout = 200ms;
    pa::pool db(io, conninfo(), o);
    pa::lease held = co_await db.async_acquire(use_awaitable);
    pa::pipeline p;
    auto h = p.add(pgorm::query<std::tuple<int>>("select 1"));
    EXPECT_THROW(co_await p.async_run(db, use_awaitable), pgorm::pool_timeout);
    EXPECT_TRUE(h.ready());
    EXPECT_THROW((void)h.one(), pgorm::pool_timeout);
    held.release();
    auto again = p.add(pgorm::query<std::tuple<int>>("select 5"));
    co_await p.async_run(db, use_awaitable);
    EXPECT_EQ(std::get<0>(again.one()), 5);
  });
}

TEST_F(async_pipeline_pool_test, a_lost_backend_fails_the_run_and_the_pool_closes_it) {
  run_coro([&](asio::io_context& io) -> awaitable<void> {
    pa::pool db(io, conninfo(), options(1));
    int pid = 0;
    {
      pa::lease l = co_await db.async_acquire(use_awaitable);
      pid = l->backend_pid();
    }
    co_await settle(db);
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
    EXPECT_THROW(co_await p.async_run(db, 20s, use_awaitable), pgorm::connection_error);
    EXPECT_THROW((void)slow.one(), pgorm::error);
    // The broken connection was closed, not handed out again: the next run opens another.
    auto next = p.add(pgorm::query<std::tuple<int>>("select pg_backend_pid()"));
    co_await p.async_run(db, use_awaitable);
    EXPECT_NE(std::get<0>(next.one()), pid);
    EXPECT_EQ(db.stats().total_opened, 2U);
  });
}

}  // namespace
