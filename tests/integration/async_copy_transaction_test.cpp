// SPDX-License-Identifier: MIT
// pgorm::async::copy_in() and copy_out() inside pgorm::async::run_transaction() against a real
// server: the COPY runs on the transaction's pinned connection (the lookups it runs too), its
// rows are committed or rolled back with the transaction, a COPY error aborts the transaction
// as any failed statement does, the transaction's budget bounds the COPY, and other
// coroutines' COPYs on the pinned connection are still refused.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <gtest/gtest.h>

#include "pgorm/async.hpp"
#include "pgorm/async/copy.hpp"
#include "pgorm/error.hpp"
#include "pgorm/query.hpp"
#include "support/async_test.hpp"
#include "support/db_test.hpp"

namespace async_copy_tx_it {

struct Part {
  std::int64_t id;
  std::string name;
  std::int32_t qty;
  std::optional<std::string> note;

  friend bool operator==(const Part&, const Part&) = default;
};

struct number {
  std::int64_t n;
};

}  // namespace async_copy_tx_it

template <>
struct pgorm::table_traits<async_copy_tx_it::Part> {
  static constexpr std::string_view name = "parts";
  static constexpr auto primary_key = pgorm::identity(&async_copy_tx_it::Part::id);
};

namespace {

namespace asio = boost::asio;
namespace pa = pgorm::async;
using namespace std::chrono_literals;
using asio::awaitable;
using asio::use_awaitable;
using async_copy_tx_it::number;
using async_copy_tx_it::Part;
using pgorm::col;
using pgorm::test::run_coro;

std::vector<Part> parts(std::size_t first, std::size_t n) {
  std::vector<Part> rows;
  for (std::size_t i = first; i != first + n; ++i) {
    Part p{};
    p.id = static_cast<std::int64_t>(i + 1);
    p.name = "part-" + std::to_string(i);
    p.qty = static_cast<std::int32_t>(i % 100);
    if (i % 2 == 0) p.note = "n" + std::to_string(i);
    rows.push_back(std::move(p));
  }
  return rows;
}

class async_copy_transaction_test : public pgorm::test::async_db_test {
 protected:
  void SetUp() override {
    db_test::SetUp();
    conn().exec(R"(
      create table parts (
        id bigint generated always as identity primary key,
        name text not null unique,
        qty integer not null check (qty >= 0),
        note text))");
  }

