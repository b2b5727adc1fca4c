// SPDX-License-Identifier: MIT
#pragma once

// What the async integration tests share: running one coroutine to its end on a fresh
// io_context, and a timer sleep inside a coroutine.

#include <chrono>
#include <exception>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <gtest/gtest.h>

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

}  // namespace pgorm::test
