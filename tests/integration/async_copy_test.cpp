// SPDX-License-Identifier: MIT
// pgorm::async::copy_in() and copy_out() against a real server: rows with NULLs round trip; the
// statements other coroutines queued before and after a COPY on the same connection all
// complete, in order; an exception from copy_out's function, a deadline, the cancellation slot
// and a server error end only the COPY (cancelled on the server, the connection usable); the
// pool runs them too, with callbacks and use_future from another thread.

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <future>
#include <mutex>
#include <optional>
#include <ranges>
#include <stdexcept>
#include <string>
#include <thread>
#include <variant>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>
#include <gtest/gtest.h>

#include "pgorm/async.hpp"
#include "pgorm/async/copy.hpp"
#include "pgorm/error.hpp"
#include "pgorm/query.hpp"
#include "support/async_test.hpp"
#include "support/db_test.hpp"

namespace async_copy_it {

struct Item {
  std::int64_t id;
  std::string name;
  std::int32_t qty;
  double price;
  std::optional<std::string> note;

  friend bool operator==(const Item&, const Item&) = default;
};

struct number {
  std::int64_t n;
};

}  // namespace async_copy_it

template <>
struct pgorm::table_traits<async_copy_it::Item> {
  static constexpr std::string_view name = "items";
  static constexpr auto primary_key = pgorm::identity(&async_copy_it::Item::id);
};

namespace {

namespace asio = boost::asio;
namespace pa = pgorm::async;
using namespace std::chrono_literals;
using asio::awaitable;
using asio::use_awaitable;
using async_copy_it::Item;
using async_copy_it::number;
using pgorm::col;
using pgorm::test::run_coro;
using pgorm::test::sleep_for;

// A COPY TO STDOUT the server cannot finish within any deadline of these tests.
const auto endless = pgorm::query<number>("select generate_series(1::int8, 2000000000::int8) as n");

Item item(std::size_t i) {
  Item it{};
  it.id = static_cast<std::int64_t>(i + 1);  // what the identity column will assign
  it.name = "item-" + std::to_string(i);
  it.qty = static_cast<std::int32_t>(i % 1000);
  it.price = static_cast<double>(i) * 0.25;
  if (i % 3 == 0) it.note = "note " + std::to_string(i) + " with 'quotes' and \\ and \t";
  return it;
}

std::vector<Item> items(std::size_t n) {
  std::vector<Item> rows;
  rows.reserve(n);
  for (std::size_t i = 0; i != n; ++i) rows.push_back(item(i));
  return rows;
}

class async_copy_test : public pgorm::test::async_db_test {
 protected:
  void SetUp() override {
    db_test::SetUp();
    conn().exec(R"(
      create table items (
        id bigint generated always as identity primary key,
        name text not null unique,
        qty integer not null check (qty >= 0),
        price double precision not null,
        note text))");
  }

  std::int64_t count() {
    return std::stoll(std::string(conn().exec("select count(*) from items").value(0, 0)));
  }

  // The state of server process `pid` in pg_stat_activity.
  std::string state_of(int pid) {
    const pgorm::result r =
        conn().exec("select coalesce(state, '') from pg_stat_activity where pid = $1::int",
                    {pgorm::param::text(std::to_string(pid))});
    return r.rows() == 1 ? std::string(r.value(0, 0)) : std::string("gone");
  }

