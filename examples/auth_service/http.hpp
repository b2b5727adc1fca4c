// SPDX-License-Identifier: MIT
#pragma once

// The HTTP side of the service, on Boost.Beast: one coroutine per client connection (HTTP/1.1,
// keep-alive), JSON bodies, the routes of README.md. Every route awaits app.hpp's operations:
// the one I/O thread serves all connections while their statements are out.

#include <set>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <pgorm/async.hpp>

#include "app.hpp"

namespace auth_service {

class server {
 public:
  server(asio::ip::tcp::acceptor& acceptor, pgorm::async::pool& db, password_hasher& hasher)
      : acceptor_(acceptor), db_(db), hasher_(hasher) {}

  // Accepts connections and serves each in a coroutine of its own until stop().
  asio::awaitable<void> run();
  // Stops accepting and closes the open connections (a request under way completes first);
  // io_context::run() then returns once the pool is closed too.
  void stop();

 private:
  asio::awaitable<void> serve(asio::ip::tcp::socket socket);

  asio::ip::tcp::acceptor& acceptor_;
  pgorm::async::pool& db_;
  password_hasher& hasher_;
  std::set<boost::beast::tcp_stream*> open_;
  bool stopping_ = false;
};

}  // namespace auth_service
