// SPDX-License-Identifier: MIT
// The builders' terminal operations on an async connection against a real server: all, one,
// first, exec, each, page, last_page, find and raw query<Row>, with the same results and
// errors as the synchronous terminals, per-call deadlines, and many builders at once.

#include <chrono>
#include <cstdint>
#include <exception>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/deferred.hpp>
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
#include "support/schema.hpp"

namespace asio = boost::asio;
using namespace std::chrono_literals;
using asio::awaitable;
using asio::use_awaitable;
using qt::User;

namespace {

using pgorm::test::run_coro;

class async_query_test : public pgorm::test::async_db_test {
 protected:
  void SetUp() override {
    db_test::SetUp();
    conn().exec(std::string(qt::ddl));
    for (int i = 1; i <= 5; ++i) {
      conn().exec("insert into \"user\" (email, name, age) values ($1, $2, $3::int)",
                  {pgorm::param::text("u" + std::to_string(i) + "@x.org"),
                   pgorm::param::text("n" + std::to_string(i)),
                   pgorm::param::text(std::to_string(20 + i))});
    }
  }
};

TEST_F(async_query_test, reads_rows_like_the_sync_terminals) {
  run_coro([&](asio::io_context& io) -> awaitable<void> {
    auto conn = co_await open(io);
    namespace pa = pgorm::async;
    const auto by_age = pgorm::select<User>().order_by(pgorm::col<&User::age>);
    std::vector<User> all = co_await pa::all(conn, by_age, use_awaitable);
    EXPECT_EQ(all.size(), 5u);
    if (all.size() != 5u) co_return;
    EXPECT_EQ(all.front().email, "u1@x.org");
    const std::vector<User> sync = by_age.all(this->conn());
    EXPECT_EQ(sync.size(), all.size());
    for (std::size_t i = 0; i < all.size(); ++i) EXPECT_EQ(all[i].id, sync[i].id);

    User one = co_await pa::one(
        conn, pgorm::select<User>().where(pgorm::col<&User::email> == "u3@x.org"), use_awaitable);
    EXPECT_EQ(one.age, 23);
    EXPECT_THROW(co_await pa::one(conn, pgorm::select<User>().where(pgorm::col<&User::age> > 100),
                                  use_awaitable),
                 pgorm::not_found);
    EXPECT_THROW(co_await pa::one(conn, pgorm::select<User>(), use_awaitable), pgorm::usage_error);

    std::optional<User> none = co_await pa::first(
        conn, pgorm::select<User>().where(pgorm::col<&User::age> > 100), use_awaitable);
    EXPECT_FALSE(none);
    std::optional<User> found = co_await pa::find<User>(conn, one.id, use_awaitable);
    EXPECT_TRUE(found);
    if (found) {
      EXPECT_EQ(found->email, "u3@x.org");
    }

    std::vector<std::int32_t> ages;
    co_await pa::each(
        conn, by_age, [&](const User& u) { ages.push_back(u.age); }, use_awaitable);
    EXPECT_EQ(ages, (std::vector<std::int32_t>{21, 22, 23, 24, 25}));

    // Raw SQL with typed rows.
    struct stats {
      std::int64_t users;
      std::int32_t oldest;
    };
    stats s = co_await pa::one(
        conn, pgorm::query<stats>("select count(*) as users, max(age) as oldest from \"user\""),
        use_awaitable);
    EXPECT_EQ(s.users, 5);
    EXPECT_EQ(s.oldest, 25);
  });
}

TEST_F(async_query_test, writes_and_reports_typed_errors) {
  run_coro([&](asio::io_context& io) -> awaitable<void> {
    auto conn = co_await open(io);
    namespace pa = pgorm::async;
    const std::int64_t updated = co_await pa::exec(
        conn,
        pgorm::update<User>().set(pgorm::col<& User::age> = 40).where(pgorm::col<&User::age> >= 24),
        use_awaitable);
    EXPECT_EQ(updated, 2);
    User fresh{};
    fresh.email = "u1@x.org";  // taken
    fresh.age = 1;
    try {
      co_await pa::exec(conn, pgorm::insert(fresh), use_awaitable);
      ADD_FAILURE() << "a duplicate email went in";
    } catch (const pgorm::unique_violation& e) {
      EXPECT_NE(std::string(e.what()).find("user"), std::string::npos) << e.what();
    }
    fresh.email = "new@x.org";
    EXPECT_EQ(co_await pa::exec(conn, pgorm::insert(fresh), use_awaitable), 1);
    const std::int64_t removed = co_await pa::exec(
        conn, pgorm::remove<User>().where(pgorm::col<&User::age> == 40), use_awaitable);
    EXPECT_EQ(removed, 2);
    EXPECT_EQ(this->conn().exec("select count(*) from \"user\"").value(0, 0), "4");
  });
}

TEST_F(async_query_test, pages_through_a_table) {
  run_coro([&](asio::io_context& io) -> awaitable<void> {
    auto conn = co_await open(io);
    namespace pa = pgorm::async;
    const auto q = pgorm::select<User>().order_by(pgorm::col<&User::age>);
    auto p1 = co_await pa::page(conn, q, 2, use_awaitable);
    EXPECT_EQ(p1.rows.size(), 2u);
    EXPECT_TRUE(p1.next);
    EXPECT_FALSE(p1.prev);
    if (p1.rows.size() != 2u || !p1.next) co_return;
    EXPECT_EQ(p1.rows[0].age, 21);
    auto p2 = co_await pa::page(conn, q.after(*p1.next), 2, use_awaitable);
    EXPECT_EQ(p2.rows.size(), 2u);
    if (p2.rows.size() == 2u) {
      EXPECT_EQ(p2.rows[0].age, 23);
    }
    auto last = co_await pa::last_page(conn, q, 2, use_awaitable);
    EXPECT_EQ(last.rows.size(), 2u);
    if (last.rows.size() == 2u) {
      EXPECT_EQ(last.rows[1].age, 25);
    }
    EXPECT_THROW(co_await pa::page(conn, q, 0, use_awaitable), pgorm::usage_error);
  });
}

TEST_F(async_query_test, deadlines_deferred_tokens_and_many_builders_at_once) {
  run_coro([&](asio::io_context& io) -> awaitable<void> {
    auto conn = co_await open(io);
    namespace pa = pgorm::async;
    struct slept {
      std::string v;
    };
    EXPECT_THROW(
        co_await pa::one(pa::with_timeout(conn, 150ms),
                         pgorm::query<slept>("select pg_sleep(60)::text as v"), use_awaitable),
        pgorm::query_canceled);
    // A deferred operation keeps its statement (parameters included) until it is started.
    auto later =
        pa::first(conn, pgorm::select<User>().where(pgorm::col<&User::age> == 22), asio::deferred);
    std::optional<User> u = co_await std::move(later)(use_awaitable);
    EXPECT_TRUE(u);
    if (u) {
      EXPECT_EQ(u->email, "u2@x.org");
    }
    // 200 builders from 200 coroutines on the one connection.
    int done = 0;
    int wrong = 0;
    for (int i = 0; i < 200; ++i) {
      asio::co_spawn(
          io,
          [&, i]() -> awaitable<void> {
            const std::int32_t age = 21 + i % 5;
            std::optional<User> r = co_await pa::first(
                conn, pgorm::select<User>().where(pgorm::col<&User::age> == age), use_awaitable);
            if (!r || r->age != age) ++wrong;
            ++done;
          },
          asio::detached);
    }
    asio::steady_timer t(io);
    for (int waited = 0; done < 200 && waited < 3000; ++waited) {
      t.expires_after(10ms);
      co_await t.async_wait(use_awaitable);
    }
    EXPECT_EQ(done, 200);
    EXPECT_EQ(wrong, 0);
  });
}

}  // namespace
