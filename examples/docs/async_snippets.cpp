// SPDX-License-Identifier: MIT
// The code blocks of docs/async.md, compiled (never run). Each region between
// `doc-begin(name)` and `doc-end(name)` appears verbatim (dedented) in the page; check with
// tools/check_docs.py. User is the schema of docs/queries.md (schema.hpp).

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <future>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

// doc-begin(include)
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>
#include <pgorm/async.hpp>
// doc-end(include)

#include "pgorm/pgorm.hpp"
#include "schema.hpp"

namespace docs::async_page {

using app::User;
namespace asio = boost::asio;
using namespace std::chrono_literals;

// doc-begin(connect)
asio::awaitable<void> hello(std::string url) {
  pgorm::connect_options options;
  options.query_timeout = 10s;  // the default deadline of each statement
  auto ex = co_await asio::this_coro::executor;
  pgorm::async::connection conn =
      co_await pgorm::async::connection::async_connect(ex, url, options, asio::use_awaitable);
  const pgorm::param args[] = {pgorm::param::text("41")};
  pgorm::result r = co_await conn.async_exec("select $1::int + 1", args, asio::use_awaitable);
  // r.value(0, 0) == "42"
}

int main_like(const std::string& url) {
  asio::io_context io;
  asio::co_spawn(io, hello(url), asio::detached);
  io.run();  // pgorm starts no thread: the work runs here
  return 0;
}
// doc-end(connect)

asio::awaitable<void> builders(pgorm::async::connection& conn, std::int64_t id) {
  // doc-begin(builders)
  namespace pa = pgorm::async;
  std::vector<User> adults = co_await pa::all(
      conn, pgorm::select<User>().where(pgorm::col<&User::age> >= 18), asio::use_awaitable);
  std::optional<User> u = co_await pa::find<User>(conn, id, asio::use_awaitable);
  User one = co_await pa::one(
      conn, pgorm::select<User>().where(pgorm::col<&User::email> == "a@example.com"),
      asio::use_awaitable);
  std::int64_t changed = co_await pa::exec(
      conn,
      pgorm::update<User>().set(pgorm::col<& User::age> = 30).where(pgorm::col<&User::id> == id),
      asio::use_awaitable);
  auto first_page = co_await pa::page(conn, pgorm::select<User>().order_by(pgorm::col<&User::id>),
                                      20, asio::use_awaitable);
  std::vector<std::string> emails;
  co_await pa::each(
      conn, pgorm::select<User>(), [&](const User& row) { emails.push_back(row.email); },
      asio::use_awaitable);
  // doc-end(builders)
  (void)adults;
  (void)u;
  (void)one;
  (void)changed;
  (void)first_page;
}

asio::awaitable<void> lookup(pgorm::async::connection& conn, std::int64_t id) {
  std::optional<User> u = co_await pgorm::async::find<User>(conn, id, asio::use_awaitable);
  (void)u;
}

void concurrent(asio::io_context& io, pgorm::async::connection& conn) {
  // doc-begin(concurrent)
  // 256 coroutines, one connection: all 256 statements go out at once (one pipeline), and
  // each coroutine resumes with its own row as soon as it arrives.
  for (std::int64_t id = 1; id <= 256; ++id) {
    asio::co_spawn(io, lookup(conn, id), asio::detached);
  }
  // doc-end(concurrent)
}

asio::awaitable<void> deadlines(pgorm::async::connection& conn) {
  // doc-begin(deadlines)
  namespace pa = pgorm::async;
  // The connection's default (connect_options::query_timeout), or one of the call's own:
  auto rows =
      co_await pa::all(pa::with_timeout(conn, 200ms), pgorm::select<User>(), asio::use_awaitable);
  pgorm::result r = co_await conn.async_exec("select pg_sleep(1)", {}, pgorm::data_format::text, 2s,
                                             asio::use_awaitable);
  // Past the deadline the statement is cancelled on the server: pgorm::query_canceled.
  // doc-end(deadlines)
  (void)rows;
}

asio::awaitable<void> race(pgorm::async::connection& conn) {
  // doc-begin(race)
  using namespace asio::experimental::awaitable_operators;
  asio::steady_timer timer(co_await asio::this_coro::executor, 500ms);
  auto winner = co_await (conn.async_exec("select count(*) from big_table", asio::use_awaitable) ||
                          timer.async_wait(asio::use_awaitable));
  if (winner.index() == 1) {
    // The timer won: the count was cancelled on the server (it no longer shows in
    // pg_stat_activity) before this line runs, and the connection is ready for more.
  }
  // doc-end(race)
}

void tokens(asio::io_context& io, pgorm::async::connection& conn) {
  // doc-begin(tokens)
  // A callback:
  conn.async_exec("select 1", [](std::exception_ptr error, pgorm::result r) {
    if (error) return;  // std::rethrow_exception(error) throws the typed pgorm error
    std::string one = std::string(r.value(0, 0));
  });
  // A future (the io_context runs on another thread):
  std::future<pgorm::result> f = conn.async_exec("select 2", asio::use_future);
  // A deferred operation: nothing is sent until it is started.
  auto op = pgorm::async::first(conn, pgorm::select<User>(), asio::deferred);
  // doc-end(tokens)
  (void)io;
  (void)f;
  (void)op;
}

asio::awaitable<void> transactions(pgorm::async::connection& conn, std::int64_t from,
                                   std::int64_t to) {
  // doc-begin(transaction)
  namespace pa = pgorm::async;
  // BEGIN ISOLATION LEVEL SERIALIZABLE; fn; COMMIT. Rolled back when fn throws; run again
  // (up to 5 times in all) on a serialization failure or deadlock; one 2 s deadline for all.
  std::int64_t moved = co_await pa::run_transaction(
      conn,
      [&](pa::transaction& tx) -> asio::awaitable<std::int64_t> {
        co_await pa::exec(tx,
                          pgorm::update<User>()
                              .set(pgorm::col<& User::age> = pgorm::col<&User::age> - 1)
                              .where(pgorm::col<&User::id> == from),
                          asio::use_awaitable);
        co_return co_await pa::exec(tx,
                                    pgorm::update<User>()
                                        .set(pgorm::col<& User::age> = pgorm::col<&User::age> + 1)
                                        .where(pgorm::col<&User::id> == to),
                                    asio::use_awaitable);
      },
      {.isolation = pgorm::isolation_level::serializable,
       .retry = {.max_attempts = 5},
       .timeout = 2s},
      asio::use_awaitable);
  // doc-end(transaction)
  (void)moved;
}

asio::awaitable<void> savepoints(pgorm::async::connection& conn) {
  // doc-begin(savepoint)
  namespace pa = pgorm::async;
  co_await pa::run_transaction(
      conn,
      [&](pa::transaction& tx) -> asio::awaitable<void> {
        co_await tx.async_exec("insert into audit (what) values ('import')", asio::use_awaitable);
        try {
          co_await tx.savepoint([&](pa::transaction& sp) -> asio::awaitable<void> {
            co_await sp.async_exec("insert into users (email) values ('dup@example.com')",
                                   asio::use_awaitable);
          });
        } catch (const pgorm::unique_violation&) {
          // Rolled back to the savepoint; the audit row stays, and the transaction goes on.
        }
      },
      asio::use_awaitable);
  // doc-end(savepoint)
}

asio::awaitable<void> with_a_pool(asio::io_context& io, std::string url, std::int64_t id) {
  // doc-begin(pool)
  namespace pa = pgorm::async;
  // The synchronous pool's options; nothing is opened until a statement needs a connection.
  pa::pool db(io, url, {.max_size = 10, .acquire_timeout = 2s, .idle_timeout = 30s});
  // Builders borrow a connection for their statement and give it back when the result is in.
  std::optional<User> u = co_await pa::find<User>(db, id, asio::use_awaitable);
  // A transaction holds one connection for its whole run, retries included.
  co_await pa::run_transaction(
      db,
      [&](pa::transaction& tx) -> asio::awaitable<void> {
        co_await pa::exec(tx, pgorm::remove<User>().where(pgorm::col<&User::id> == id),
                          asio::use_awaitable);
      },
      asio::use_awaitable);
  // A lease of one's own: reset (DISCARD ALL) when it goes back, without blocking.
  pa::lease c = co_await db.async_acquire(asio::use_awaitable);
  co_await c->async_exec("select set_config('app.user', '42', false)", asio::use_awaitable);
  c.release();
  pgorm::pool_stats s = db.stats();  // in_use, idle, waiting, totals
  // doc-end(pool)
  (void)u;
  (void)s;
}

asio::awaitable<void> shared_reads(asio::io_context& io, std::string url, std::int64_t id) {
  // doc-begin(pool_shared_reads)
  namespace pa = pgorm::async;
  // Builders' reads share the 4 connections, up to 64 in flight on each.
  pa::pool db(io, url, {.max_size = 4}, {.per_connection = 64});
  // A read: on the shared connection with the fewest reads in flight, pipelined with them.
  std::optional<User> u = co_await pa::find<User>(db, id, asio::use_awaitable);
  // A write (like raw SQL, leases and transactions) still borrows a connection of its own.
  co_await pa::exec(
      db,
      pgorm::update<User>().set(pgorm::col<& User::age> = 30).where(pgorm::col<&User::id> == id),
      asio::use_awaitable);
  std::size_t now = db.reads_in_flight();  // over all shared connections
  // doc-end(pool_shared_reads)
  (void)u;
  (void)now;
}

void pool_events(asio::io_context& io, const std::string& url) {
  namespace pa = pgorm::async;
  // doc-begin(pool_events)
  // Pool events and leak detection, as for pgorm::pool (docs/pool.md).
  struct pool_log : pgorm::observer {
    void on_pool_event(const pgorm::pool_event& e) override {
      if (e.kind == pgorm::pool_event_kind::leak_suspected) {
        std::fprintf(stderr, "%.*s\n", static_cast<int>(e.detail.size()), e.detail.data());
      }
    }
  };
  pa::pool watched(io, url,
                   {.max_size = 10,
                    .leak_threshold = 30s,  // a lease held longer is reported once, with its site
                    .connection = {.events = std::make_shared<pool_log>()}});
  // doc-end(pool_events)
}

asio::awaitable<void> notifications(pgorm::async::connection& conn) {
  // doc-begin(notifications)
  co_await conn.async_exec("listen jobs", asio::use_awaitable);
  std::vector<std::string> jobs;
  // One notification per call: those that arrive between calls are kept, in order. nullopt
  // when none came within the timeout; statements may run on the connection meanwhile.
  while (std::optional<pgorm::notification> n =
             co_await conn.async_next_notification(30s, asio::use_awaitable)) {
    jobs.push_back(n->payload);  // n->channel is "jobs"; n->sender_pid sent it
  }
  // doc-end(notifications)
}

void threads(const std::string& url) {
  // doc-begin(threads)
  asio::io_context io;
  asio::co_spawn(io, hello(url), asio::detached);
  std::vector<std::thread> pool;
  for (int i = 0; i < 4; ++i) pool.emplace_back([&io] { io.run(); });
  for (auto& t : pool) t.join();
  // doc-end(threads)
}

}  // namespace docs::async_page
