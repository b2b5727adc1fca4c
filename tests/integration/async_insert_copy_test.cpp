// SPDX-License-Identifier: MIT
// The async exec() of insert(range) follows the synchronous rule (pgorm::insert_copy_threshold):
// from the threshold on, without on_conflict()/returning(), the rows go through COPY, on an
// async connection, in an async transaction and on an async pool. 20,000 rows of 4 written
// columns are 80,000 parameters, more than one INSERT can carry: only COPY writes them in one
// exec(). Against a real server.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <gtest/gtest.h>

#include "pgorm/async.hpp"
#include "pgorm/error.hpp"
#include "pgorm/query.hpp"
#include "support/async_test.hpp"
#include "support/db_test.hpp"

namespace async_insert_copy_it {

struct Item {
  std::int64_t id;
  std::string name;
  std::int32_t qty;
  double price;
  std::optional<std::string> note;
};

}  // namespace async_insert_copy_it

template <>
struct pgorm::table_traits<async_insert_copy_it::Item> {
  static constexpr std::string_view name = "items";
  static constexpr auto primary_key = pgorm::identity(&async_insert_copy_it::Item::id);
};

namespace {

namespace asio = boost::asio;
namespace pa = pgorm::async;
using asio::awaitable;
using asio::use_awaitable;
using async_insert_copy_it::Item;
using pgorm::test::run_coro;

constexpr std::size_t many = 20'000;

std::vector<Item> items(std::size_t n, std::size_t from = 0) {
  std::vector<Item> rows;
  rows.reserve(n);
  for (std::size_t i = from; i != from + n; ++i) {
    Item it{};
    it.name = "item-" + std::to_string(i);
    it.qty = static_cast<std::int32_t>(i % 1000);
    it.price = static_cast<double>(i) * 0.25;
    if (i % 3 == 0) it.note = "note " + std::to_string(i);
    rows.push_back(std::move(it));
  }
  return rows;
}

class async_insert_copy_test : public pgorm::test::async_db_test {
 protected:
  void SetUp() override {
    db_test::SetUp();
    conn().exec(R"(
      create table items (
        id bigint generated always as identity primary key,
        name text not null unique,
        qty integer not null,
        price double precision not null,
        note text))");
  }
  std::int64_t count() {
    return std::stoll(std::string(conn().exec("select count(*) from items").value(0, 0)));
  }
};

TEST_F(async_insert_copy_test, many_rows_go_through_copy_as_in_the_sync_exec) {
  const std::vector<Item> rows = items(many);
  run_coro([&](asio::io_context& io) -> awaitable<void> {
    auto c = co_await pa::connection::async_connect(io, conninfo(), pgorm::test::test_options(),
                                                    use_awaitable);
    // With COPY turned off, the INSERT is over the parameter limit.
    EXPECT_THROW(co_await pa::exec(c, pgorm::insert(rows).copy_threshold(SIZE_MAX), use_awaitable),
                 pgorm::usage_error);
    EXPECT_EQ(co_await pa::exec(c, pgorm::insert(rows), use_awaitable),
              static_cast<std::int64_t>(many));
    // COPY raises the typed error, and the connection stays usable.
    EXPECT_THROW(co_await pa::exec(c, pgorm::insert(rows), use_awaitable), pgorm::unique_violation);
    // With a per-call deadline: COPY too, under that deadline (one that has no time to run it
    // cancels it, and nothing is written).
    EXPECT_THROW(co_await pa::exec(pa::with_timeout(c, std::chrono::milliseconds(1)),
                                   pgorm::insert(items(many, 3 * many + 3)), use_awaitable),
                 pgorm::query_canceled);
    EXPECT_EQ(co_await pa::exec(pa::with_timeout(c, std::chrono::seconds(60)),
                                pgorm::insert(items(many, 4 * many)), use_awaitable),
              static_cast<std::int64_t>(many));
    // In a transaction: written with it, or rolled back with it.
    const std::vector<Item> more = items(many, many);
    co_await pa::run_transaction(
        c,
        [&](pa::transaction& tx) -> awaitable<void> {
          EXPECT_EQ(co_await pa::exec(tx, pgorm::insert(more), use_awaitable),
                    static_cast<std::int64_t>(many));
        },
        use_awaitable);
    // On a pool, with rows the builder owns (the temporary vector is gone once exec() is
    // called: the builder keeps them for the COPY).
    pgorm::pool_options po;
    po.max_size = 1;
    po.connection = pgorm::test::test_options();
    pa::pool db(io, conninfo(), po);
    EXPECT_EQ(co_await pa::exec(db, pgorm::insert(items(many, 2 * many)), use_awaitable),
              static_cast<std::int64_t>(many));
    // Under the threshold, an INSERT (nothing tells them apart but the count).
    EXPECT_EQ(co_await pa::exec(db, pgorm::insert(items(3, 3 * many)), use_awaitable), 3);
    for (int i = 0; db.stats().in_use > 0 && i < 300; ++i) {
      co_await pgorm::test::sleep_for(std::chrono::milliseconds(10));
    }
    db.close();
  });
  EXPECT_EQ(count(), static_cast<std::int64_t>(4 * many + 3));
}

TEST_F(async_insert_copy_test, a_borrowed_range_need_not_outlive_the_call) {
  run_coro([&](asio::io_context& io) -> awaitable<void> {
    pa::connection c = co_await open(io);
    std::optional<std::int64_t> written;
    std::exception_ptr error;
    bool done = false;
    {
      std::vector<Item> rows = items(many);
      // A completion handler defers nothing the caller keeps: the COPY runs after this scope.
      pa::exec(c, pgorm::insert(rows), [&](std::exception_ptr e, std::int64_t n) {
        error = e;
        if (!e) written = n;
        done = true;
      });
      // Had the COPY read the caller's rows, every name would now be the same (a unique
      // violation), or freed memory (AddressSanitizer).
      for (Item& it : rows) it.name = "changed after the call";
    }
    for (int i = 0; !done && i < 3000; ++i)
      co_await pgorm::test::sleep_for(std::chrono::milliseconds(10));
    EXPECT_TRUE(done);
    if (error) std::rethrow_exception(error);
    EXPECT_EQ(written, std::optional<std::int64_t>(static_cast<std::int64_t>(many)));
  });
  EXPECT_EQ(conn().exec("select count(*) from items where name like 'item-%'").value(0, 0),
            std::to_string(many));
}

}  // namespace
