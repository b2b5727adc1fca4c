// SPDX-License-Identifier: MIT
#pragma once

/// \file
/// The ending every fault scenario shares: no connection leaked. A scenario's pools connect
/// with an application_name of their own (fault_test::app()), so pg_stat_activity can count
/// their backends; at the end the pool's count (in use + idle) must equal those backends, and
/// once the pools are gone no backend may remain and the process's open file descriptors
/// (entries of /proc/self/fd) must be back at the count the test started with.
/// Header-only: tests/CMakeLists.txt builds only tests/fault/*_test.cpp.

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "pgorm/connection.hpp"
#include "pgorm/pool.hpp"
#include "support/db_test.hpp"
#include "support/test_database.hpp"

namespace pgorm::fault {

using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;

/// Entries of /proc/self/fd, not counting the descriptor that lists them.
inline int open_fds() {
  int n = 0;
  for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator("/proc/self/fd")) {
    ++n;
  }
  return n - 1;
}

/// The open descriptors with what they point to, for a failure message.
inline std::string describe_fds() {
  std::string out;
  for (const auto& entry : std::filesystem::directory_iterator("/proc/self/fd")) {
    std::error_code ec;
    const auto target = std::filesystem::read_symlink(entry.path(), ec);
    out += fmt::format("  {} -> {}\n", entry.path().filename().string(),
                       ec ? std::string("?") : target.string());
  }
  return out;
}

/// `conninfo` (URL or key=value) with application_name set.
inline std::string with_application_name(const std::string& conninfo, std::string_view name) {
  if (conninfo.starts_with("postgresql://") || conninfo.starts_with("postgres://")) {
    const char separator = conninfo.find('?') == std::string::npos ? '?' : '&';
    return fmt::format("{}{}application_name={}", conninfo, separator, name);
  }
  return fmt::format("{} application_name={}", conninfo, name);
}

/// Backends on the server of `admin` whose application_name is `app`.
inline int backends(pgorm::connection& admin, const std::string& app) {
  auto r = admin.exec("select count(*) from pg_stat_activity where application_name = $1",
                      {pgorm::param::text(app)});
  return std::stoi(std::string(r.value(0, 0)));
}

/// Polls `f` until it returns true or `limit` passes; returns its last answer. A backend exits
/// a moment after its client's PQfinish, so counts are awaited, not read once.
inline bool eventually(const std::function<bool()>& f, std::chrono::milliseconds limit = 3s) {
  const auto end = clock_type::now() + limit;
  for (;;) {
    if (f()) return true;
    if (clock_type::now() >= end) return false;
    std::this_thread::sleep_for(10ms);
  }
}

inline std::int64_t ms_since(clock_type::time_point start) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(clock_type::now() - start).count();
}

/// db_test plus the leak check: SetUp records the open descriptors; TearDown (after the test
/// body, so after its pools are destroyed) checks that every application name the test used
/// has no backend left and that the descriptors are back to that count.
class fault_test : public pgorm::test::db_test {
 protected:
  void SetUp() override {
    db_test::SetUp();
    fd_baseline_ = open_fds();
  }

  void TearDown() override {
    expect_no_leak();
    db_test::TearDown();
  }

  /// A unique application_name for a pool of this test, checked at the end. `admin_conninfo`
  /// names the server its backends live on (empty: the run's server).
  std::string app(std::string_view hint, std::string admin_conninfo = {}) {
    std::string name = pgorm::test::unique_name(hint);
    apps_.emplace_back(std::move(admin_conninfo), name);
    return name;
  }

  /// conninfo() of this test's schema with a fresh application_name from app().
  std::string pool_conninfo(std::string_view hint, std::string* app_out = nullptr) {
    std::string name = app(hint);
    if (app_out != nullptr) *app_out = name;
    return with_application_name(conninfo(), name);
  }

  /// Backends of `app_name` on the run's server (or on `admin_conninfo`'s).
  int backends_of(const std::string& app_name, const std::string& admin_conninfo = {}) {
    if (admin_conninfo.empty()) return backends(conn(), app_name);
    pgorm::connection admin{admin_conninfo};
    return backends(admin, app_name);
  }

  /// The pool's count (in use + idle) equals its backends in pg_stat_activity.
  void expect_pool_matches_backends(const pgorm::pool& db, const std::string& app_name,
                                    const std::string& admin_conninfo = {}) {
    int seen = -1;
    std::size_t expected = 0;
    const bool ok = eventually([&] {
      const auto s = db.stats();
      expected = s.in_use + s.idle;
      seen = backends_of(app_name, admin_conninfo);
      return static_cast<std::size_t>(seen) == expected;
    });
    EXPECT_TRUE(ok) << "pool holds " << expected << " connections, the server shows " << seen
                    << " backends of " << app_name;
  }

  /// The leak check itself; TearDown calls it, a test may call it earlier.
  void expect_no_leak() {
    for (const auto& [admin, name] : apps_) {
      int left = -1;
      const bool gone = eventually([&] {
        try {
          left = backends_of(name, admin);
        } catch (const pgorm::error&) {
          left = -1;  // that server is down: no backend of it can be left
          return true;
        }
        return left == 0;
      });
      EXPECT_TRUE(gone) << left << " backends of " << name << " outlived their pool";
    }
    int fds = -1;
    const bool closed = eventually([&] { return (fds = open_fds()) <= fd_baseline_; }, 2s);
    EXPECT_TRUE(closed) << "open file descriptors: " << fds << " now, " << fd_baseline_
                        << " when the test started:\n"
                        << describe_fds();
  }

  [[nodiscard]] int fd_baseline() const noexcept { return fd_baseline_; }

 private:
  int fd_baseline_ = 0;
  std::vector<std::pair<std::string, std::string>> apps_;  // admin conninfo, application_name
};

}  // namespace pgorm::fault
