// SPDX-License-Identifier: MIT
// The observer of an async connection (connect_options::events) against a real server: every
// statement (async_exec, the builders' terminals, each(), a transaction's BEGIN and COMMIT, a
// pool's statements), every COPY and every statement of an explicit pipeline is reported with
// on_query_start and on_query_end, with the fields the synchronous connection reports (SQL
// text, operation, table, server, parameter count, rows, SQLSTATE and error text); an observer
// may call the connection from its callbacks (it never runs under the connection's lock), also
// from the threads of a multi-threaded io_context.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <gtest/gtest.h>

#include "pgorm/async.hpp"
#include "pgorm/async/copy.hpp"
#include "pgorm/async/pipeline.hpp"
#include "pgorm/error.hpp"
#include "pgorm/observer.hpp"
#include "pgorm/query.hpp"
#include "support/async_test.hpp"
#include "support/db_test.hpp"

namespace async_observer_it {

struct Gadget {
  std::int64_t id;
  std::string name;
  std::int32_t qty;
};

}  // namespace async_observer_it

template <>
struct pgorm::table_traits<async_observer_it::Gadget> {
  static constexpr std::string_view name = "gadgets";
  static constexpr auto primary_key = pgorm::identity(&async_observer_it::Gadget::id);
};

namespace {

namespace asio = boost::asio;
namespace pa = pgorm::async;
using namespace std::chrono_literals;
using asio::awaitable;
using asio::use_awaitable;
using async_observer_it::Gadget;
using pgorm::col;
using pgorm::test::run_coro;

// One reported statement: what on_query_start and on_query_end saw.
struct seen {
  std::string sql;
  std::string operation;
  std::string table;
  std::string server;
  std::size_t param_count = 0;
  std::vector<std::string> params;
  std::int64_t rows = -1;
  std::string sqlstate;
  std::string error;
  std::chrono::nanoseconds duration{-1};
  bool ended = false;
};

struct recorder : pgorm::observer {
  explicit recorder(bool params = false) : want_params(params) {}
  bool want_params;
  std::mutex mu;
  std::vector<seen> events;        // in on_query_start order
  pa::connection* conn = nullptr;  // called from on_query_end when set
  std::size_t in_flight_seen = 0;

  [[nodiscard]] bool wants_parameters() const noexcept override { return want_params; }
  void on_query_start(const pgorm::query_event& q) override {
    std::lock_guard lock(mu);
    seen s;
    s.sql = q.sql;
    s.operation = q.operation;
    s.table = q.table;
    s.server = q.server;
    s.param_count = q.param_count;
    for (const pgorm::param& p : q.params) s.params.emplace_back(p.bytes());
    events.push_back(std::move(s));
  }
  void on_query_end(const pgorm::query_event& q, const pgorm::query_outcome& o) override {
    // Calls the connection: would deadlock if it ran under the connection's lock.
    const std::size_t n = conn != nullptr ? conn->in_flight() : 0;
    std::lock_guard lock(mu);
    in_flight_seen += n;
    for (seen& s : events) {
      if (s.ended || s.sql != q.sql) continue;
      s.ended = true;
      s.rows = o.rows;
      s.sqlstate = o.sqlstate;
      s.error = o.error;
      s.duration = o.duration;
      return;
    }
    ADD_FAILURE() << "on_query_end without on_query_start: " << q.sql;
  }
  std::vector<seen> take() {
    std::lock_guard lock(mu);
    std::vector<seen> out = std::move(events);
    events.clear();
    return out;
  }
};

class async_observer_test : public pgorm::test::db_test {
 protected:
  void SetUp() override {
    db_test::SetUp();
    conn().exec(
        "create table gadgets (id bigint generated always as identity primary key, "
        "name text not null unique, qty integer not null)");
    conn().exec("insert into gadgets (name, qty) select 'g' || g, g from generate_series(1, 5) g");
  }

