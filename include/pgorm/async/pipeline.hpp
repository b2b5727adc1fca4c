// SPDX-License-Identifier: MIT
#pragma once

/// \file
/// An explicit pipeline on an async connection or pool (docs/async.md, "Explicit pipelines"): the
/// statements of a pgorm::pipeline (same add(), add_each(), sync(), handles and errors), sent
/// together and read back with one asynchronous run.
///
/// ```cpp
/// pgorm::async::pipeline p;
/// auto users = p.add(pgorm::select<User>().where(pgorm::col<&User::age> > 18));
/// co_await p.async_run(conn, asio::use_awaitable);
/// std::vector<User> adults = users.all();
/// ```

#include <chrono>
#include <cstdint>
#include <exception>
#include <memory>
#include <source_location>
#include <utility>
#include <vector>

#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/post.hpp>

#include "pgorm/async/connection.hpp"
#include "pgorm/async/pool.hpp"
#include "pgorm/async/transaction.hpp"
#include "pgorm/export.hpp"
#include "pgorm/pipeline.hpp"

namespace pgorm::async {

namespace detail {

/// Queues the statements of `batch` on `c` as one unit behind what is queued (none of another
/// caller's statements runs between them); completes `op` once every statement's slot is
/// settled, or with the error that ended the run. `pin`: the pin of the transaction it runs in
/// (0: none). In src/async/pipeline.cpp.
PGORM_API void submit_pipeline(const std::shared_ptr<core>& c, pgorm::detail::pipeline_batch batch,
                               std::chrono::milliseconds timeout, std::uint64_t pin,
                               std::unique_ptr<exec_op> op);

/// The run's handler as the connection completes it: the handles without a result (the run
/// failed before they were read) get the run's error, then `handler` its outcome.
template <class Handler>
auto settling(Handler handler, std::vector<std::shared_ptr<pgorm::detail::pipeline_slot>> slots) {
  return [h = std::move(handler), slots = std::move(slots)](std::exception_ptr e,
                                                            result /*none*/) mutable {
    if (e) {
      for (const auto& s : slots) {
        if (!s->done) {
          s->error = e;
          s->done = true;
        }
      }
    }
    std::move(h)(std::move(e));
  };
}

struct initiate_pipeline {
  template <class Handler>
  // `pin`: the transaction's (0: none); `refused`: when set, the run completes with it and
  // sends nothing (a spent transaction budget).
  void operator()(Handler&& handler, std::shared_ptr<core> c, boost::asio::any_io_executor fallback,
                  pgorm::detail::pipeline_batch batch, std::chrono::milliseconds timeout,
                  std::uint64_t pin, std::exception_ptr refused) const {
    auto slot = boost::asio::get_associated_cancellation_slot(handler);
    auto ex = boost::asio::get_associated_executor(handler, fallback);
    auto done = settling(std::forward<Handler>(handler), batch.slots);
    auto bound =
        boost::asio::bind_cancellation_slot(slot, boost::asio::bind_executor(ex, std::move(done)));
    if (batch.slots.empty() || refused) {  // nothing to send
      boost::asio::post(ex, [b = std::move(bound), refused]() mutable { b(refused, result{}); });
      return;
    }
    submit_pipeline(c, std::move(batch), timeout, pin,
                    std::make_unique<op_impl<decltype(bound), std::exception_ptr, result>>(
                        std::move(bound), ex));
  }
};

/// True when a statement of `batch` is raw SQL: the pool resets the connection after it.
inline bool runs_raw_sql(const pgorm::detail::pipeline_batch& batch) noexcept {
  for (const auto& s : batch.slots) {
    if (s->origin != sql_origin::builder) return true;
  }
  return false;
}

/// The same on a connection borrowed from a pool for the run (waiting within acquire_timeout),
/// given back once it has ended: reset first when a statement was raw SQL, closed when the
/// run's error says so.
struct initiate_pool_pipeline {
  template <class Handler>
  void operator()(Handler&& handler, std::shared_ptr<pool_state> state,
                  boost::asio::any_io_executor pool_ex, pgorm::detail::pipeline_batch batch,
                  std::chrono::milliseconds timeout, const std::source_location& where) const {
    auto slot = boost::asio::get_associated_cancellation_slot(handler);
    auto ex = boost::asio::get_associated_executor(handler, pool_ex);
    auto done = settling(std::forward<Handler>(handler), batch.slots);
    if (batch.slots.empty()) {  // nothing to send: no connection borrowed
      boost::asio::post(ex, [d = std::move(done)]() mutable { d(nullptr, result{}); });
      return;
    }
    const bool reset = runs_raw_sql(batch);
    auto run = [slot, ex, d = std::move(done), b = std::move(batch), timeout](
                   std::exception_ptr e, pgorm::async::lease l) mutable {
      if (e) {
        d(std::move(e), result{});
        return;
      }
      auto c = access::core_of(*l);
      auto release = [l = std::move(l), d = std::move(d)](std::exception_ptr e2, result r) mutable {
        if (e2 && poisons(e2)) l.poison();
        l.release();  // back to the pool (reset first after raw SQL)
        d(std::move(e2), std::move(r));
      };
      auto bound = boost::asio::bind_cancellation_slot(slot, std::move(release));
      submit_pipeline(c, std::move(b), timeout, 0,
                      std::make_unique<op_impl<decltype(bound), std::exception_ptr, result>>(
                          std::move(bound), ex));
    };
    // The caller's cancellation slot covers the wait for a connection, then the run.
    auto waiting = boost::asio::bind_cancellation_slot(slot, std::move(run));
    start_acquire(
        state, std::chrono::milliseconds{0}, reset,
        std::make_unique<op_impl<decltype(waiting), std::exception_ptr, pgorm::async::lease>>(
            std::move(waiting), ex),
        where);
  }
};

}  // namespace detail

/// The asynchronous form of pgorm::pipeline: queue statements with add() / add_each(), split
/// them into batches with sync() (the same handles, batches, implicit transactions and errors:
/// see pgorm::pipeline and docs/pipeline.md), then co_await async_run(conn, token), or
/// async_run(tx, token) in an async transaction, or async_run(pool, token) on a connection
/// borrowed for the run.
///
/// The run is one unit on the connection: it starts once the statements queued before it have
/// finished, its statements go out together (libpq pipeline mode, one sync point per batch)
/// and no other caller's statement runs among them; statements queued behind it run after. SQL
/// errors do not fail the run: they surface when a handle is read (its own error, or
/// pipeline_aborted for a statement the server skipped).
///
/// Example:
/// ```
/// pgorm::async::pipeline p;
/// auto a = p.add(pgorm::select<User>().where(pgorm::col<&User::id> == 1));
/// auto n = p.add(pgorm::query<std::int64_t>("select count(*) from session"));
/// co_await p.async_run(conn, asio::use_awaitable);
/// ```
class pipeline : public pgorm::pipeline_statements {
 public:
  pipeline() = default;