  // A statement that completes: the connection is usable and the server is free.
  static awaitable<void> expect_usable(pa::connection& c) {
    const pgorm::result r =
        co_await c.async_exec("select 41 + 1", {}, pgorm::data_format::text, 20s, use_awaitable);
    EXPECT_EQ(r.value(0, 0), "42");
  }
};

TEST_F(async_copy_test, rows_with_nulls_round_trip) {
  const std::vector<Item> rows = items(20'000);
  run_coro([&](asio::io_context& io) -> awaitable<void> {
    auto c = co_await open(io);
    EXPECT_EQ(co_await pa::copy_in(c, rows, use_awaitable), 20'000);
    std::vector<Item> back;
    const std::int64_t n = co_await pa::copy_out<Item>(
        c, [&](const Item& it) { back.push_back(it); }, use_awaitable);
    EXPECT_EQ(n, 20'000);
    std::sort(back.begin(), back.end(), [](const Item& a, const Item& b) { return a.id < b.id; });
    EXPECT_EQ(back, rows);
    // A select builder with parameters (rendered as literals): the NULL notes and the quotes.
    std::vector<Item> some;
    const std::int64_t m = co_await pa::copy_out(
        c,
        pgorm::select<Item>()
            .where(col<&Item::qty> < 3 && col<&Item::name> != "item-1")
            .order_by(col<&Item::id>),
        [&](const Item& it) { some.push_back(it); }, use_awaitable);
    EXPECT_EQ(m, 59);
    EXPECT_EQ(some.size(), 59U);
    if (some.size() >= 2) {
      EXPECT_EQ(some[0], rows[0]);
      EXPECT_EQ(some[1], rows[2]);
      EXPECT_FALSE(some[1].note.has_value());
    }
  });
  EXPECT_EQ(count(), 20'000);
}

TEST_F(async_copy_test, an_exception_from_the_function_cancels_the_copy) {
  pgorm::copy_in(conn(), items(50'000));
  run_coro([&](asio::io_context& io) -> awaitable<void> {
    auto c = co_await open(io);
    int seen = 0;
    try {
      co_await pa::copy_out<Item>(
          c,
          [&](const Item&) {
            if (++seen == 10) throw std::runtime_error("stop");
          },
          use_awaitable);
      ADD_FAILURE() << "copy_out completed without the function's exception";
    } catch (const std::runtime_error& e) {
      EXPECT_STREQ(e.what(), "stop");
    }
    EXPECT_EQ(seen, 10);
    co_await expect_usable(c);
    EXPECT_EQ(state_of(c.backend_pid()), "idle");
  });
}

TEST_F(async_copy_test, statements_queued_before_and_after_a_copy_all_complete) {
  run_coro([&](asio::io_context& io) -> awaitable<void> {
    auto c = co_await open(io);
    std::vector<std::string> order;
    int done = 0;
    // Ahead of the COPY: a slow statement, and a row the COPY must not collide with.
    asio::co_spawn(
        io,
        [&]() -> awaitable<void> {
          co_await c.async_exec("select pg_sleep(0.5)", use_awaitable);
          order.push_back("sleep");
          ++done;
        },
        asio::detached);
    asio::co_spawn(
        io,
        [&]() -> awaitable<void> {
          co_await c.async_exec("insert into items (name, qty, price) values ('before', 1, 1)",
                                use_awaitable);
          order.push_back("insert");
          ++done;
        },
        asio::detached);
    asio::co_spawn(
        io,
        [&]() -> awaitable<void> {
          const std::int64_t n = co_await pa::copy_in(c, items(3000), use_awaitable);
          EXPECT_EQ(n, 3000);
          order.push_back("copy");
          ++done;
        },
        asio::detached);
    co_await sleep_for(100ms);  // the COPY is queued behind the sleep by now
    // Behind the COPY: they see its rows, and one of them fails alone.
    const pgorm::result counted =
        co_await c.async_exec("select count(*) from items", use_awaitable);
    order.push_back("count");
    EXPECT_EQ(counted.value(0, 0), "3001");
    EXPECT_THROW(co_await c.async_exec("select 1/0", use_awaitable), pgorm::sql_error);
    std::vector<Item> back;
    co_await pa::copy_out<Item>(
        c, [&](const Item& it) { back.push_back(it); }, use_awaitable);
    EXPECT_EQ(back.size(), 3001U);
    EXPECT_EQ(done, 3);
    EXPECT_EQ(order, (std::vector<std::string>{"sleep", "insert", "copy", "count"}));
    co_await expect_usable(c);
  });
}

TEST_F(async_copy_test, a_server_error_fails_only_the_copy) {
  std::vector<Item> rows = items(5000);
  rows[4000].name = rows[10].name;  // unique violation late in the stream
  run_coro([&](asio::io_context& io) -> awaitable<void> {
    auto c = co_await open(io);
    int others = 0;
    asio::co_spawn(
        io,
        [&]() -> awaitable<void> {
          const pgorm::result r = co_await c.async_exec("select 7", use_awaitable);
          if (r.value(0, 0) == "7") ++others;
        },
        asio::detached);
    try {
      co_await pa::copy_in(c, rows, use_awaitable);
      ADD_FAILURE() << "expected unique_violation";
    } catch (const pgorm::unique_violation& e) {
      EXPECT_EQ(e.constraint(), "items_name_key");
    }
    const pgorm::result r = co_await c.async_exec("select 8", use_awaitable);
    EXPECT_EQ(r.value(0, 0), "8");
    EXPECT_EQ(others, 1);
    EXPECT_EQ(co_await pa::copy_in(c, items(10), use_awaitable), 10);
  });
  EXPECT_EQ(count(), 10) << "COPY is atomic";
}

TEST_F(async_copy_test, a_deadline_cancels_a_large_copy_out_on_the_server) {
  run_coro([&](asio::io_context& io) -> awaitable<void> {
    auto c = co_await open(io);
    std::int64_t seen = 0;
    const auto start = std::chrono::steady_clock::now();
    try {
      co_await pa::copy_out(
          c, endless, [&](const number&) { ++seen; }, 300ms, use_awaitable);
      ADD_FAILURE() << "an endless COPY completed";
    } catch (const pgorm::query_canceled& e) {
      EXPECT_FALSE(e.fields().connection_lost) << e.what();
    }
    EXPECT_GT(seen, 0);
    EXPECT_LT(std::chrono::steady_clock::now() - start, 20s);
    co_await expect_usable(c);
    EXPECT_EQ(state_of(c.backend_pid()), "idle");
  });
}

TEST_F(async_copy_test, the_cancellation_slot_ends_a_copy_in_and_a_copy_out) {
  using namespace asio::experimental::awaitable_operators;
  run_coro([&](asio::io_context& io) -> awaitable<void> {
    auto c = co_await open(io);
    // Far more rows than 300 ms can carry, made as they are sent.
    const auto many = std::views::iota(std::size_t{0}, std::size_t{50'000'000}) |
                      std::views::transform([](std::size_t i) { return item(i); });
    const auto in = co_await (pa::copy_in(c, many, use_awaitable) || sleep_for(300ms));
    EXPECT_EQ(in.index(), 1U);
    co_await expect_usable(c);
    std::int64_t seen = 0;
    const auto out = co_await (pa::copy_out(
                                   c, endless, [&](const number&) { ++seen; }, use_awaitable) ||
                               sleep_for(300ms));
    EXPECT_EQ(out.index(), 1U);
    EXPECT_GT(seen, 0);
    co_await expect_usable(c);
    EXPECT_EQ(state_of(c.backend_pid()), "idle");
  });
  EXPECT_EQ(count(), 0) << "the cancelled COPY wrote nothing";
}

TEST_F(async_copy_test, copies_and_statements_share_a_connection_across_threads) {
  asio::io_context io;
  std::optional<pa::connection> c;
  std::vector<std::int64_t> copied(8, -1);
  std::vector<std::size_t> read(8, 0);
  std::atomic<int> selects{0};
  std::atomic<int> finished{0};
  std::atomic<bool> failed{false};
  std::mutex mu;
  std::exception_ptr error;
  const auto fail = [&](std::exception_ptr e) {
    if (!e) return;
    const std::lock_guard lock(mu);
    error = e;
    failed = true;
  };
  asio::co_spawn(
      io,
      [&]() -> awaitable<void> {
        c.emplace(co_await open(io));
        for (std::size_t k = 0; k != copied.size(); ++k) {
          asio::co_spawn(
              io,
              [&, k]() -> awaitable<void> {
                std::vector<Item> rows;
                for (std::size_t i = 0; i != 500; ++i) rows.push_back(item(k * 1000 + i));
                copied[k] = co_await pa::copy_in(*c, rows, use_awaitable);
                const pgorm::result r = co_await c->async_exec("select 1", use_awaitable);
                if (r.value(0, 0) == "1") ++selects;
                // Its own rows: prices k*250 up to (k*1000+499)*0.25.
                const double from = static_cast<double>(k) * 250.0;
                const double to = static_cast<double>(k * 1000 + 500) * 0.25;
                co_await pa::copy_out(
                    *c,
                    pgorm::select<Item>().where(col<&Item::price> >= from &&
                                                col<&Item::price> < to),
                    [&, k](const Item&) { ++read[k]; }, use_awaitable);
                ++finished;
              },
              fail);
        }
        while (finished < static_cast<int>(copied.size()) && !failed) co_await sleep_for(10ms);
        c->close();
      },
      fail);
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i) threads.emplace_back([&io] { io.run(); });
  for (auto& t : threads) t.join();
  if (error) std::rethrow_exception(error);
  for (std::size_t k = 0; k != copied.size(); ++k) {
    EXPECT_EQ(copied[k], 500) << k;
    EXPECT_EQ(read[k], 500U) << k;
  }
  EXPECT_EQ(selects, 8);
  EXPECT_EQ(count(), 4000);
}

TEST_F(async_copy_test, runs_on_a_pool_with_callbacks_and_futures) {
  asio::io_context io;
  auto guard = asio::make_work_guard(io);
  std::thread runner([&] { io.run(); });
  {
    pa::pool db(io, conninfo(), {.max_size = 2});
    const std::vector<Item> rows = items(1000);
    std::future<std::int64_t> written = pa::copy_in(db, rows, asio::use_future);
    EXPECT_EQ(written.get(), 1000);

    std::promise<std::int64_t> read;
    std::vector<Item> back;
    pa::copy_out<Item>(
        db, [&](const Item& it) { back.push_back(it); },
        [&](std::exception_ptr e, std::int64_t n) {
          if (e) {
            read.set_exception(e);
          } else {
            read.set_value(n);
          }
        });
    EXPECT_EQ(read.get_future().get(), 1000);
    EXPECT_EQ(back.size(), 1000U);

    std::vector<Item> dup = items(2);
    std::future<std::int64_t> failed = pa::copy_in(db, dup, asio::use_future);
    EXPECT_THROW(failed.get(), pgorm::unique_violation);
    EXPECT_EQ(pa::copy_in(db, items(0), asio::use_future).get(), 0);
    db.close();
  }
  guard.reset();
  runner.join();
  EXPECT_EQ(count(), 1000);
}

}  // namespace
