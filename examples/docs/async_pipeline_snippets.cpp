// SPDX-License-Identifier: MIT
// The explicit-pipeline code blocks of docs/async.md, compiled (never run). Each region between
// `doc-begin(name)` and `doc-end(name)` appears verbatim (dedented) in the page; check with
// tools/check_docs.py. User and Session are the schema of docs/queries.md (schema.hpp).

#include <chrono>
#include <cstdint>
#include <optional>
#include <tuple>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <pgorm/async.hpp>

#include "schema.hpp"

namespace docs::async_pipeline_page {

using app::Session;
using app::User;
namespace asio = boost::asio;
using namespace std::chrono_literals;

asio::awaitable<void> pipelined(pgorm::async::connection& conn,
                                const std::vector<std::int64_t>& ids) {
  // doc-begin(async_pipeline)
  pgorm::async::pipeline p;
  auto adults = p.add(pgorm::select<User>().where(pgorm::col<&User::age> >= 18));
  auto count = p.add(pgorm::query<std::tuple<std::int64_t>>("select count(*) from session"));
  p.sync();  // a new batch: a failure above does not abort what follows
  auto found = p.add_each(ids, [](std::int64_t id) {
    return pgorm::select<User>().where(pgorm::col<&User::id> == id);
  });
  co_await p.async_run(conn, 5s, asio::use_awaitable);  // every statement, one unit
  std::vector<User> users = adults.all();               // or its own error, or pipeline_aborted
  auto [sessions] = count.one();
  for (auto& h : found) {
    if (std::optional<User> u = h.first()) users.push_back(*u);
  }
  // doc-end(async_pipeline)
  (void)sessions;
}

asio::awaitable<void> pipelined_on_pool(pgorm::async::pool& db) {
  // doc-begin(async_pipeline_pool)
  pgorm::async::pipeline p;
  auto user = p.add(pgorm::select<User>().where(pgorm::col<&User::id> == 42));
  auto sessions = p.add(pgorm::select<Session>().where(pgorm::col<&Session::user_id> == 42));
  // Borrows a connection for the run (waiting up to acquire_timeout) and gives it back after;
  // builders' statements only, so no DISCARD ALL follows.
  co_await p.async_run(db, 2s, asio::use_awaitable);
  std::optional<User> u = user.first();
  // doc-end(async_pipeline_pool)
  (void)u;
  (void)sessions;
}

asio::awaitable<void> pipelined_in_transaction(pgorm::async::connection& conn, const User& a,
                                               const User& b) {
  // doc-begin(async_pipeline_transaction)
  co_await pgorm::async::run_transaction(
      conn,
      [&](pgorm::async::transaction& tx) -> asio::awaitable<void> {
        pgorm::async::pipeline p;
        auto first = p.add(pgorm::insert(a));
        auto second = p.add(pgorm::insert(b));
        // On the transaction's pinned connection: committed or rolled back with it.
        co_await p.async_run(tx, asio::use_awaitable);
        (void)(first.exec() + second.exec());  // throws the error of a failed insert
      },
      asio::use_awaitable);
  // doc-end(async_pipeline_transaction)
}

}  // namespace docs::async_pipeline_page