  /// Runs every queued statement on `conn` (the queue is then empty and reusable) and
  /// completes once every handle is settled: completion signature void(std::exception_ptr),
  /// the error only when the run itself failed (connection_error: the connection was closed or
  /// broke, and the handles without a result throw it too; query_canceled: see below).
  ///
  /// `timeout` bounds the whole run (zero: the connection's query_timeout; pgorm::no_timeout:
  /// none). Past it, or when the cancellation slot is emitted, the statement running on the
  /// server is cancelled (its handle throws query_canceled, the rest of its batch
  /// pipeline_aborted), and so is each statement of the later batches, already sent, as it
  /// starts: none runs on after the run. The run completes with query_canceled once every
  /// result is in; the connection stays usable, or is closed when a cancelled statement does
  /// not end within connect_options::cancel_grace (each batch gets a grace of its own).
  ///
  /// Example: `co_await p.async_run(conn, 2s, asio::use_awaitable);`
  template <class Token>
  auto async_run(connection& conn, std::chrono::milliseconds timeout, Token&& token) {
    return boost::asio::async_initiate<Token, void(std::exception_ptr)>(
        detail::initiate_pipeline{}, token, detail::access::core_of(conn), conn.get_executor(),
        take(), timeout, std::uint64_t{0}, std::exception_ptr{});
  }
  /// async_run() with the connection's default timeout.
  ///
  /// Example: `co_await p.async_run(conn, asio::use_awaitable);`
  template <class Token>
  auto async_run(connection& conn, Token&& token) {
    return async_run(conn, std::chrono::milliseconds{0}, std::forward<Token>(token));
  }

  /// async_run() in the running async transaction `tx`, on its pinned connection: the
  /// statements run inside the transaction (a sync point ends a batch, not the transaction),
  /// and are committed or rolled back with it. A failing statement aborts the transaction, as
  /// any failed statement does: the rest of its batch throws pipeline_aborted and the
  /// statements of later batches fail with SQLSTATE 25P02. `timeout` is capped by what is left
  /// of the transaction's budget (spent: the run completes with query_canceled, sending
  /// nothing).
  ///
  /// Example: `co_await p.async_run(tx, asio::use_awaitable);`
  template <class Token>
  auto async_run(pgorm::async::transaction& tx, std::chrono::milliseconds timeout, Token&& token) {
    std::exception_ptr refused;
    std::chrono::milliseconds t{0};
    try {
      t = tx.next_timeout(timeout);
    } catch (...) {
      refused = std::current_exception();
    }
    return boost::asio::async_initiate<Token, void(std::exception_ptr)>(
        detail::initiate_pipeline{}, token, detail::access::core_of(tx.conn()),
        tx.conn().get_executor(), take(), t, tx.pin(), std::move(refused));
  }
  /// async_run() in a transaction, within what is left of its budget.
  template <class Token>
  auto async_run(pgorm::async::transaction& tx, Token&& token) {
    return async_run(tx, std::chrono::milliseconds{0}, std::forward<Token>(token));
  }

  /// async_run() on a connection borrowed from the async pool `db` for the run: it waits for
  /// one asynchronously (within pool_options::acquire_timeout: pool_timeout, and the pool's
  /// other acquire errors, fail the run and every handle), runs the statements there as on a
  /// connection, and gives it back when the run has ended: reset (DISCARD ALL) first when a
  /// statement was raw SQL (pgorm::query<Row>), as after a pool terminal; closed when the run
  /// broke it. `timeout` bounds the run once it has a connection (zero: the connection's
  /// query_timeout); the cancellation slot covers the wait for a connection too. `where`
  /// (leave it defaulted) is the call site pool_options::leak_threshold reports.
  ///
  /// Example: `co_await p.async_run(db, 2s, asio::use_awaitable);`
  template <class Token>
  auto async_run(pgorm::async::pool& db, std::chrono::milliseconds timeout, Token&& token,
                 std::source_location where = std::source_location::current()) {
    return boost::asio::async_initiate<Token, void(std::exception_ptr)>(
        detail::initiate_pool_pipeline{}, token, detail::pool_access::state_of(db),
        db.get_executor(), take(), timeout, where);
  }
  /// async_run() on a pool with the connection's default timeout.
  ///
  /// Example: `co_await p.async_run(db, asio::use_awaitable);`
  template <class Token>
  auto async_run(pgorm::async::pool& db, Token&& token,
                 std::source_location where = std::source_location::current()) {
    return async_run(db, std::chrono::milliseconds{0}, std::forward<Token>(token), where);
  }
};

}  // namespace pgorm::async
