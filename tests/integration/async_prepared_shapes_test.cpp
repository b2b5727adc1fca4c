// SPDX-License-Identifier: MIT
// Statements whose text is rendered at run time (a range insert, raw pgorm::query<Row>),
// async_exec() of a shape or of a text with parameters (on a connection and in a transaction)
// and the statements of an explicit pipeline run prepared on an async
// connection, from the cache the synchronous connection uses: prepared once per session
// (pg_prepared_statements shows them), prepared again after DISCARD ALL or a DEALLOCATE the
// connection did not see (26000), and at most statement_cache_size of them kept, also while evicted
// ones are still in flight. Against a real server.

#include <chrono>
#include <cstdint>
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
#include "support/schema.hpp"

namespace {

namespace asio = boost::asio;
namespace pa = pgorm::async;
using asio::awaitable;
using asio::use_awaitable;
using pgorm::test::run_coro;
using qt::User;

struct count_row {
  std::int64_t n;
};

const auto older_than = [](std::int32_t age) {
  return pgorm::query<count_row>("select count(*) as n from \"user\" where age > $1", age);
};
constexpr std::string_view older_than_sql = "select count(*) as n from \"user\" where age > $1";

User user(std::string email, std::int32_t age) {
  User u{};
  u.email = std::move(email);
  u.age = age;
  return u;
}

class async_prepared_shapes_test : public pgorm::test::db_test {
 protected:
  void SetUp() override {
    db_test::SetUp();
    conn().exec(std::string(qt::ddl));
  }
  awaitable<pa::connection> open(asio::io_context& io, pgorm::connect_options o = {}) {
    co_return co_await pa::connection::async_connect(io, conninfo(), o, use_awaitable);
  }
  // The statements prepared in the session of `c` whose text is like `pattern`.
  static awaitable<std::int64_t> prepared_like(pa::connection& c, std::string pattern) {
    const pgorm::param args[] = {pgorm::param::text(pattern)};
    const pgorm::result r = co_await c.async_exec(
        "select count(*) from pg_prepared_statements where statement like $1", args, use_awaitable);
    co_return std::stoll(std::string(r.value(0, 0)));
  }
};

TEST_F(async_prepared_shapes_test, run_time_texts_and_shapes_run_prepared) {
  run_coro([&](asio::io_context& io) -> awaitable<void> {
    auto c = co_await open(io);
    // A range insert: its text depends on the number of rows.
    for (int round = 0; round != 3; ++round) {
      std::vector<User> two{user("a" + std::to_string(round) + "@x.org", 20 + round),
                            user("b" + std::to_string(round) + "@x.org", 30 + round)};
      const auto add = pgorm::insert(two);
      EXPECT_EQ(co_await pa::exec(c, add, use_awaitable), 2);
    }
    EXPECT_EQ(co_await prepared_like(c, "INSERT INTO \"user\"%"), 1);
    // Raw SQL through a terminal.
    EXPECT_EQ((co_await pa::one(c, older_than(25), use_awaitable)).n, 3);  // 30, 31, 32
    EXPECT_EQ((co_await pa::one(c, older_than(31), use_awaitable)).n, 1);
    EXPECT_EQ(co_await prepared_like(c, std::string(older_than_sql)), 1);
    // async_exec() of a shape.
    for (int i = 0; i != 2; ++i) {
      const pgorm::param args[] = {pgorm::param::text("41")};
      const pgorm::result r =
          co_await c.async_exec(pgorm::statement_shape{.sql = "select $1::int + 1 as answer"}, args,
                                pgorm::data_format::text, {}, use_awaitable);
      EXPECT_EQ(r.value(0, 0), "42");
    }
    EXPECT_EQ(co_await prepared_like(c, "select $1::int + 1 as answer"), 1);
  });
}

// async_exec() of a text with parameters runs from the cache, found by its text, as the
// synchronous connection::exec(sql, params) does: its second run finds it prepared. Without
// parameters (as exec(sql)) it runs unnamed. The same in an async transaction.
TEST_F(async_prepared_shapes_test, async_exec_of_a_text_with_parameters_runs_prepared) {
  constexpr std::string_view by_text = "select $1::int + 22 as by_text";
  constexpr std::string_view in_tx = "select $1::int + 33 as in_tx";
  // The synchronous connection's policy, which the async one follows.
  for (int i = 0; i != 2; ++i) (void)conn().exec(by_text, {pgorm::param::text("20")});
  EXPECT_EQ(conn()
                .exec("select count(*) from pg_prepared_statements where statement = $1",
                      {pgorm::param::text(std::string(by_text))})
                .value(0, 0),
            "1");
  run_coro([&](asio::io_context& io) -> awaitable<void> {
    auto c = co_await open(io);
    const pgorm::param args[] = {pgorm::param::text("20")};
    for (int i = 0; i != 2; ++i) {
      const pgorm::result r = co_await c.async_exec(by_text, args, use_awaitable);
      EXPECT_EQ(r.value(0, 0), "42");
      EXPECT_EQ(co_await prepared_like(c, std::string(by_text)), 1);
    }
    co_await c.async_exec("select 7 as no_params", use_awaitable);
    EXPECT_EQ(co_await prepared_like(c, "select 7 as no_params"), 0);
    co_await pa::run_transaction(
        c,
        [&](pa::transaction& tx) -> awaitable<void> {
          for (int i = 0; i != 2; ++i) {
            const pgorm::result r = co_await tx.async_exec(in_tx, args, use_awaitable);
            EXPECT_EQ(r.value(0, 0), "53");
          }
          co_await tx.async_exec("select 8 as no_params_in_tx", use_awaitable);
        },
        use_awaitable);
    EXPECT_EQ(co_await prepared_like(c, std::string(in_tx)), 1);
    EXPECT_EQ(co_await prepared_like(c, "select 8 as no_params_in_tx"), 0);
  });
}

TEST_F(async_prepared_shapes_test, discard_all_and_a_dropped_statement_are_handled) {
  run_coro([&](asio::io_context& io) -> awaitable<void> {
    auto c = co_await open(io);
    EXPECT_EQ((co_await pa::one(c, older_than(0), use_awaitable)).n, 0);
    EXPECT_EQ(co_await prepared_like(c, std::string(older_than_sql)), 1);
    // What the async pool's reset sends: the connection forgets its statements too.
    co_await c.async_exec("discard all", use_awaitable);
    EXPECT_EQ(co_await prepared_like(c, std::string(older_than_sql)), 0);
    EXPECT_EQ((co_await pa::one(c, older_than(0), use_awaitable)).n, 0);
    EXPECT_EQ(co_await prepared_like(c, std::string(older_than_sql)), 1);
    // Dropped behind the connection's back (the comment hides the DEALLOCATE from it): the
    // next run meets 26000 and is prepared and sent again.
    co_await c.async_exec("/* behind its back */ deallocate all", use_awaitable);
    EXPECT_EQ((co_await pa::one(c, older_than(0), use_awaitable)).n, 0);
    EXPECT_EQ(co_await prepared_like(c, std::string(older_than_sql)), 1);
  });
}

TEST_F(async_prepared_shapes_test, keeps_at_most_statement_cache_size_while_in_flight) {
  run_coro([&](asio::io_context& io) -> awaitable<void> {
    pgorm::connect_options o;
    o.statement_cache_size = 2;
    auto c = co_await open(io, o);
    // 24 texts issued together, two rounds: each new one evicts (DEALLOCATE) an older one
    // that may still be in flight, or be wanted again by a statement queued behind.
    int done = 0;
    for (int round = 0; round != 2; ++round) {
      for (int k = 0; k != 24; ++k) {
        asio::co_spawn(
            io,
            [&c, &done, k]() -> awaitable<void> {
              const pgorm::param args[] = {pgorm::param::text("1000")};
              const std::string sql = "select $1::int + " + std::to_string(k) + " as shaped";
              const pgorm::result r =
                  co_await c.async_exec(pgorm::statement_shape{.sql = sql}, args,
                                        pgorm::data_format::text, {}, use_awaitable);
              EXPECT_EQ(r.value(0, 0), std::to_string(1000 + k));
              ++done;
            },
            asio::detached);
      }
    }
    while (done != 48) co_await pgorm::test::sleep_for(std::chrono::milliseconds(5));
    EXPECT_LE(co_await prepared_like(c, "select $1::int + % as shaped"), 2);
  });
}

TEST_F(async_prepared_shapes_test, an_explicit_pipeline_runs_from_the_cache) {
  run_coro([&](asio::io_context& io) -> awaitable<void> {
    auto c = co_await open(io);
    const auto adults = pgorm::select<User>().where(pgorm::col<&User::age> >= 18);
    for (int round = 0; round != 2; ++round) {
      pa::pipeline p;
      const auto add = pgorm::insert(user("p" + std::to_string(round) + "@x.org", 40));
      auto added = p.add(add);
      auto n = p.add(older_than(39));
      auto all = p.add(adults);
      co_await p.async_run(c, use_awaitable);
      EXPECT_EQ(added.exec(), 1);
      EXPECT_EQ(n.one().n, round + 1);
      EXPECT_EQ(all.all().size(), static_cast<std::size_t>(round + 1));
    }
    // Prepared once each, in the run's own batch of Parses.
    EXPECT_EQ(co_await prepared_like(c, std::string(older_than_sql)), 1);
    EXPECT_EQ(co_await prepared_like(c, std::string(decltype(adults)::sql())), 1);
    // The statements a single call prepared are run by the pipeline by name, and the other
    // way round: still one each.
    EXPECT_EQ((co_await pa::one(c, older_than(39), use_awaitable)).n, 2);
    EXPECT_EQ(co_await prepared_like(c, std::string(older_than_sql)), 1);
    // A statement the server rejects at Parse fails at its place; the others run.
    pa::pipeline bad;
    auto before = bad.add(older_than(0));
    auto missing = bad.add(pgorm::query<count_row>("select count(*) as n from no_such_table"));
    bad.sync();
    auto after = bad.add(adults);
    co_await bad.async_run(c, use_awaitable);
    EXPECT_EQ(before.one().n, 2);
    EXPECT_THROW((void)missing.one(), pgorm::sql_error);
    EXPECT_EQ(after.all().size(), 2U);
    EXPECT_EQ(co_await prepared_like(c, "%no_such_table%"), 0);
    // After DISCARD ALL the next run prepares again.
    co_await c.async_exec("discard all", use_awaitable);
    pa::pipeline again;
    auto n2 = again.add(older_than(0));
    co_await again.async_run(c, use_awaitable);
    EXPECT_EQ(n2.one().n, 2);
    EXPECT_EQ(co_await prepared_like(c, std::string(older_than_sql)), 1);
  });
}

}  // namespace
