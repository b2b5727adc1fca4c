// SPDX-License-Identifier: MIT
#include "support/test_database.hpp"

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <optional>

#include <fmt/format.h>
#include <unistd.h>

#include "pgorm/error.hpp"
#include "pgorm/testing/server.hpp"

namespace pgorm::test {

namespace {

std::mutex local_server_mutex;
// At most one of the two is set: the backend PGORM_TEST_SERVER names.
std::optional<pgorm::testing::server> local_server;                      // guarded by the mutex
std::optional<pgorm::testing::container_server> local_container_server;  // guarded by the mutex

std::string env(const char* name) {
  const char* value = std::getenv(name);
  return value == nullptr ? std::string{} : std::string{value};
}

std::string read_first_line(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  return line;
}

std::string resolve_conninfo() {
  for (const char* name : {"PGORM_TEST_DATABASE_URL", "DATABASE_URL"}) {
    if (auto value = env(name); !value.empty()) return value;
  }
  if (const auto pooler = env("PGORM_TEST_POOLER_STATE"); !pooler.empty()) {
    // Written by `pgorm-test-server pgbouncer`: the server behind the PgBouncer.
    if (auto upstream = read_first_line(std::filesystem::path(pooler) / "upstream");
        !upstream.empty()) {
      return upstream;
    }
  }
  if (const auto state = env("PGORM_TEST_SERVER_STATE"); !state.empty()) {
    // Written by `pgorm-test-server start --state-dir <state>` (tools/test_server.cpp).
    std::ifstream in(std::filesystem::path(state) / "conninfo");
    std::string conninfo;
    std::getline(in, conninfo);
    if (conninfo.empty()) {
      throw pgorm::error(fmt::format(
          "pgorm tests: PGORM_TEST_SERVER_STATE={} holds no conninfo; run `pgorm-test-server "
          "start --state-dir {}` first (ctest does), or unset PGORM_TEST_SERVER_STATE to let "
          "the test start its own server",
          state, state));
    }
    return conninfo;
  }
  const auto spec = pgorm::testing::parse_server_spec(env("PGORM_TEST_SERVER"));
  const std::lock_guard lock(local_server_mutex);
  if (spec.container) {
    if (!local_container_server) {
      local_container_server.emplace(pgorm::testing::container_options{.version = spec.version});
    }
    return local_container_server->conninfo();
  }
  if (!local_server) local_server.emplace();
  return local_server->conninfo();
}

std::string resolve_pooler_conninfo() {
  const auto state = env("PGORM_TEST_POOLER_STATE");
  if (state.empty()) return {};
  // Empty when `pgorm-test-server pgbouncer` started none (PGORM_TEST_DATABASE_URL was set).
  return read_first_line(std::filesystem::path(state) / "conninfo");
}

}  // namespace

const std::string& pooler_conninfo() {
  static const std::string conninfo = resolve_pooler_conninfo();
  return conninfo;
}

bool behind_pooler() { return !pooler_conninfo().empty(); }

const std::string& server_conninfo() {
  // A function-local static: initialized once, thread-safely; a failed attempt is retried.
  static const std::string conninfo = resolve_conninfo();
  return conninfo;
}

std::string with_search_path(std::string_view conninfo, std::string_view schema) {
  if (conninfo.starts_with("postgresql://") || conninfo.starts_with("postgres://")) {
    // In a URL the parameter is percent-encoded: "-c search_path=<schema>".
    const char separator = conninfo.find('?') == std::string_view::npos ? '?' : '&';
    return fmt::format("{}{}options=-c%20search_path%3D{}", conninfo, separator, schema);
  }
  // In key=value form a later keyword overrides an earlier one (libpq conninfo_parse).
  return fmt::format("{} options='-c search_path={}'", conninfo, schema);
}

std::string unique_name(std::string_view hint) {
  static std::atomic<unsigned> counter{0};
  const auto suffix = fmt::format("_{}_{}", ::getpid(), counter.fetch_add(1) + 1);
  std::string name = "t_";
  for (const char c : hint) {
    if (c >= 'A' && c <= 'Z') {
      name += static_cast<char>(c - 'A' + 'a');
    } else if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_') {
      name += c;
    } else if (!name.ends_with('_')) {
      name += '_';
    }
  }
  constexpr std::size_t max_length = 63;
  if (name.size() + suffix.size() > max_length) name.resize(max_length - suffix.size());
  return name + suffix;
}

std::string quote_ident(std::string_view name) {
  std::string quoted = "\"";
  for (const char c : name) {
    if (c == '"') quoted += '"';
    quoted += c;
  }
  return quoted + '"';
}

void stop_local_server() noexcept {
  const std::lock_guard lock(local_server_mutex);
  local_server.reset();
  local_container_server.reset();
}

}  // namespace pgorm::test