  awaitable<pa::connection> open(asio::io_context& io, std::shared_ptr<recorder> rec) {
    pgorm::connect_options o;
    o.events = std::move(rec);
    co_return co_await pa::connection::async_connect(io, conninfo(), o, use_awaitable);
  }
};

TEST_F(async_observer_test, a_statement_is_reported_with_the_sync_fields) {
  auto rec = std::make_shared<recorder>(true);
  run_coro([&](asio::io_context& io) -> awaitable<void> {
    auto c = co_await open(io, rec);
    rec->conn = &c;
    const pgorm::param args[] = {pgorm::param::text("2")};
    co_await c.async_exec("select name from gadgets where qty > $1::int", args, use_awaitable);
    co_await c.async_exec("update gadgets set qty = qty + 1 where qty <= 2", use_awaitable);
    EXPECT_THROW(
        co_await c.async_exec("insert into gadgets (name, qty) values ('g1', 1)", use_awaitable),
        pgorm::unique_violation);
    rec->conn = nullptr;
  });
  const std::vector<seen> ev = rec->take();
  ASSERT_EQ(ev.size(), 3U);
  for (const seen& s : ev) {
    EXPECT_TRUE(s.ended) << s.sql;
    EXPECT_GE(s.duration.count(), 0) << s.sql;
    EXPECT_NE(s.server.find("dbname="), std::string::npos) << s.server;
  }
  EXPECT_EQ(ev[0].sql, "select name from gadgets where qty > $1::int");
  EXPECT_EQ(ev[0].operation, "SELECT");
  EXPECT_EQ(ev[0].table, "gadgets");
  EXPECT_EQ(ev[0].param_count, 1U);
  EXPECT_EQ(ev[0].params, std::vector<std::string>{"2"});
  EXPECT_EQ(ev[0].rows, 3);
  EXPECT_EQ(ev[0].sqlstate, "");
  EXPECT_EQ(ev[1].operation, "UPDATE");
  EXPECT_EQ(ev[1].rows, 2);
  EXPECT_EQ(ev[2].operation, "INSERT");
  EXPECT_EQ(ev[2].sqlstate, "23505");
  EXPECT_NE(ev[2].error.find("gadgets"), std::string::npos) << ev[2].error;
}

TEST_F(async_observer_test, builders_streams_and_transactions_are_reported) {
  auto rec = std::make_shared<recorder>();
  run_coro([&](asio::io_context& io) -> awaitable<void> {
    auto c = co_await open(io, rec);
    const auto big = pgorm::select<Gadget>().where(col<&Gadget::qty> >= 2);
    const std::vector<Gadget> rows = co_await pa::all(c, big, use_awaitable);
    EXPECT_EQ(rows.size(), 4U);
    std::size_t streamed = 0;
    co_await pa::each(
        c, pgorm::select<Gadget>(), [&](const Gadget&) { ++streamed; }, use_awaitable);
    EXPECT_EQ(streamed, 5U);
    co_await pa::run_transaction(
        c,
        [&](pa::transaction& tx) -> awaitable<void> {
          co_await tx.async_exec("delete from gadgets where qty = 5", use_awaitable);
        },
        {}, use_awaitable);
  });
  const std::vector<seen> ev = rec->take();
  ASSERT_GE(ev.size(), 5U);
  EXPECT_EQ(ev[0].operation, "SELECT");
  EXPECT_EQ(ev[0].table, "gadgets");
  EXPECT_EQ(ev[0].param_count, 1U);
  EXPECT_TRUE(ev[0].params.empty());  // not asked for
  EXPECT_EQ(ev[0].rows, 4);
  EXPECT_EQ(ev[1].rows, 5);  // each(): the rows it streamed
  std::vector<std::string> ops;
  for (std::size_t i = 2; i != ev.size(); ++i) ops.push_back(ev[i].operation);
  EXPECT_EQ(ops, (std::vector<std::string>{"BEGIN", "DELETE", "COMMIT"}));
  EXPECT_EQ(ev[3].rows, 1);
  for (const seen& s : ev) EXPECT_TRUE(s.ended) << s.sql;
}

TEST_F(async_observer_test, copy_is_reported_as_one_statement_with_its_rows) {
  auto rec = std::make_shared<recorder>();
  run_coro([&](asio::io_context& io) -> awaitable<void> {
    auto c = co_await open(io, rec);
    std::vector<Gadget> more;
    for (int i = 0; i != 7; ++i) more.push_back(Gadget{0, "new" + std::to_string(i), i});
    EXPECT_EQ(co_await pa::copy_in(c, more, use_awaitable), 7);
    std::size_t n = 0;
    EXPECT_EQ(co_await pa::copy_out<Gadget>(
                  c, [&](const Gadget&) { ++n; }, use_awaitable),
              12);
    EXPECT_EQ(n, 12U);
  });
  std::vector<seen> copies;
  for (seen& s : rec->take()) {
    if (s.operation == "COPY") copies.push_back(std::move(s));
  }
  ASSERT_EQ(copies.size(), 2U);
  EXPECT_NE(copies[0].sql.find("FROM STDIN"), std::string::npos) << copies[0].sql;
  EXPECT_EQ(copies[0].rows, 7);
  EXPECT_NE(copies[1].sql.find("TO STDOUT"), std::string::npos) << copies[1].sql;
  EXPECT_EQ(copies[1].rows, 12);
  for (const seen& s : copies) {
    EXPECT_TRUE(s.ended);
    EXPECT_EQ(s.sqlstate, "");
  }
}

TEST_F(async_observer_test, each_statement_of_a_pipeline_is_reported) {
  auto rec = std::make_shared<recorder>();
  run_coro([&](asio::io_context& io) -> awaitable<void> {
    auto c = co_await open(io, rec);
    rec->conn = &c;
    pa::pipeline p;
    auto a = p.add(pgorm::select<Gadget>().where(col<&Gadget::qty> > 3));
    auto bad = p.add(pgorm::query<std::tuple<int>>("select 1 / 0"));
    auto skipped = p.add(pgorm::query<std::tuple<int>>("select 7"));
    p.sync();
    auto n = p.add(pgorm::query<std::tuple<std::int64_t>>("select count(*) from gadgets"));
    co_await p.async_run(c, use_awaitable);
    EXPECT_EQ(a.all().size(), 2U);
    EXPECT_THROW((void)bad.one(), pgorm::sql_error);
    EXPECT_THROW((void)skipped.one(), pgorm::pipeline_aborted);
    EXPECT_EQ(std::get<0>(n.one()), 5);
    rec->conn = nullptr;
  });
  const std::vector<seen> ev = rec->take();
  ASSERT_EQ(ev.size(), 4U);
  EXPECT_EQ(ev[0].table, "gadgets");
  EXPECT_EQ(ev[0].rows, 2);
  EXPECT_EQ(ev[0].sqlstate, "");
  EXPECT_EQ(ev[1].sql, "select 1 / 0");
  EXPECT_EQ(ev[1].sqlstate, "22012");
  EXPECT_NE(ev[2].error.find("skipped"), std::string::npos) << ev[2].error;
  EXPECT_EQ(ev[3].rows, 1);
  for (const seen& s : ev) EXPECT_TRUE(s.ended) << s.sql;
}

TEST_F(async_observer_test, a_pool_reports_its_statements) {
  auto rec = std::make_shared<recorder>();
  run_coro([&](asio::io_context& io) -> awaitable<void> {
    pgorm::pool_options o;
    o.max_size = 2;
    o.connection.events = rec;
    pa::pool db(io, conninfo(), o);
    const std::optional<Gadget> g = co_await pa::find<Gadget>(db, std::int64_t{1}, use_awaitable);
    EXPECT_TRUE(g.has_value());
    db.close();
  });
  const std::vector<seen> ev = rec->take();
  ASSERT_FALSE(ev.empty());
  EXPECT_EQ(ev[0].operation, "SELECT");
  EXPECT_EQ(ev[0].rows, 1);
  EXPECT_TRUE(ev[0].ended);
}

TEST_F(async_observer_test, threads_of_an_io_context_report_each_statement_once) {
  constexpr int coroutines = 16;
  constexpr int each = 10;
  auto rec = std::make_shared<recorder>();
  asio::io_context io(4);
  std::optional<pa::connection> conn;
  std::atomic<int> ok{0};
  asio::co_spawn(
      io,
      [&]() -> awaitable<void> {
        conn.emplace(co_await open(io, rec));
        rec->conn = &*conn;  // called from on_query_end on the reading thread
        for (int c = 0; c < coroutines; ++c) {
          // Each coroutine on its own strand, so that they run on different threads.
          asio::co_spawn(
              asio::make_strand(io),
              [&, c]() -> awaitable<void> {
                for (int i = 0; i < each; ++i) {
                  const std::string n = std::to_string(c * 100 + i);
                  const pgorm::param p[] = {pgorm::param::text(n)};
                  const pgorm::result r =
                      co_await conn->async_exec("select $1::int as threaded", p, use_awaitable);
                  if (r.value(0, 0) == std::to_string(c * 100 + i)) ok.fetch_add(1);
                }
              },
              asio::detached);
        }
      },
      asio::detached);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) threads.emplace_back([&] { io.run(); });
  for (auto& t : threads) t.join();
  rec->conn = nullptr;
  EXPECT_EQ(ok.load(), coroutines * each);
  const std::vector<seen> ev = rec->take();
  ASSERT_EQ(ev.size(), static_cast<std::size_t>(coroutines * each));
  for (const seen& s : ev) {
    EXPECT_TRUE(s.ended);
    EXPECT_EQ(s.rows, 1);
    EXPECT_EQ(s.sql, "select $1::int as threaded");
  }
}

}  // namespace
