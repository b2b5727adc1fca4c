// SPDX-License-Identifier: MIT
// Builders' static statements on an async connection run prepared, as on the synchronous one:
// prepared once per session and run by name, prepared again after DISCARD ALL or a change of
// their result type, and a failing Parse fails every statement that named it with its own
// error. Against a real server.

#include <chrono>
#include <cstdint>
#include <optional>
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
#include "support/schema.hpp"

namespace asio = boost::asio;
using namespace std::chrono_literals;
using asio::awaitable;
using asio::use_awaitable;
using qt::User;

namespace {

// A table the test never creates: its select fails at Parse (42P01).
struct Missing {
  std::int64_t id = 0;
};

}  // namespace

template <>
struct pgorm::table_traits<Missing> {
  static constexpr std::string_view name = "async_prepared_missing";
  static constexpr auto primary_key = pgorm::key(&Missing::id);
};

namespace {

using pgorm::test::run_coro;
namespace pa = pgorm::async;

class async_prepared_test : public pgorm::test::db_test {
 protected:
  void SetUp() override {
    db_test::SetUp();
    conn().exec(std::string(qt::ddl));
    for (int i = 1; i <= 3; ++i) {
      conn().exec("insert into \"user\" (email, name, age) values ($1, 'n', $2::int)",
                  {pgorm::param::text("u" + std::to_string(i) + "@x.org"),
                   pgorm::param::text(std::to_string(20 + i))});
    }
  }
  awaitable<pa::connection> open(asio::io_context& io) {
    co_return co_await pa::connection::async_connect(io, conninfo(), {}, use_awaitable);
  }
  // The statements prepared in the session of `c` whose text is that of `sql`. (Asked with
  // async_exec(text) without parameters, the text dollar-quoted, which is not prepared: with
  // parameters, or as a raw pgorm::query<Row>, it would be, and take a place in the statement
  // cache.)
  static awaitable<std::int64_t> prepared_count(pa::connection& c, std::string_view sql) {
    const pgorm::result r = co_await c.async_exec(
        "select count(*) from pg_prepared_statements where statement = $pgorm_sql$" +
            std::string(sql) + "$pgorm_sql$",
        use_awaitable);
    co_return std::stoll(std::string(r.value(0, 0)));
  }
};

const auto by_age = [](std::int32_t age) {
  return pgorm::select<User>().where(pgorm::col<&User::age> == age);
};

TEST_F(async_prepared_test, prepares_a_static_statement_once_and_again_after_discard) {
  run_coro([&](asio::io_context& io) -> awaitable<void> {
    auto conn = co_await open(io);
    const std::string_view sql = decltype(by_age(0))::sql();
    for (std::int32_t age = 21; age <= 23; ++age) {
      std::optional<User> u = co_await pa::first(conn, by_age(age), use_awaitable);
      EXPECT_TRUE(u && u->age == age);
    }
    EXPECT_EQ(co_await prepared_count(conn, sql), 1);
    // What the async pool's reset sends: the session forgets its statements, and so does
    // the connection.
    co_await conn.async_exec("discard all", use_awaitable);
    EXPECT_EQ(co_await prepared_count(conn, sql), 0);
    std::optional<User> u = co_await pa::first(conn, by_age(22), use_awaitable);
    EXPECT_TRUE(u && u->email == "u2@x.org");
    EXPECT_EQ(co_await prepared_count(conn, sql), 1);
  });
}

TEST_F(async_prepared_test, runs_again_when_the_server_dropped_or_changed_it) {
  run_coro([&](asio::io_context& io) -> awaitable<void> {
    auto conn = co_await open(io);
    EXPECT_TRUE(co_await pa::first(conn, by_age(21), use_awaitable));
    // Dropped behind the connection's back (the comment hides the DEALLOCATE from it: 26000
    // on the next run): prepared again.
    co_await conn.async_exec("/* behind its back */ deallocate all", use_awaitable);
    EXPECT_TRUE(co_await pa::first(conn, by_age(21), use_awaitable));
    const auto adults = pgorm::select<User>().where(pgorm::col<&User::age> > 0);
    EXPECT_EQ((co_await pa::all(conn, adults, use_awaitable)).size(), 3u);
    // A column's type changed under the prepared select (0A000, "cached plan must not
    // change result type"): prepared again, its rows read as before.
    this->conn().exec("alter table \"user\" alter column name type varchar(100)");
    std::vector<User> all = co_await pa::all(conn, adults, use_awaitable);
    EXPECT_EQ(all.size(), 3u);
    this->conn().exec("alter table \"user\" alter column name type text");
    all = co_await pa::all(conn, adults, use_awaitable);
    EXPECT_EQ(all.size(), 3u);
  });
}

TEST_F(async_prepared_test, a_failed_parse_fails_each_statement_with_its_error) {
  run_coro([&](asio::io_context& io) -> awaitable<void> {
    auto conn = co_await open(io);
    // Three at once: the first carries the Parse, the two behind it name the statement it
    // would have made; all three get the server's 42P01. Reads issued in the same turn share
    // their sync point: those behind the failure were skipped by the server and are sent
    // again, those before it stand; all of them succeed.
    int undefined_table = 0;
    int other = 0;
    int done = 0;
    int read_ok = 0;
    const auto reads = [&] {
      for (int i = 0; i < 5; ++i) {
        asio::co_spawn(
            io,
            [&, i]() -> awaitable<void> {
              const std::int32_t age = 21 + i % 3;
              std::optional<User> r = co_await pa::first(conn, by_age(age), use_awaitable);
              if (r && r->age == age) ++read_ok;
              ++done;
            },
            asio::detached);
      }
    };
    reads();
    for (int i = 0; i < 3; ++i) {
      asio::co_spawn(
          io,
          [&]() -> awaitable<void> {
            try {
              (void)co_await pa::find<Missing>(conn, std::int64_t{1}, use_awaitable);
            } catch (const pgorm::sql_error& e) {
              ++(e.sqlstate() == "42P01" ? undefined_table : other);
            }
            ++done;
          },
          asio::detached);
    }
    reads();
    std::optional<User> u = co_await pa::first(conn, by_age(23), use_awaitable);
    EXPECT_TRUE(u && u->email == "u3@x.org");
    asio::steady_timer t(io);
    for (int waited = 0; done < 13 && waited < 500; ++waited) {
      t.expires_after(10ms);
      co_await t.async_wait(use_awaitable);
    }
    EXPECT_EQ(undefined_table, 3);
    EXPECT_EQ(other, 0);
    EXPECT_EQ(read_ok, 10);
  });
}

TEST_F(async_prepared_test, keeps_at_most_statement_cache_size_statements) {
  run_coro([&](asio::io_context& io) -> awaitable<void> {
    pgorm::connect_options o;
    o.statement_cache_size = 1;
    auto conn = co_await pa::connection::async_connect(io, conninfo(), o, use_awaitable);
    const auto by_email = [](std::string e) {
      return pgorm::select<User>().where(pgorm::col<&User::email> == e);
    };
    for (int round = 0; round < 3; ++round) {
      EXPECT_TRUE(co_await pa::first(conn, by_age(21), use_awaitable));
      EXPECT_TRUE(co_await pa::first(conn, by_email("u2@x.org"), use_awaitable));
    }
    // The older one was deallocated each time the other was prepared.
    EXPECT_EQ(co_await prepared_count(conn, decltype(by_age(0))::sql()), 0);
    EXPECT_EQ(co_await prepared_count(conn, decltype(by_email(""))::sql()), 1);
  });
}

TEST_F(async_prepared_test, runs_unnamed_when_prepare_is_off) {
  run_coro([&](asio::io_context& io) -> awaitable<void> {
    pgorm::connect_options o;
    o.prepare = false;
    auto conn = co_await pa::connection::async_connect(io, conninfo(), o, use_awaitable);
    EXPECT_TRUE(co_await pa::first(conn, by_age(21), use_awaitable));
    EXPECT_EQ(co_await prepared_count(conn, decltype(by_age(0))::sql()), 0);
  });
}

}  // namespace
