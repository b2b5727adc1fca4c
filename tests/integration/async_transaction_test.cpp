// SPDX-License-Identifier: MIT
// Transactions on an async connection against a real server: commit, rollback on an
// exception, savepoints, the pin that keeps other coroutines' statements out, retries of a
// serialization failure between two connections, the transaction's deadline, and
// commit_outcome_unknown when the session ends during COMMIT.

#include <atomic>
#include <chrono>
#include <exception>
#include <stdexcept>
#include <string>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <gtest/gtest.h>

#include "pgorm/async.hpp"
#include "pgorm/error.hpp"
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

class async_transaction_test : public pgorm::test::async_db_test {
 protected:
  void SetUp() override {
    db_test::SetUp();
    conn().exec("create table item (k int primary key, note text)");
  }
  std::string count(const std::string& where = "true") {
    return std::string(conn().exec("select count(*) from item where " + where).value(0, 0));
  }
};

TEST_F(async_transaction_test, commits_and_returns_the_functions_value) {
  run_coro([&](asio::io_context& io) -> awaitable<void> {
    auto c = co_await open(io);
    const int n = co_await pa::run_transaction(
        c,
        [&](pa::transaction& tx) -> awaitable<int> {
          EXPECT_EQ(tx.depth(), 0);
          co_await tx.async_exec("insert into item values (1, 'a'), (2, 'b')", use_awaitable);
          // Not visible outside before COMMIT.
          EXPECT_EQ(count(), "0");
          auto r = co_await tx.async_exec("select count(*) from item", use_awaitable);
          co_return std::stoi(std::string(r.value(0, 0)));
        },
        {.isolation = pgorm::isolation_level::repeatable_read}, use_awaitable);
    EXPECT_EQ(n, 2);
    EXPECT_EQ(count(), "2");
    // A read-only transaction refuses writes (the option reaches BEGIN).
    EXPECT_THROW(co_await pa::run_transaction(
                     c,
                     [&](pa::transaction& tx) -> awaitable<void> {
                       co_await tx.async_exec("insert into item values (3, 'c')", use_awaitable);
                     },
                     {.read_only = true}, use_awaitable),
                 pgorm::sql_error);
    EXPECT_EQ(count(), "2");
  });
}

TEST_F(async_transaction_test, rolls_back_when_the_function_throws) {
  run_coro([&](asio::io_context& io) -> awaitable<void> {
    auto c = co_await open(io);
    try {
      co_await pa::run_transaction(
          c,
          [&](pa::transaction& tx) -> awaitable<void> {
            co_await tx.async_exec("insert into item values (1, 'a')", use_awaitable);
            throw std::runtime_error("changed my mind");
          },
          use_awaitable);
      ADD_FAILURE() << "the exception was swallowed";
    } catch (const std::runtime_error& e) {
      EXPECT_STREQ(e.what(), "changed my mind");  // unchanged
    }
    EXPECT_EQ(count(), "0");
    // The connection is out of the transaction and usable by anyone again.
    auto r = co_await c.async_exec("select 1", use_awaitable);
    EXPECT_EQ(r.value(0, 0), "1");
  });
}

TEST_F(async_transaction_test, savepoint_rolls_back_only_its_own_work) {
  run_coro([&](asio::io_context& io) -> awaitable<void> {
    auto c = co_await open(io);
    co_await pa::run_transaction(
        c,
        [&](pa::transaction& tx) -> awaitable<void> {
          co_await tx.async_exec("insert into item values (1, 'outer')", use_awaitable);
          try {
            co_await tx.savepoint([&](pa::transaction& sp) -> awaitable<void> {
              EXPECT_EQ(sp.depth(), 1);
              co_await sp.async_exec("insert into item values (2, 'inner')", use_awaitable);
              co_await sp.async_exec("insert into item values (1, 'duplicate')", use_awaitable);
            });
            ADD_FAILURE() << "the duplicate went in";
          } catch (const pgorm::unique_violation&) {
          }
          // A savepoint that succeeds keeps its work, and yields its value.
          const int v = co_await tx.savepoint([&](pa::transaction& sp) -> awaitable<int> {
            co_await pa::exec(sp, pgorm::query<int>("insert into item values (3, 'kept')"),
                              use_awaitable);
            co_return 3;
          });
          EXPECT_EQ(v, 3);
        },
        use_awaitable);
    EXPECT_EQ(count(), "2");
    EXPECT_EQ(count("k = 2"), "0");
    EXPECT_EQ(count("k = 3"), "1");
  });
}

TEST_F(async_transaction_test, pins_its_connection_against_other_coroutines) {
  run_coro([&](asio::io_context& io) -> awaitable<void> {
    auto c = co_await open(io);
    bool refused = false;
    bool nested_refused = false;
    co_await pa::run_transaction(
        c,
        [&](pa::transaction& tx) -> awaitable<void> {
          co_await tx.async_exec("insert into item values (1, 'a')", use_awaitable);
          // Another coroutine on the same connection: refused, nothing sent.
          try {
            co_await c.async_exec("insert into item values (2, 'intruder')", use_awaitable);
          } catch (const pgorm::usage_error& e) {
            refused = std::string(e.what()).find("pinned") != std::string::npos;
          }
          try {
            co_await pa::run_transaction(
                c, [&](pa::transaction&) -> awaitable<void> { co_return; }, use_awaitable);
          } catch (const pgorm::usage_error&) {
            nested_refused = true;
          }
          // The terminals run through the transaction object.
          const auto rows =
              co_await pa::all(tx, pgorm::query<int>("select k from item"), use_awaitable);
          EXPECT_EQ(rows.size(), 1u);
        },
        use_awaitable);
    EXPECT_TRUE(refused);
    EXPECT_TRUE(nested_refused);
    EXPECT_EQ(count(), "1");
    EXPECT_EQ(count("k = 2"), "0");
    auto r = co_await c.async_exec("select 2", use_awaitable);  // unpinned again
    EXPECT_EQ(r.value(0, 0), "2");
  });
}

