// SPDX-License-Identifier: MIT
// auth_service: the seed apps' authentication job as an HTTP service on Boost.Beast, over
// pgorm's async API (README.md).
//
//   auth_service [--host ADDR] [--port N] [--schema NAME] [--scrypt-n N]
//
// Database: $DATABASE_URL when it is set, else a throwaway PostgreSQL server started for the
// run (pgorm::testing::server), removed on exit. The service works in its own schema (default
// auth_service, created when missing) and applies the users_sessions example's migrations,
// compiled into the program, before it listens. `--port 0` takes a free port; the line
// "listening on http://HOST:PORT" says which. SIGINT or SIGTERM stop it.
#include <algorithm>
#include <charconv>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <fmt/format.h>
#include <pgorm/async.hpp>
#include <pgorm/migrate.hpp>
#include <pgorm/pgorm.hpp>
#include <pgorm/testing/server.hpp>

#include "../users_sessions/seed.hpp"
#include "app.hpp"
#include "auth_service_migrations.hpp"  // generated: auth_service::migrations()
#include "http.hpp"

namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;

struct options {
  std::string host = "127.0.0.1";
  std::uint16_t port = 8080;
  std::string schema = "auth_service";
  auth_service::scrypt_params scrypt{};
};

[[noreturn]] void usage_error(const std::string& why) {
  throw std::invalid_argument(
      why + "\nusage: auth_service [--host ADDR] [--port N] [--schema NAME] [--scrypt-n N]");
}

std::uint64_t number(std::string_view flag, std::string_view text, std::uint64_t max) {
  std::uint64_t n = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec != std::errc{} || end != text.data() + text.size() || n > max) {
    usage_error(fmt::format("{}: expected a number up to {}, got '{}'", flag, max, text));
  }
  return n;
}

options parse(int argc, char** argv) {
  options o;
  for (int i = 1; i < argc; ++i) {
    const std::string_view flag = argv[i];
    if (i + 1 >= argc) usage_error(fmt::format("{}: expected a value", flag));
    const std::string_view value = argv[++i];
    if (flag == "--host") {
      o.host = value;
    } else if (flag == "--port") {
      o.port = static_cast<std::uint16_t>(number(flag, value, 65535));
    } else if (flag == "--schema") {
      // A plain lower-case identifier: it is spliced into CREATE SCHEMA and search_path.
      if (value.empty() || value.size() > 63 || (value[0] >= '0' && value[0] <= '9') ||
          value.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789_") != value.npos) {
        usage_error(fmt::format("--schema: expected a lower-case identifier, got '{}'", value));
      }
      o.schema = value;
    } else if (flag == "--scrypt-n") {
      // Better Auth's N is 16384; a smaller N is for tests only (its hashes verify only with
      // that N, and are weaker).
      o.scrypt.n = number(flag, value, std::uint64_t{1} << 20);
      if (o.scrypt.n < 2 || (o.scrypt.n & (o.scrypt.n - 1)) != 0) {
        usage_error("--scrypt-n: expected a power of two from 2 to 1048576");
      }
    } else {
      usage_error(fmt::format("unknown option '{}'", flag));
    }
  }
  return o;
}

// Creates the schema when missing and applies the migrations in it (they are compiled into the
// program). Synchronous: it runs once, before the service listens.
void migrate(const std::string& conninfo, const std::string& schema) {
  pgorm::connect_options admin_options;
  admin_options.connect_timeout = 5s;
  {
    pgorm::connection admin{conninfo, admin_options};
    admin.exec(fmt::format("create schema if not exists {}", schema));
  }
  admin_options.settings = {{"search_path", schema}};
  pgorm::connection conn{conninfo, admin_options};
  for (const auto& m : pgorm::migrate::apply(conn, auth_service::migrations())) {
    fmt::print("applied migration {}\n", m.file);
  }
}

int run(const options& opts) {
  std::unique_ptr<pgorm::testing::server> throwaway;
  std::string conninfo;
  if (const char* url = std::getenv("DATABASE_URL"); url != nullptr && *url != '\0') {
    conninfo = url;
    fmt::print("using DATABASE_URL, schema {}\n", opts.schema);
  } else {
    // Before any thread starts: the server is started by forking initdb and pg_ctl.
    fmt::print("DATABASE_URL is not set: starting a throwaway PostgreSQL server\n");
    std::fflush(stdout);  // before the fork, or the child's copy of the buffer prints it again
    throwaway = std::make_unique<pgorm::testing::server>();
    conninfo = throwaway->conninfo();
  }
  migrate(conninfo, opts.schema);

  asio::io_context io;  // one thread: it serves every client and drives every statement
  // The seed's pool: max 10 connections, idle ones closed after 30 s, 5 s to connect.
  pgorm::pool_options pool_options = seed::pool_options();
  pool_options.connection.settings = {{"search_path", opts.schema}};
  pgorm::async::pool db(io, conninfo, pool_options);
  // scrypt runs on threads of its own, never on the I/O thread.
  auth_service::password_hasher hasher(opts.scrypt,
                                       std::max(1U, std::thread::hardware_concurrency()));

  asio::ip::tcp::acceptor acceptor(io, {asio::ip::make_address(opts.host), opts.port},
                                   /*reuse_address=*/true);
  auth_service::server http(acceptor, db, hasher);
  asio::co_spawn(io, http.run(), asio::detached);

  asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](boost::system::error_code, int) {
    http.stop();  // no new connections; open ones close after their current request
    db.close();   // its idle connections close, and its timer stops
  });
  const auto bound = acceptor.local_endpoint();
  fmt::print("listening on http://{}:{}\n", bound.address().to_string(), bound.port());
  std::fflush(stdout);
  io.run();
  hasher.stop();
  fmt::print("stopped\n");
  return EXIT_SUCCESS;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(parse(argc, argv));
  } catch (const std::exception& e) {
    fmt::print(stderr, "auth_service: {}\n", e.what());
    return EXIT_FAILURE;
  }
}
