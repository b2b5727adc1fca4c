// SPDX-License-Identifier: MIT
// Streaming replicas of a pgorm::testing::server: a base backup with pg_basebackup -R (which
// writes standby.signal and primary_conninfo, PostgreSQL docs 27.2, "Log-Shipping Standby
// Servers"), started as a server of its own; promotion with pg_ctl promote.
#include "pgorm/testing/replica.hpp"

#include <chrono>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <libpq-fe.h>
#include <pwd.h>
#include <sys/stat.h>

#include "os.hpp"
#include "pgorm/connection.hpp"
#include "process.hpp"

namespace pgorm::testing {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

constexpr int log_tail_lines = 20;

[[noreturn]] void fail(std::string_view who, const std::string& message) {
  throw server_error(fmt::format("pgorm::testing::{}: {}", who, message));
}

// host, port and password of a libpq key=value conninfo (as server::conninfo() writes it).
struct endpoint {
  std::string host;
  std::string port;
  std::string password;
};

endpoint endpoint_of(const std::string& conninfo) {
  endpoint e;
  char* err = nullptr;
  PQconninfoOption* parsed = PQconninfoParse(conninfo.c_str(), &err);
  if (parsed == nullptr) {
    if (err != nullptr) PQfreemem(err);
    fail("start_replica", "cannot parse the primary's conninfo");
  }
  for (PQconninfoOption* o = parsed; o->keyword != nullptr; ++o) {
    if (o->val == nullptr) continue;
    if (std::strcmp(o->keyword, "host") == 0) e.host = o->val;
    if (std::strcmp(o->keyword, "port") == 0) e.port = o->val;
    if (std::strcmp(o->keyword, "password") == 0) e.password = o->val;
  }
  PQconninfoFree(parsed);
  return e;
}

// Connection options for the short checks below: every wait has a deadline.
connect_options check_options(std::chrono::milliseconds timeout) {
  connect_options o;
  o.connect_timeout = std::min<std::chrono::milliseconds>(timeout, 5s);
  o.query_timeout = std::min<std::chrono::milliseconds>(timeout, 5s);
  o.prepare = false;
  return o;
}

// The user that owns `dir`, as whom pg_ctl must run (the cluster's user).
os::identity owner_of(const fs::path& dir) {
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0) {
    fail("promote", fmt::format("cannot stat {}: {}", dir.string(), os::errno_text(errno)));
  }
  if (st.st_uid == ::geteuid()) return os::current_identity();
  const passwd* pw = ::getpwuid(st.st_uid);
  if (pw == nullptr) fail("promote", fmt::format("{} belongs to no known user", dir.string()));
  return os::resolve_identity(pw->pw_name);
}

}  // namespace

server start_replica(const server& primary, server_options options) {
  if (!primary.running()) fail("start_replica", "the primary is not running");
  if (options.bindir.empty()) options.bindir = primary.bindir();
  const auto from = endpoint_of(primary.conninfo());
  if (options.password.empty()) options.password = from.password;
  const auto who = os::resolve_identity(options.run_as);
  const auto bindir = options.bindir;
  const bool no_sync = options.unsafe_fast;
  const auto deadline = std::chrono::duration_cast<std::chrono::milliseconds>(options.timeout);

  return server(std::move(options), [&](const fs::path& data_dir) {
    auto conninfo =
        fmt::format("host={} port={} user=postgres", os::conninfo_value(from.host), from.port);
    if (!from.password.empty()) {
      // libpq reads the password from a passfile (0600, owned by the user that runs
      // pg_basebackup): it never shows on a command line. primary_conninfo keeps naming it.
      const auto passfile = data_dir.parent_path() / "pgpass";
      os::write_file_atomically(passfile, fmt::format("*:*:*:postgres:{}\n", from.password),
                                "pgorm::testing::start_replica");
      ::chmod(passfile.c_str(), 0600);
      os::give_to(who, passfile);
      conninfo += " passfile=" + os::conninfo_value(passfile.string());
    }
    std::vector<std::string> args = {(bindir / "pg_basebackup").string(),
                                     "-D",
                                     data_dir.string(),
                                     "-d",
                                     conninfo,
                                     "-R",
                                     "-X",
                                     "stream",
                                     "-c",
                                     "fast"};
    if (no_sync) args.emplace_back("--no-sync");
    const auto result = os::run(args, who, false, deadline);
    if (result.exit_code != 0) {
      fail("start_replica",
           fmt::format("pg_basebackup failed (exit code {}):\n{}", result.exit_code,
                       os::last_lines(result.output, log_tail_lines)));
    }
  });
}

void wait_for_replay(const server& primary, const server& replica,
                     std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  const auto options = check_options(timeout);
  std::string target;
  {
    connection p{primary.conninfo(), options};
    target = std::string(p.exec("select pg_current_wal_insert_lsn()::text").value(0, 0));
  }
  connection r{replica.conninfo(), options};
  for (;;) {
    const auto res = r.exec("select pg_last_wal_replay_lsn()::text, pg_last_wal_replay_lsn() >= " +
                            std::string("'") + target + "'::pg_lsn");
    if (res.is_null(0, 0)) {
      fail("wait_for_replay", "the replica is not a standby (promoted, or not a replica)");
    }
    if (res.value(0, 1) == "t") return;
    if (std::chrono::steady_clock::now() >= deadline) {
      fail("wait_for_replay",
           fmt::format("the replica replayed up to {}, not yet {} (the primary's position), "
                       "after {} ms; see {}",
                       res.value(0, 0), target, timeout.count(), replica.log_file().string()));
    }
    std::this_thread::sleep_for(5ms);
  }
}

void promote(const server& replica, std::chrono::seconds timeout) {
  const auto who = owner_of(replica.data_dir());
  const auto result = os::run({(replica.bindir() / "pg_ctl").string(), "promote", "-w", "-t",
                               std::to_string(timeout.count()), "-D", replica.data_dir().string()},
                              who, false, timeout + 5s);
  if (result.exit_code != 0) {
    fail("promote", fmt::format("pg_ctl promote failed (exit code {}):\n{}\nlast lines of {}:\n{}",
                                result.exit_code, os::last_lines(result.output, log_tail_lines),
                                replica.log_file().string(),
                                os::last_lines(os::read_file(replica.log_file()), log_tail_lines)));
  }
  // pg_ctl -w returns once the server left recovery; check it, within the same deadline.
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  connection c{replica.conninfo(), check_options(timeout)};
  while (c.exec("select pg_is_in_recovery()").value(0, 0) == "t") {
    if (std::chrono::steady_clock::now() >= deadline) {
      fail("promote", fmt::format("still in recovery {} s after pg_ctl promote", timeout.count()));
    }
    std::this_thread::sleep_for(5ms);
  }
}

}  // namespace pgorm::testing