  std::int64_t count() {
    return std::stoll(std::string(conn().exec("select count(*) from parts").value(0, 0)));
  }
};

TEST_F(async_copy_transaction_test, committed_rows_are_visible_and_read_back_in_the_transaction) {
  const std::vector<Part> rows = parts(0, 5'000);
  run_coro([&](asio::io_context& io) -> awaitable<void> {
    auto c = co_await open(io);
    const std::int64_t seen = co_await pa::run_transaction(
        c,
        [&](pa::transaction& tx) -> awaitable<std::int64_t> {
          EXPECT_EQ(co_await pa::copy_in(tx, rows, use_awaitable), 5'000);
          // The transaction's own statements see the rows; the COPY runs before them.
          const pgorm::result r =
              co_await tx.async_exec("select count(*) from parts", use_awaitable);
          EXPECT_EQ(r.value(0, 0), "5000");
          // copy_out in the transaction (a builder with parameters: its probe runs pinned too).
          std::vector<Part> back;
          const std::int64_t n = co_await pa::copy_out(
              tx, pgorm::select<Part>().where(col<&Part::qty> < 2).order_by(col<&Part::id>),
              [&](const Part& p) { back.push_back(p); }, use_awaitable);
          EXPECT_EQ(n, 100);
          EXPECT_EQ(back.size(), 100U);
          if (back.size() == 100U) {
            EXPECT_EQ(back[0], rows[0]);
            EXPECT_EQ(back[1], rows[1]);
          }
          co_return n;
        },
        use_awaitable);
    EXPECT_EQ(seen, 100);
  });
  EXPECT_EQ(count(), 5'000);
}

TEST_F(async_copy_transaction_test, rows_copied_in_a_transaction_that_throws_are_rolled_back) {
  run_coro([&](asio::io_context& io) -> awaitable<void> {
    auto c = co_await open(io);
    try {
      co_await pa::run_transaction(
          c,
          [&](pa::transaction& tx) -> awaitable<void> {
            const std::vector<Part> rows = parts(0, 1'000);
            EXPECT_EQ(co_await pa::copy_in(tx, rows, use_awaitable), 1'000);
            throw std::runtime_error("changed my mind");
          },
          use_awaitable);
      ADD_FAILURE() << "run_transaction completed without the function's exception";
    } catch (const std::runtime_error& e) {
      EXPECT_STREQ(e.what(), "changed my mind");
    }
    // Rolled back, and the connection is free again: a COPY outside a transaction runs.
    EXPECT_EQ(c.status(), pgorm::transaction_status::idle);
    const std::vector<Part> later = parts(2'000, 10);
    EXPECT_EQ(co_await pa::copy_in(c, later, use_awaitable), 10);
  });
  EXPECT_EQ(count(), 10);
}

TEST_F(async_copy_transaction_test, a_copy_error_aborts_the_transaction) {
  run_coro([&](asio::io_context& io) -> awaitable<void> {
    auto c = co_await open(io);
    bool aborted = false;
    try {
      co_await pa::run_transaction(
          c,
          [&](pa::transaction& tx) -> awaitable<void> {
            co_await tx.async_exec("insert into parts (name, qty) values ('kept?', 1)",
                                   use_awaitable);
            std::vector<Part> rows = parts(0, 100);
            rows[50].qty = -1;  // violates the check constraint
            try {
              co_await pa::copy_in(tx, rows, use_awaitable);
              ADD_FAILURE() << "copy_in of a row violating a check constraint succeeded";
            } catch (const pgorm::sql_error& e) {
              EXPECT_EQ(e.sqlstate(), "23514");
            }
            // As after any failed statement, the transaction is aborted on the server.
            EXPECT_EQ(c.status(), pgorm::transaction_status::in_error);
            try {
              co_await tx.async_exec("select 1", use_awaitable);
            } catch (const pgorm::sql_error& e) {
              aborted = e.sqlstate() == "25P02";
              throw;
            }
          },
          use_awaitable);
      ADD_FAILURE() << "a transaction whose COPY failed committed";
    } catch (const pgorm::sql_error& e) {
      EXPECT_EQ(e.sqlstate(), "25P02");
    }
    EXPECT_TRUE(aborted);
    EXPECT_EQ(c.status(), pgorm::transaction_status::idle);
  });
  EXPECT_EQ(count(), 0);  // the insert before the COPY was rolled back too
}

TEST_F(async_copy_transaction_test, a_savepoint_undoes_only_its_copy) {
  run_coro([&](asio::io_context& io) -> awaitable<void> {
    auto c = co_await open(io);
    co_await pa::run_transaction(
        c,
        [&](pa::transaction& tx) -> awaitable<void> {
          const std::vector<Part> first = parts(0, 20);
          co_await pa::copy_in(tx, first, use_awaitable);
          try {
            co_await tx.savepoint([&](pa::transaction& sp) -> awaitable<void> {
              const std::vector<Part> dup = parts(0, 5);  // names taken: unique violation
              co_await pa::copy_in(sp, dup, use_awaitable);
            });
            ADD_FAILURE() << "copy_in of duplicate names succeeded";
          } catch (const pgorm::unique_violation&) {  // the outer transaction goes on
          }
          const std::vector<Part> second = parts(100, 7);
          EXPECT_EQ(co_await pa::copy_in(tx, second, use_awaitable), 7);
        },
        use_awaitable);
  });
  EXPECT_EQ(count(), 27);
}

TEST_F(async_copy_transaction_test, the_transaction_budget_bounds_the_copy) {
  run_coro([&](asio::io_context& io) -> awaitable<void> {
    auto c = co_await open(io);
    const auto endless =
        pgorm::query<number>("select generate_series(1::int8, 2000000000::int8) as n");
    std::int64_t got = 0;
    try {
      co_await pa::run_transaction(
          c,
          [&](pa::transaction& tx) -> awaitable<void> {
            co_await pa::copy_out(
                tx, endless, [&](const number&) { ++got; }, use_awaitable);
          },
          {.timeout = 300ms}, use_awaitable);
      ADD_FAILURE() << "a COPY of two billion rows finished within 300 ms";
    } catch (const pgorm::query_canceled&) {
    }
    EXPECT_EQ(c.status(), pgorm::transaction_status::idle);
    const pgorm::result r = co_await c.async_exec("select 2", use_awaitable);
    EXPECT_EQ(r.value(0, 0), "2");
  });
}

TEST_F(async_copy_transaction_test, another_coroutines_copy_on_the_pinned_connection_is_refused) {
  run_coro([&](asio::io_context& io) -> awaitable<void> {
    auto c = co_await open(io);
    co_await pa::run_transaction(
        c,
        [&](pa::transaction& tx) -> awaitable<void> {
          const std::vector<Part> rows = parts(0, 3);
          try {
            co_await pa::copy_in(c, rows, use_awaitable);  // not through the transaction
            ADD_FAILURE() << "a COPY outside the transaction ran on its pinned connection";
          } catch (const pgorm::usage_error& e) {
            EXPECT_NE(std::string(e.what()).find("copy_in(tx"), std::string::npos) << e.what();
          }
          EXPECT_EQ(co_await pa::copy_in(tx, rows, use_awaitable), 3);
        },
        use_awaitable);
  });
  EXPECT_EQ(count(), 3);
}

}  // namespace
