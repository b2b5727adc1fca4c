// SPDX-License-Identifier: MIT
#pragma once

// What the async integration tests share: running one coroutine to its end on a fresh
// io_context, a timer sleep inside a coroutine, and a fixture that opens async connections to
// its test database.

#include <chrono>
#include <exception>
#include <string>
#include <utility>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <gtest/gtest.h>

#include "pgorm/async/connection.hpp"
#include "support/db_test.hpp"

namespace pgorm::test {

/// Runs fn(io) as a coroutine on its own io_context until it and all its work are done, then
/// rethrows what it threw.
template <class F>
void run_coro(F fn) {
  boost::asio::io_context io;
  std::exception_ptr error;
  bool finished = false;
  boost::asio::co_spawn(io, fn(io), [&](std::exception_ptr e) {
    error = e;
    finished = true;
  });
  io.run();
  ASSERT_TRUE(finished) << "the io_context ran out of work before the coroutine finished";
  if (error) std::rethrow_exception(error);
}

/// Sleeps `d` on the coroutine's executor.
inline boost::asio::awaitable<void> sleep_for(std::chrono::milliseconds d) {
  boost::asio::steady_timer t(co_await boost::asio::this_coro::executor);
  t.expires_after(d);
  co_await t.async_wait(boost::asio::use_awaitable);
}

/// Connects to `conninfo` on `io` with `options` (the tests' own by default: test_options()).
inline boost::asio::awaitable<pgorm::async::connection> open_async(
    boost::asio::io_context& io, const std::string& conninfo,
    pgorm::connect_options options = test_options()) {
  co_return co_await pgorm::async::connection::async_connect(io, conninfo, std::move(options),
                                                             boost::asio::use_awaitable);
}

/// db_test for async tests: open(io) connects to the test's database asynchronously.
class async_db_test : public db_test {
 protected:
  boost::asio::awaitable<pgorm::async::connection> open(
      boost::asio::io_context& io, pgorm::connect_options options = test_options()) {
    return open_async(io, conninfo(), std::move(options));
  }
};

}  // namespace pgorm::test
