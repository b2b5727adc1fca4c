// SPDX-License-Identifier: MIT
// The pgorm::async peer: point selects issued by concurrent coroutines, written the way
// docs/async.md teaches (pgorm::async::find with asio::use_awaitable), over one async
// connection (their statements are pipelined) or a pgorm::async::pool of 4 connections whose
// reads share them (read_sharing: up to 64 selects in flight on each connection). The
// io_context is run by the calling thread, so an operation is timed from the first statement
// sent to the last row decoded, as for the blocking peers.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <memory>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "bench.hpp"
#include "pgorm/async.hpp"
#include "pgorm_tables.hpp"

namespace pgorm_bench {
namespace {

namespace asio = boost::asio;

class async_peer final : public peer {
 public:
  async_peer(const std::string& conninfo, bool use_pool) {
    if (use_pool) {
      pool_.emplace(io_, conninfo, pgorm::pool_options{.max_size = 4},
                    pgorm::async::read_sharing{.per_connection = 64});
    } else {
      bool done = false;
      std::exception_ptr error;
      asio::co_spawn(
          io_,
          [&]() -> asio::awaitable<void> {
            conn_ = co_await pgorm::async::connection::async_connect(io_, conninfo, {},
                                                                     asio::use_awaitable);
          },
          [&](std::exception_ptr e) {
            error = e;
            done = true;
          });
      drive(done);
      if (error) std::rethrow_exception(error);
    }
  }
  async_peer(const async_peer&) = delete;
  async_peer& operator=(const async_peer&) = delete;
  async_peer(async_peer&&) = delete;
  async_peer& operator=(async_peer&&) = delete;
  ~async_peer() override {
    if (pool_) pool_->close();
    conn_.close();
    io_.restart();
    io_.run();  // what closing posted
  }

  std::int64_t point_select(std::int64_t id) override {
    return concurrent_selects(std::span<const std::int64_t>(&id, 1), 1);
  }

  std::int64_t concurrent_selects(std::span<const std::int64_t> ids, int concurrency) override {
    const auto workers = std::min<std::size_t>(static_cast<std::size_t>(concurrency), ids.size());
    std::size_t next = 0;
    std::int64_t sum = 0;
    std::size_t finished = 0;
    std::exception_ptr error;
    for (std::size_t w = 0; w < workers; ++w) {
      asio::co_spawn(io_, worker(ids, next, sum), [&](std::exception_ptr e) {
        if (e && !error) error = e;
        ++finished;
      });
    }
    drive_until([&] { return finished == workers; });
    if (error) std::rethrow_exception(error);
    return sum;
  }

 private:
  // One coroutine: takes the next id until none is left, one select at a time.
  asio::awaitable<void> worker(std::span<const std::int64_t> ids, std::size_t& next,
                               std::int64_t& sum) {
    while (next < ids.size()) {
      const std::int64_t id = ids[next++];
      // (Not `pool_ ? co_await ... : co_await ...`: GCC 12 destroys that temporary twice.)
      std::optional<User> u;
      if (pool_) {
        u = co_await pgorm::async::find<User>(*pool_, id, asio::use_awaitable);
      } else {
        u = co_await pgorm::async::find<User>(conn_, id, asio::use_awaitable);
      }
      if (u) sum += u->age + static_cast<std::int64_t>(u->email.size());
    }
  }

  // Runs handlers on this thread until `done` holds. On one connection, io_context::run()
  // returns once the connection is idle (what an application's own run() does); the pool's
  // timers keep the io_context busy, so there it runs one handler at a time.
  template <class Pred>
  void drive_until(Pred done) {
    if (!pool_) {
      io_.restart();
      io_.run();
    }
    while (!done()) {
      if (io_.run_one() == 0) io_.restart();
    }
  }
  void drive(const bool& done) {
    drive_until([&] { return done; });
  }

  asio::io_context io_{1};
  pgorm::async::connection conn_;
  std::optional<pgorm::async::pool> pool_;
};

}  // namespace

std::unique_ptr<peer> make_pgorm_async_peer(const std::string& conninfo) {
  return std::make_unique<async_peer>(conninfo, false);
}
std::unique_ptr<peer> make_pgorm_async_pool_peer(const std::string& conninfo) {
  return std::make_unique<async_peer>(conninfo, true);
}

}  // namespace pgorm_bench
