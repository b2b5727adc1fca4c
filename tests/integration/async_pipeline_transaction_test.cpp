// SPDX-License-Identifier: MIT
// pgorm::async::pipeline::async_run() inside pgorm::async::run_transaction() against a real
// server: the run goes onto the transaction's pinned connection, its statements are committed
// or rolled back with the transaction, a failing statement aborts the transaction (later
// batches fail with 25P02), and a spent transaction budget refuses the run, sending nothing.

#include <chrono>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <tuple>

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

class async_pipeline_transaction_test : public pgorm::test::async_db_test {
 protected:
  void SetUp() override {
    db_test::SetUp();
    conn().exec(std::string(members_schema::ddl));
  }

  std::int64_t count() {
    return std::stoll(std::string(conn().exec("select count(*) from members").value(0, 0)));
  }
};

TEST_F(async_pipeline_transaction_test, runs_in_the_transaction_and_commits_with_it) {
  run_coro([&](asio::io_context& io) -> awaitable<void> {
    auto c = co_await open(io);
    co_await pa::run_transaction(
        c,
        [&](pa::transaction& tx) -> awaitable<void> {
          pa::pipeline p;
          auto a = p.add(pgorm::insert(member("a@x.org", 30)));
          p.sync();  // ends a batch, not the transaction
          auto b = p.add(pgorm::insert(member("b@x.org", 40)));
          auto n = p.add(pgorm::query<std::tuple<std::int64_t>>("select count(*) from members"));
          co_await p.async_run(tx, use_awaitable);
          EXPECT_EQ(a.exec(), 1);
          EXPECT_EQ(b.exec(), 1);
          EXPECT_EQ(std::get<0>(n.one()), 2);
          EXPECT_EQ(c.status(), pgorm::transaction_status::in_transaction);
        },
        use_awaitable);
  });
  EXPECT_EQ(count(), 2);
}

TEST_F(async_pipeline_transaction_test, a_throwing_transaction_rolls_the_run_back) {
  run_coro([&](asio::io_context& io) -> awaitable<void> {
    auto c = co_await open(io);
    EXPECT_THROW(co_await pa::run_transaction(
                     c,
                     [&](pa::transaction& tx) -> awaitable<void> {
                       pa::pipeline p;
                       auto a = p.add(pgorm::insert(member("a@x.org", 30)));
                       p.sync();
                       auto b = p.add(pgorm::insert(member("b@x.org", 40)));
                       co_await p.async_run(tx, use_awaitable);
                       EXPECT_EQ(a.exec() + b.exec(), 2);
                       throw std::runtime_error("no");
                     },
                     use_awaitable),
                 std::runtime_error);
    EXPECT_EQ(c.status(), pgorm::transaction_status::idle);
  });
  EXPECT_EQ(count(), 0);
}

TEST_F(async_pipeline_transaction_test, a_failing_statement_aborts_the_transaction) {
  run_coro([&](asio::io_context& io) -> awaitable<void> {
    auto c = co_await open(io);
    co_await c.async_exec("insert into members (email, age) values ('a@x.org', 1)", use_awaitable);
    EXPECT_THROW(co_await pa::run_transaction(
                     c,
                     [&](pa::transaction& tx) -> awaitable<void> {
                       pa::pipeline p;
                       auto ok = p.add(pgorm::insert(member("b@x.org", 2)));
                       auto dup = p.add(pgorm::insert(member("a@x.org", 3)));
                       auto skipped = p.add(pgorm::insert(member("c@x.org", 4)));
                       p.sync();
                       auto later = p.add(pgorm::insert(member("d@x.org", 5)));
                       co_await p.async_run(tx, use_awaitable);
                       EXPECT_TRUE(ok.ok());
                       EXPECT_THROW((void)dup.exec(), pgorm::unique_violation);
                       EXPECT_THROW((void)skipped.exec(), pgorm::pipeline_aborted);
                       try {
                         (void)later.exec();
                         ADD_FAILURE() << "a statement after the failure ran in the transaction";
                       } catch (const pgorm::sql_error& e) {
                         EXPECT_EQ(e.sqlstate(), "25P02");
                       }
                       (void)later.exec();  // the transaction ends with this error
                     },
                     use_awaitable),
                 pgorm::sql_error);
    EXPECT_EQ(c.status(), pgorm::transaction_status::idle);
  });
  EXPECT_EQ(count(), 1);  // only the row inserted before the transaction
}

TEST_F(async_pipeline_transaction_test, a_spent_budget_refuses_the_run) {
  run_coro([&](asio::io_context& io) -> awaitable<void> {
    auto c = co_await open(io);
    EXPECT_THROW(co_await pa::run_transaction(
                     c,
                     [&](pa::transaction& tx) -> awaitable<void> {
                       co_await sleep_for(150ms);  // past the 50 ms budget
                       pa::pipeline p;
                       auto h = p.add(pgorm::insert(member("a@x.org", 30)));
                       try {
                         co_await p.async_run(tx, use_awaitable);
                         ADD_FAILURE() << "a run past the transaction's budget was sent";
                       } catch (const pgorm::query_canceled&) {
                       }
                       EXPECT_THROW((void)h.exec(), pgorm::query_canceled);
                       EXPECT_TRUE(p.empty());
                       throw std::runtime_error("done");
                     },
                     {.timeout = 50ms}, use_awaitable),
                 std::runtime_error);
  });
  EXPECT_EQ(count(), 0);
}

}  // namespace
