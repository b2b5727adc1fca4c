// SPDX-License-Identifier: MIT
#pragma once

/// \file
/// An explicit pipeline on an async connection (docs/async.md, "Explicit pipelines"): the
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
#include <exception>
#include <memory>
#include <utility>

#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/post.hpp>

#include "pgorm/async/connection.hpp"
#include "pgorm/export.hpp"
#include "pgorm/pipeline.hpp"

namespace pgorm::async {

namespace detail {

/// Queues the statements of `batch` on `c` as one unit behind what is queued (none of another
/// caller's statements runs between them); completes `op` once every statement's slot is
/// settled, or with the error that ended the run. In src/async/pipeline.cpp.
PGORM_API void submit_pipeline(const std::shared_ptr<core>& c, pgorm::detail::pipeline_batch batch,
                               std::chrono::milliseconds timeout, std::unique_ptr<exec_op> op);

struct initiate_pipeline {
  template <class Handler>
  void operator()(Handler&& handler, std::shared_ptr<core> c, boost::asio::any_io_executor fallback,
                  pgorm::detail::pipeline_batch batch, std::chrono::milliseconds timeout) const {
    auto slot = boost::asio::get_associated_cancellation_slot(handler);
    auto ex = boost::asio::get_associated_executor(handler, fallback);
    // Handles without a result (the run failed before they were read) get the run's error.
    auto done = [h = std::forward<Handler>(handler), slots = batch.slots](std::exception_ptr e,
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
    auto bound =
        boost::asio::bind_cancellation_slot(slot, boost::asio::bind_executor(ex, std::move(done)));
    if (batch.slots.empty()) {  // nothing to send
      boost::asio::post(ex, [b = std::move(bound)]() mutable { b(nullptr, result{}); });
      return;
    }
    submit_pipeline(c, std::move(batch), timeout,
                    std::make_unique<op_impl<decltype(bound), std::exception_ptr, result>>(
                        std::move(bound), ex));
  }
};

}  // namespace detail

/// The asynchronous form of pgorm::pipeline: queue statements with add() / add_each(), split
/// them into batches with sync() (the same handles, batches, implicit transactions and errors:
/// see pgorm::pipeline and docs/pipeline.md), then co_await async_run(conn, token).
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
  /// pipeline_aborted; later batches, already sent, still run) and the run completes with
  /// query_canceled once every result is in; the connection stays usable, or is closed when
  /// the server does not answer within connect_options::cancel_grace.
  ///
  /// Example: `co_await p.async_run(conn, 2s, asio::use_awaitable);`
  template <class Token>
  auto async_run(connection& conn, std::chrono::milliseconds timeout, Token&& token) {
    return boost::asio::async_initiate<Token, void(std::exception_ptr)>(
        detail::initiate_pipeline{}, token, detail::access::core_of(conn), conn.get_executor(),
        take(), timeout);
  }
  /// async_run() with the connection's default timeout.
  ///
  /// Example: `co_await p.async_run(conn, asio::use_awaitable);`
  template <class Token>
  auto async_run(connection& conn, Token&& token) {
    return async_run(conn, std::chrono::milliseconds{0}, std::forward<Token>(token));
  }
};

}  // namespace pgorm::async