TEST_F(async_transaction_test, retries_a_serialization_failure_to_success) {
  run_coro([&](asio::io_context& io) -> awaitable<void> {
    auto a = co_await open(io);
    auto b = co_await open(io);
    int attempts = 0;
    int read = 0;
    int finished = 0;
    std::vector<std::exception_ptr> errors;
    // Write skew: each reads what the other writes, then writes; under SERIALIZABLE one of
    // them fails with 40001 and is run again, and then sees the other's row.
    const auto skew = [&](pa::connection& c, int mine, int theirs) -> awaitable<void> {
      try {
        co_await pa::run_transaction(
            c,
            [&, mine, theirs](pa::transaction& tx) -> awaitable<void> {
              const int attempt = ++attempts;
              co_await tx.async_exec(
                  "select count(*) from item where k = " + std::to_string(theirs), use_awaitable);
              ++read;
              // First attempts: both read before either writes.
              for (int i = 0; attempt <= 2 && read < 2 && i < 500; ++i) co_await sleep_for(5ms);
              co_await tx.async_exec("insert into item values (" + std::to_string(mine) + ", 'x')",
                                     use_awaitable);
            },
            {.isolation = pgorm::isolation_level::serializable,
             .retry = {.max_attempts = 5, .base_delay = 1ms, .max_delay = 20ms}},
            use_awaitable);
      } catch (...) {
        errors.push_back(std::current_exception());
      }
      ++finished;
    };
    asio::co_spawn(io, skew(a, 1, 2), asio::detached);
    asio::co_spawn(io, skew(b, 2, 1), asio::detached);
    for (int i = 0; finished < 2 && i < 1000; ++i) co_await sleep_for(5ms);
    EXPECT_EQ(finished, 2);
    for (const auto& e : errors) {
      try {
        std::rethrow_exception(e);
      } catch (const std::exception& x) {
        ADD_FAILURE() << x.what();
      }
    }
    EXPECT_GE(attempts, 3) << "no serialization failure happened, so nothing was retried";
    EXPECT_EQ(count(), "2");
  });
}

TEST_F(async_transaction_test, deadline_cancels_the_statement_and_rolls_back) {
  run_coro([&](asio::io_context& io) -> awaitable<void> {
    auto c = co_await open(io);
    const auto start = std::chrono::steady_clock::now();
    try {
      co_await pa::run_transaction(
          c,
          [&](pa::transaction& tx) -> awaitable<void> {
            EXPECT_TRUE(tx.time_left().has_value());
            co_await tx.async_exec("insert into item values (1, 'a')", use_awaitable);
            co_await tx.async_exec("select pg_sleep(30)", use_awaitable);
          },
          {.timeout = 300ms}, use_awaitable);
      ADD_FAILURE() << "the sleep outlived the deadline";
    } catch (const pgorm::query_canceled&) {
    }
    EXPECT_LT(std::chrono::steady_clock::now() - start, 10s);
    EXPECT_EQ(count(), "0");
    EXPECT_TRUE(c.is_open());
    auto r = co_await c.async_exec("select 1", use_awaitable);
    EXPECT_EQ(r.value(0, 0), "1");
  });
}

TEST_F(async_transaction_test, session_ended_during_commit_is_commit_outcome_unknown) {
  // A deferred constraint trigger makes COMMIT slow; the backend is terminated while it runs.
  conn().exec(
      "create function slow_commit() returns trigger language plpgsql as "
      "$$ begin perform pg_sleep(5); return null; end $$");
  conn().exec(
      "create constraint trigger slow after insert on item deferrable initially deferred "
      "for each row execute function slow_commit()");
  run_coro([&](asio::io_context& io) -> awaitable<void> {
    auto c = co_await open(io);
    const int pid = c.backend_pid();
    bool unknown = false;
    bool done = false;
    asio::co_spawn(
        io,
        [&]() -> awaitable<void> {
          try {
            co_await pa::run_transaction(
                c,
                [&](pa::transaction& tx) -> awaitable<void> {
                  co_await tx.async_exec("insert into item values (1, 'a')", use_awaitable);
                },
                use_awaitable);
          } catch (const pgorm::commit_outcome_unknown&) {
            unknown = true;
          } catch (const std::exception& e) {
            ADD_FAILURE() << e.what();
          }
          done = true;
        },
        asio::detached);
    bool killed = false;
    for (int i = 0; !killed && !done && i < 400; ++i) {
      co_await sleep_for(10ms);
      killed = conn()
                   .exec("select pg_terminate_backend(pid) from pg_stat_activity where pid = " +
                         std::to_string(pid) + " and query = 'COMMIT'")
                   .rows() == 1;
    }
    EXPECT_TRUE(killed);
    for (int i = 0; !done && i < 500; ++i) co_await sleep_for(10ms);
    EXPECT_TRUE(done);
    EXPECT_TRUE(unknown);
  });
}

}  // namespace
