// SPDX-License-Identifier: MIT
// The COPY code blocks of docs/async.md, compiled (never run). Each region between
// `doc-begin(name)` and `doc-end(name)` appears verbatim (dedented) in the page; check with
// tools/check_docs.py. User is the schema of docs/queries.md (schema.hpp).

#include <chrono>
#include <cstdint>
#include <future>
#include <string>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>
#include <pgorm/async.hpp>

#include "schema.hpp"

namespace docs::async_copy_page {

using app::User;
namespace asio = boost::asio;
using namespace std::chrono_literals;

asio::awaitable<void> copy(pgorm::async::connection& conn, pgorm::async::pool& db,
                           const std::vector<User>& users) {
  // doc-begin(async_copy)
  // Writes every user with one binary COPY; `users` must stay alive until it completes.
  std::int64_t written = co_await pgorm::async::copy_in(conn, users, asio::use_awaitable);

  // Streams a table (or a select builder) into a function, one row at a time.
  std::vector<std::string> emails;
  co_await pgorm::async::copy_out<User>(
      conn, [&](const User& u) { emails.push_back(u.email); }, asio::use_awaitable);
  co_await pgorm::async::copy_out(
      conn, pgorm::select<User>().where(pgorm::col<&User::age> >= 18),
      [&](const User& u) { emails.push_back(u.email); }, 30s, asio::use_awaitable);

  // On a pool: a connection is borrowed for the COPY; any completion token works.
  std::future<std::int64_t> f = pgorm::async::copy_in(db, users, asio::use_future);
  // doc-end(async_copy)
  (void)written;
  (void)f;
}

asio::awaitable<void> copy_race(pgorm::async::connection& conn) {
  // doc-begin(async_copy_cancel)
  using namespace asio::experimental::awaitable_operators;
  asio::steady_timer timer(co_await asio::this_coro::executor, 2s);
  std::int64_t seen = 0;
  // The timer wins: the COPY is cancelled on the server, the connection stays usable.
  auto done = co_await (pgorm::async::copy_out<User>(
                            conn, [&](const User&) { ++seen; }, asio::use_awaitable) ||
                        timer.async_wait(asio::use_awaitable));
  // doc-end(async_copy_cancel)
  (void)done;
}

asio::awaitable<void> copy_in_transaction(pgorm::async::connection& conn,
                                          const std::vector<User>& users) {
  // doc-begin(async_copy_transaction)
  co_await pgorm::async::run_transaction(
      conn,
      [&](pgorm::async::transaction& tx) -> asio::awaitable<void> {
        // On the transaction's pinned connection, within what is left of its 5 s.
        co_await pgorm::async::copy_in(tx, users, asio::use_awaitable);
        co_await tx.async_exec("notify users_imported", asio::use_awaitable);  // sent on commit
      },  // a throw here rolls the copied rows back too
      {.timeout = 5s}, asio::use_awaitable);
  // doc-end(async_copy_transaction)
}

}  // namespace docs::async_copy_page
