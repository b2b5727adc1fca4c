// SPDX-License-Identifier: MIT
// The reliability campaign (`./dev reliability`, tools/reliability.sh; docs/reliability.md,
// "Reliability figures"): a soak and fault campaign against a throwaway server, through
// pgorm's public API only (connection, pool, lease, transactions with retry_policy) and
// pgorm::testing::server. It prints one line per figure,
//
//   FIGURE <name> <value> <unit>
//   GOAL <name> met|MISSED|n/a <what was compared>
//
// and a SUMMARY line. Every time is measured with std::chrono::steady_clock. Scenarios:
//
//   overshoot     acquire(timeout) on an exhausted pool under 8 threads: how far past its
//                 timeout each timed-out acquire returns
//   deadline      exec(..., timeout) on pg_sleep: deadline to control returning, and deadline
//                 until the statement has left pg_stat_activity (polled by an admin connection)
//   lost_updates  8 threads x N serializable read-modify-write transactions with retry
//   restart       8 threads inserting through a pool across stop -m fast / -m immediate /
//                 SIGKILL of the postmaster + start: recovery, failed operations, rows lost
//   faults        1,000 injected faults (restart, pg_terminate_backend, black-holed link, RST,
//                 client deadlines, cancels) under 8 threads, then leaked server connections,
//                 file descriptors and threads
//   failover      8 threads writing through a multi-host pool (target_session_attrs=read-write)
//                 across -m immediate of the primary and promotion of its synchronous standby:
//                 promotion to first write, writes failed in flight, rows lost or duplicated
//
// The TCP proxy (tests/fault/support/tcp_proxy.hpp) runs in a child process forked before any
// thread exists, so its sockets and its thread never count as this process's fds or threads.
#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <functional>
#include <mutex>
#include <optional>
#include <random>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include <fcntl.h>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fault/support/tcp_proxy.hpp"
#include "pgorm/connection.hpp"
#include "pgorm/error.hpp"
#include "pgorm/pool.hpp"
#include "pgorm/testing/replica.hpp"
#include "pgorm/testing/server.hpp"
#include "pgorm/transaction.hpp"

namespace {

using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;
using time_point = steady::time_point;
using pgorm::param;

double ms_between(time_point from, time_point to) {
  return std::chrono::duration<double, std::milli>(to - from).count();
}

// ---- settings -------------------------------------------------------------------------------

struct config {
  bool quick = false;
  std::vector<std::string> only;
  int threads = 8;
  int overshoot_timeouts = 1000;        // timed-out acquires to collect
  int deadline_samples = 200;           // exec(..., timeout) samples
  int lost_update_transactions = 1000;  // per thread
  int faults = 1000;
  std::chrono::milliseconds restart_load{1500};  // load before the fault and after recovery
  std::chrono::milliseconds blackhole{500};      // how long a black-holed link stays dark

  [[nodiscard]] bool wants(std::string_view scenario) const {
    return only.empty() || std::find(only.begin(), only.end(), scenario) != only.end();
  }
};

// ---- output ---------------------------------------------------------------------------------

struct goal_tally {
  int met = 0;
  std::vector<std::string> missed;
};
goal_tally tally;

std::string number(double value, std::string_view unit) {
  return unit == "count" ? fmt::format("{:.0f}", value) : fmt::format("{:.1f}", value);
}

void figure(const std::string& name, double value, std::string_view unit) {
  fmt::print("FIGURE {} {} {}\n", name, number(value, unit), unit);
}

// A figure with the goal "at most `limit`" (a count goal of 0 is at_most 0).
void figure_at_most(const std::string& name, double value, std::string_view unit, double limit) {
  figure(name, value, unit);
  const bool met = value <= limit;
  fmt::print("GOAL {} {} {} <= {} {}\n", name, met ? "met" : "MISSED", number(value, unit),
             number(limit, unit), unit);
  if (met) {
    ++tally.met;
  } else {
    tally.missed.push_back(name);
  }
  std::fflush(stdout);
}

// A figure the issue sets no goal for: reported, compared with nothing.
void figure_info(const std::string& name, double value, std::string_view unit) {
  figure(name, value, unit);
  fmt::print("GOAL {} n/a reported only\n", name);
  std::fflush(stdout);
}

void note(std::string_view text) {
  fmt::print("# {}\n", text);
  std::fflush(stdout);
}

// Nearest-rank percentile of `v` (sorted here); 0 when empty.
double percentile(std::vector<double> v, double q) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  auto rank = static_cast<std::size_t>(std::ceil(q * static_cast<double>(v.size())));
  rank = std::clamp<std::size_t>(rank, 1, v.size());
  return v[rank - 1];
}

// ---- process counters -----------------------------------------------------------------------

int count_entries(const char* dir) {
  int n = 0;
  std::error_code ec;
  for (auto it = std::filesystem::directory_iterator(dir, ec);
       !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) {
    ++n;
  }
  return n;
}
int thread_count() { return count_entries("/proc/self/task"); }

// The 1, 5 and 15 minute load averages: how busy the (shared) machine was.
std::string load_average() {
  std::FILE* f = std::fopen("/proc/loadavg", "r");
  if (f == nullptr) return "unknown";
  char buf[128] = {};
  const bool ok = std::fgets(buf, sizeof buf, f) != nullptr;
  std::fclose(f);
  std::string text = ok ? buf : "unknown";
  // "0.52 0.58 0.59 1/467 12345": the first three fields.
  std::size_t end = 0;
  for (int field = 0; field < 3 && end != std::string::npos; ++field) {
    end = text.find(' ', end == 0 ? 0 : end + 1);
  }
  return end == std::string::npos ? text : text.substr(0, end);
}
int fd_count() { return count_entries("/proc/self/fd"); }

// ---- the admin connection -------------------------------------------------------------------

// A direct connection for setup, pg_stat_activity and pg_terminate_backend. It reconnects when
// a restart broke it, so callers need not care.
class admin_connection {
 public:
  explicit admin_connection(std::string conninfo) : conninfo_(std::move(conninfo)) {}

  pgorm::result exec(std::string_view sql, std::span<const param> params = {}) {
    for (int attempt = 0;; ++attempt) {
      try {
        if (!conn_ || !conn_->is_open()) {
          conn_.reset();
          conn_.emplace(conninfo_, pgorm::connect_options{.connect_timeout = 5s});
        }
        return conn_->exec(sql, params, pgorm::data_format::text, 10s);
      } catch (const pgorm::error& e) {
        if (!e.poisons_connection() || attempt >= 50) throw;
        conn_.reset();
        std::this_thread::sleep_for(100ms);
      }
    }
  }
  pgorm::result exec(std::string_view sql, std::initializer_list<param> params) {
    return exec(sql, std::span<const param>(params.begin(), params.size()));
  }
  std::int64_t scalar(std::string_view sql, std::initializer_list<param> params = {}) {
    const auto r = exec(sql, params);
    return std::stoll(std::string(r.get(0, 0).value_or("0")));
  }
  // Backends whose application_name is `name`.
  std::int64_t backends(const std::string& name) {
    return scalar("select count(*) from pg_stat_activity where application_name = $1",
                  {param::text(name)});
  }

 private:
  std::string conninfo_;
  std::optional<pgorm::connection> conn_;
};

// ---- the proxy, in a child process ----------------------------------------------------------

class proxy_process {
 public:
  explicit proxy_process(std::uint16_t target_port) {
    int down[2];
    int up[2];
    if (::pipe2(down, O_CLOEXEC) != 0 || ::pipe2(up, O_CLOEXEC) != 0) {
      throw std::runtime_error("proxy: pipe failed");
    }
    pid_ = ::fork();
    if (pid_ < 0) throw std::runtime_error("proxy: fork failed");
    if (pid_ == 0) {
      ::close(down[1]);
      ::close(up[0]);
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      ::_exit(child(target_port, down[0], up[1]));
    }
    ::close(down[0]);
    ::close(up[1]);
    to_child_ = down[1];
    from_child_ = up[0];
    std::uint16_t port = 0;
    if (::read(from_child_, &port, sizeof port) != sizeof port) {
      throw std::runtime_error("proxy: the child did not start");
    }
    port_ = port;
  }
  proxy_process(const proxy_process&) = delete;
  proxy_process& operator=(const proxy_process&) = delete;
  ~proxy_process() {
    const char quit = 'q';
    [[maybe_unused]] const auto n = ::write(to_child_, &quit, 1);
    ::close(to_child_);
    ::close(from_child_);
    int status = 0;
    ::waitpid(pid_, &status, 0);
  }

  [[nodiscard]] std::uint16_t port() const noexcept { return port_; }

  // Returns once the proxy applies the mode to new and existing links.
  void set(pgorm::fault::tcp_proxy::mode m) {
    const char command = m == pgorm::fault::tcp_proxy::mode::pass    ? 'p'
                         : m == pgorm::fault::tcp_proxy::mode::stall ? 's'
                         : m == pgorm::fault::tcp_proxy::mode::drop  ? 'd'
                                                                     : 'r';
    char ack = 0;
    if (::write(to_child_, &command, 1) != 1 || ::read(from_child_, &ack, 1) != 1) {
      throw std::runtime_error("proxy: the child is gone");
    }
  }

 private:
  static int child(std::uint16_t target_port, int in, int out) {
    try {
      pgorm::fault::tcp_proxy proxy(target_port);
      const std::uint16_t port = proxy.port();
      if (::write(out, &port, sizeof port) != sizeof port) return 1;
      for (char c = 0; ::read(in, &c, 1) == 1 && c != 'q';) {
        using mode = pgorm::fault::tcp_proxy::mode;
        proxy.set_mode(c == 'p'   ? mode::pass
                       : c == 's' ? mode::stall
                       : c == 'd' ? mode::drop
                                  : mode::reset);
        const char ack = 'k';
        if (::write(out, &ack, 1) != 1) return 1;
      }
      return 0;
    } catch (...) {
      return 1;
    }
  }

  pid_t pid_ = -1;
  int to_child_ = -1;
  int from_child_ = -1;
  std::uint16_t port_ = 0;
};

// ---- helpers ----------------------------------------------------------------------------------

std::string with_app(const std::string& conninfo, std::string_view application_name) {
  return fmt::format("{} application_name={}", conninfo, application_name);
}

// Runs `body(index)` on `n` threads and joins them.
void run_threads(int n, const std::function<void(int)>& body) {
  std::vector<std::thread> threads;
  threads.reserve(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) threads.emplace_back(body, i);
  for (auto& t : threads) t.join();
}

// Threads that run until `stop` is set; the destructor sets it and joins them, so that an
// exception (a failed restart, say) never destroys a joinable std::thread.
class worker_group {
 public:
  explicit worker_group(std::atomic<bool>& stop) : stop_(stop) {}
  worker_group(const worker_group&) = delete;
  worker_group& operator=(const worker_group&) = delete;
  ~worker_group() {
    stop_ = true;
    join();
  }
  void add(std::function<void()> body) { threads_.emplace_back(std::move(body)); }
  void join() {
    for (auto& t : threads_) {
      if (t.joinable()) t.join();
    }
  }

 private:
  std::atomic<bool>& stop_;
  std::vector<std::thread> threads_;
};

// Polls `done` every 10 ms until it holds or `limit` passes; returns whether it held.
bool settle(const std::function<bool()>& done, std::chrono::milliseconds limit) {
  const auto until = steady::now() + limit;
  while (!done()) {
    if (steady::now() >= until) return false;
    std::this_thread::sleep_for(10ms);
  }
  return true;
}

// ---- 1. acquire-timeout overshoot -----------------------------------------------------------

void scenario_overshoot(const std::string& conninfo, const config& cfg) {
  note(
      fmt::format("overshoot: pool of 4 (all open), {} threads holding a lease 20 ms each, "
                  "acquire(10|20|50 ms), until {} acquires timed out",
                  cfg.threads, cfg.overshoot_timeouts));
  pgorm::pool db{with_app(conninfo, "pgorm_rel_overshoot"),
                 {.max_size = 4, .min_idle = 4, .acquire_timeout = 5s}};
  const std::chrono::milliseconds timeouts[] = {10ms, 20ms, 50ms};
  std::mutex mu;
  std::vector<double> overshoot;
  std::atomic<int> timed_out{0};
  std::atomic<int> acquired{0};
  std::atomic<int> errors{0};
  const auto give_up = steady::now() + (cfg.quick ? 30s : 120s);
  run_threads(cfg.threads, [&](int t) {
    std::vector<double> mine;
    for (unsigned i = static_cast<unsigned>(t);
         timed_out.load() < cfg.overshoot_timeouts && steady::now() < give_up; ++i) {
      const auto timeout = timeouts[i % 3];
      const auto start = steady::now();
      try {
        pgorm::lease c = db.acquire(timeout);
        ++acquired;
        c->exec("select pg_sleep(0.02)");
      } catch (const pgorm::pool_timeout&) {
        mine.push_back(ms_between(start, steady::now()) -
                       std::chrono::duration<double, std::milli>(timeout).count());
        ++timed_out;
      } catch (const pgorm::error&) {
        ++errors;
      }
    }
    std::lock_guard lock(mu);
    overshoot.insert(overshoot.end(), mine.begin(), mine.end());
  });
  figure_info("acquire_timeouts", static_cast<double>(overshoot.size()), "count");
  figure_info("acquire_successes", acquired.load(), "count");
  figure_at_most("acquire_errors", errors.load(), "count", 0);
  figure_info("acquire_overshoot_min", overshoot.empty() ? 0 : percentile(overshoot, 0), "ms");
  figure_info("acquire_overshoot_p50", percentile(overshoot, 0.50), "ms");
  figure_info("acquire_overshoot_p99", percentile(overshoot, 0.99), "ms");
  figure_at_most("acquire_overshoot_max", percentile(overshoot, 1.0), "ms", 50);
}

// ---- 1b. lease handoff ------------------------------------------------------------------------

// A released lease goes straight to the caller waiting for it: the time from release() to that
// caller's acquire() returning, and whether the same connection came (not a new one).
void scenario_handoff(const std::string& conninfo, const config& cfg) {
  const int rounds = cfg.quick ? 50 : 500;
  note(
      fmt::format("handoff: pool of 1, a waiter blocked in acquire(5 s), the holder releases; "
                  "{} rounds",
                  rounds));
  pgorm::pool db{with_app(conninfo, "pgorm_rel_handoff"),
                 {.max_size = 1, .min_idle = 1, .acquire_timeout = 5s}};
  std::vector<double> handoff;
  int errors = 0;
  for (int i = 0; i < rounds; ++i) {
    pgorm::lease held = db.acquire();
    std::atomic<std::int64_t> released_ns{0};
    std::atomic<std::int64_t> got_ns{0};
    std::thread waiter([&] {
      try {
        pgorm::lease l = db.acquire(5s);
        got_ns = steady::now().time_since_epoch().count();
      } catch (const pgorm::error&) {
        got_ns = -1;
      }
    });
    if (!settle([&] { return db.stats().waiting == 1; }, 5s)) ++errors;
    released_ns = steady::now().time_since_epoch().count();
    held.release();
    waiter.join();
    if (got_ns.load() < 0) {
      ++errors;
      continue;
    }
    handoff.push_back(static_cast<double>(got_ns.load() - released_ns.load()) / 1e6);
  }
  figure_info("handoff_samples", static_cast<double>(handoff.size()), "count");
  figure_info("handoff_p50", percentile(handoff, 0.50), "ms");
  figure_info("handoff_p99", percentile(handoff, 0.99), "ms");
  figure_at_most("handoff_max", percentile(handoff, 1.0), "ms", 50);
  figure_at_most("handoff_errors", errors, "count", 0);
  figure_at_most("handoff_connections_opened", static_cast<double>(db.stats().total_opened),
                 "count", 1);
}

// ---- 2. client deadline ---------------------------------------------------------------------

// exec(..., timeout) of a statement with a parameter on a fresh connection (so it is prepared
// first) while the proxy black-holes the link (no FIN, no RST; the cancel request is
// black-holed too): `before` the statement is sent, or 50 ms into it, when it runs on the
// server. Figures: deadline to control returning.
void deadline_on_a_black_hole(const std::string& proxied, proxy_process& proxy,
                              admin_connection& admin, std::chrono::milliseconds deadline,
                              int samples, bool before) {
  using mode = pgorm::fault::tcp_proxy::mode;
  const std::string app = "pgorm_rel_deadline_bh";
  const std::string name = before ? "deadline_blackhole_before" : "deadline_blackhole_running";
  std::vector<double> to_return;
  int closed = 0;
  for (int i = 0; i < samples; ++i) {
    proxy.set(mode::pass);
    pgorm::connection conn{with_app(proxied, app), {.connect_timeout = 5s}};
    conn.exec("select 1");
    // set() returns once the proxy applied the mode, which takes up to one turn of its poll
    // loop (20 ms): before the clock starts, not inside the measured call.
    if (before) proxy.set(mode::stall);
    const auto start = steady::now();
    const auto due = start + deadline;
    std::atomic<bool> never{false};
    {
      worker_group cutter(never);
      if (!before) {
        cutter.add([&] {
          std::this_thread::sleep_until(start + 50ms);
          proxy.set(mode::stall);
        });
      }
      try {
        const param p[] = {param::text("3")};
        conn.exec("select pg_sleep($1::float8)", p, pgorm::data_format::text, deadline);
      } catch (const pgorm::error&) {
      }
      to_return.push_back(ms_between(due, steady::now()));
    }
    if (!conn.is_open()) ++closed;
    proxy.set(mode::reset);
  }
  proxy.set(mode::pass);
  // The backends sleep on (the cancel never reached them) and end with their statement.
  settle([&] { return admin.backends(app) == 0; }, 5s);
  figure_info(name + "_samples", static_cast<double>(to_return.size()), "count");
  figure_info(name + "_return_p50", percentile(to_return, 0.5), "ms");
  figure_at_most(name + "_return_max", percentile(to_return, 1.0), "ms", 100);
  figure_info(name + "_connection_closed", closed, "count");
}

void scenario_deadline(const std::string& conninfo, const std::string& proxied,
                       proxy_process& proxy, admin_connection& admin, const config& cfg) {
  constexpr auto deadline = 200ms;
  note(
      fmt::format("deadline: {} x exec(select pg_sleep(3), timeout {} ms) on one connection, "
                  "half with a parameter (prepared), half without; pg_stat_activity polled "
                  "by an admin connection",
                  cfg.deadline_samples, deadline.count()));
  const std::string app = "pgorm_rel_deadline";
  std::optional<pgorm::connection> conn;
  std::vector<double> to_return;
  std::vector<double> to_left;
  int not_canceled = 0;
  int closed_after = 0;
  int still_active = 0;
  for (int i = 0; i < cfg.deadline_samples; ++i) {
    if (!conn || !conn->is_open()) {
      conn.reset();
      conn.emplace(with_app(conninfo, app), pgorm::connect_options{.connect_timeout = 5s});
    }
    const int pid = conn->backend_pid();
    const auto start = steady::now();
    const auto due = start + deadline;
    try {
      if (i % 2 == 0) {
        const param p[] = {param::text("3")};
        conn->exec("select pg_sleep($1::float8)", p, pgorm::data_format::text, deadline);
      } else {
        conn->exec("select pg_sleep(3)", {}, pgorm::data_format::text, deadline);
      }
      ++not_canceled;
    } catch (const pgorm::query_canceled&) {
    } catch (const pgorm::error&) {
      ++not_canceled;
    }
    to_return.push_back(ms_between(due, steady::now()));
    const std::string pid_text = std::to_string(pid);
    const bool left = settle(
        [&] {
          return admin.scalar(
                     "select count(*) from pg_stat_activity where pid = $1::int and "
                     "state = 'active' and query like '%pg_sleep%'",
                     {param::text(pid_text)}) == 0;
        },
        10s);
    if (!left) ++still_active;
    to_left.push_back(ms_between(due, steady::now()));
    if (!conn->is_open()) {
      ++closed_after;
      continue;
    }
    try {
      conn->exec("select 1", {}, pgorm::data_format::text, 5s);
    } catch (const pgorm::error&) {
      ++closed_after;
      conn.reset();
    }
  }
  figure_info("deadline_samples", static_cast<double>(to_return.size()), "count");
  figure_info("deadline_return_p50", percentile(to_return, 0.5), "ms");
  figure_at_most("deadline_return_max", percentile(to_return, 1.0), "ms", 100);
  figure_info("deadline_left_activity_p50", percentile(to_left, 0.5), "ms");
  figure_info("deadline_left_activity_max", percentile(to_left, 1.0), "ms");
  figure_at_most("deadline_still_active_after_10s", still_active, "count", 0);
  figure_at_most("deadline_not_query_canceled", not_canceled, "count", 0);
  figure_info("deadline_connection_closed", closed_after, "count");

  const int dark = std::max(5, cfg.deadline_samples / 10);
  note(
      fmt::format("deadline_blackhole_running: {} x exec(select pg_sleep($1), timeout {} ms) on "
                  "a fresh connection through the TCP proxy, the link black-holed 50 ms into "
                  "the statement",
                  dark, deadline.count()));
  deadline_on_a_black_hole(proxied, proxy, admin, deadline, dark, false);
  note(
      fmt::format("deadline_blackhole_before: {} x the same, the link black-holed before the "
                  "statement is prepared and sent",
                  dark));
  deadline_on_a_black_hole(proxied, proxy, admin, deadline, dark, true);
}

// ---- 3. lost updates under serializable retry -----------------------------------------------

void scenario_lost_updates(const std::string& conninfo, admin_connection& admin,
                           const config& cfg) {
  constexpr int counters = 8;
  note(
      fmt::format("lost_updates: {} threads x {} serializable transactions (read a counter, "
                  "write it + 1) on {} counters, retry_policy max_attempts 1000",
                  cfg.threads, cfg.lost_update_transactions, counters));
  admin.exec("drop table if exists rel_counters");
  admin.exec("create table rel_counters (id int primary key, n bigint not null)");
  admin.exec(
      fmt::format("insert into rel_counters select g, 0 from generate_series(1, {}) g", counters));
  pgorm::pool db{with_app(conninfo, "pgorm_rel_updates"),
                 {.max_size = static_cast<std::size_t>(cfg.threads), .acquire_timeout = 30s}};
  std::atomic<std::int64_t> committed{0};
  std::atomic<std::int64_t> attempts{0};
  std::atomic<std::int64_t> unknown{0};
  std::atomic<std::int64_t> failed{0};
  const pgorm::transaction_options options{
      .isolation = pgorm::isolation_level::serializable,
      .retry = {.max_attempts = 1000, .base_delay = 1ms, .max_delay = 20ms}};
  const auto start = steady::now();
  run_threads(cfg.threads, [&](int t) {
    std::mt19937 rng(static_cast<unsigned>(t) * 7919U + 1U);
    std::uniform_int_distribution<int> pick(1, counters);
    for (int i = 0; i < cfg.lost_update_transactions; ++i) {
      const std::string id = std::to_string(pick(rng));
      try {
        db.transaction(
            [&](pgorm::transaction& tx) {
              ++attempts;
              const auto r =
                  tx.exec("select n from rel_counters where id = $1::int", {param::text(id)});
              const std::string next = std::to_string(std::stoll(std::string(r.value(0, 0))) + 1);
              tx.exec("update rel_counters set n = $1::bigint where id = $2::int",
                      {param::text(next), param::text(id)});
            },
            options);
        ++committed;
      } catch (const pgorm::commit_outcome_unknown&) {
        ++unknown;
      } catch (const pgorm::error&) {
        ++failed;
      }
    }
  });
  const double seconds = ms_between(start, steady::now()) / 1000;
  const std::int64_t sum = admin.scalar("select coalesce(sum(n), 0) from rel_counters");
  const std::int64_t lost = std::max<std::int64_t>(0, committed.load() - sum);
  const std::int64_t extra = std::max<std::int64_t>(0, sum - committed.load() - unknown.load());
  figure_info("serializable_committed", static_cast<double>(committed.load()), "count");
  figure_info(
      "serializable_retries",
      static_cast<double>(attempts.load() - committed.load() - failed.load() - unknown.load()),
      "count");
  figure_info("serializable_tx_per_s", static_cast<double>(committed.load()) / seconds, "tx/s");
  figure_at_most("serializable_failed", static_cast<double>(failed.load()), "count", 0);
  figure_at_most("serializable_outcome_unknown", static_cast<double>(unknown.load()), "count", 0);
  figure_at_most("lost_updates", static_cast<double>(lost), "count", 0);
  figure_at_most("phantom_updates", static_cast<double>(extra), "count", 0);
}

// ---- 4. recovery after a restart or a crash -------------------------------------------------

enum class outcome : std::uint8_t { acked, not_sent, unknown };

struct insert_record {
  std::int64_t id;
  outcome result;
  time_point start;
  time_point end;
};

enum class fault_kind { fast, immediate, kill9 };

void scenario_restart(pgorm::testing::server& pg, const std::string& conninfo,
                      admin_connection& admin, const config& cfg, fault_kind kind) {
  const std::string tag = kind == fault_kind::fast        ? "fast"
                          : kind == fault_kind::immediate ? "immediate"
                                                          : "kill9";
  const std::string what = kind == fault_kind::fast        ? "pg_ctl stop -m fast; start"
                           : kind == fault_kind::immediate ? "pg_ctl stop -m immediate; start"
                                                           : "kill -9 of the postmaster; start";
  note(fmt::format(
      "restart_{}: {} threads inserting through a pool of {} (pool::exec); {} ms of "
      "load, then {}, then load until {} ms after the first success",
      tag, cfg.threads, cfg.threads, cfg.restart_load.count(), what, cfg.restart_load.count()));
  admin.exec("drop table if exists rel_rows");
  // No unique constraint, so that a row written twice shows up as two rows.
  admin.exec("create table rel_rows (id bigint not null, worker int not null)");

  std::vector<std::vector<insert_record>> records(static_cast<std::size_t>(cfg.threads));
  std::atomic<bool> stop{false};
  std::atomic<std::int64_t> first_success_after_down{0};  // steady ticks; 0: none yet
  time_point t_down{};
  {
    pgorm::pool db{with_app(conninfo, "pgorm_rel_restart_" + tag),
                   {.max_size = static_cast<std::size_t>(cfg.threads), .acquire_timeout = 5s}};
    std::atomic<bool> down{false};
    worker_group workers(stop);
    for (int w = 0; w < cfg.threads; ++w) {
      workers.add([&, w] {
        auto& mine = records[static_cast<std::size_t>(w)];
        const std::string worker = std::to_string(w);
        for (std::int64_t seq = 1; !stop.load(); ++seq) {
          const std::int64_t id = static_cast<std::int64_t>(w) * 1'000'000'000 + seq;
          const std::string id_text = std::to_string(id);
          const bool began_down = down.load();
          insert_record rec{id, outcome::acked, steady::now(), {}};
          try {
            db.exec("insert into rel_rows (id, worker) values ($1::bigint, $2::int)",
                    {param::text(id_text), param::text(worker)});
          } catch (const pgorm::pool_timeout&) {
            rec.result = outcome::not_sent;
          } catch (const pgorm::pool_connect_error&) {
            rec.result = outcome::not_sent;  // no connection for it: the statement never left
          } catch (const pgorm::error&) {
            rec.result = outcome::unknown;
          }
          rec.end = steady::now();
          if (rec.result == outcome::acked && began_down) {
            std::int64_t expected = 0;
            first_success_after_down.compare_exchange_strong(expected,
                                                             rec.end.time_since_epoch().count());
          }
          mine.push_back(rec);
          if (rec.result != outcome::acked) std::this_thread::sleep_for(10ms);
        }
      });
    }
    std::this_thread::sleep_for(cfg.restart_load);

    const time_point t_fault = steady::now();
    if (kind == fault_kind::kill9) {
      pg.crash();
    } else {
      pg.stop(kind == fault_kind::fast ? pgorm::testing::shutdown_mode::fast
                                       : pgorm::testing::shutdown_mode::immediate);
    }
    t_down = steady::now();
    down = true;

    // The probe: a fresh connection every millisecond; the first that works marks "accepting".
    time_point t_accept{};
    const time_point t_start = steady::now();
    std::atomic<bool> probe_stop{false};
    {
      worker_group probe(probe_stop);
      probe.add([&] {
        while (!probe_stop.load()) {
          const auto attempt = steady::now();
          try {
            pgorm::connection c{conninfo, {.connect_timeout = 2s}};
            t_accept = attempt;
            return;
          } catch (const pgorm::error&) {
            std::this_thread::sleep_for(1ms);
          }
        }
      });
      pg.start();  // when it throws, the group stops and joins the probe
      probe.join();
    }
    const time_point t_started = steady::now();

    settle([&] { return first_success_after_down.load() != 0; }, 20s);
    std::this_thread::sleep_for(cfg.restart_load);
    stop = true;
    workers.join();

    const std::int64_t first = first_success_after_down.load();
    const time_point t_first = first == 0 ? time_point{} : time_point(steady::duration(first));
    figure_info("restart_" + tag + "_stop", ms_between(t_fault, t_down), "ms");
    figure_info("restart_" + tag + "_start", ms_between(t_start, t_started), "ms");
    figure_info("restart_" + tag + "_outage", ms_between(t_fault, t_accept), "ms");
    figure_at_most("restart_" + tag + "_recovery",
                   first == 0 ? 1e9 : std::max(0.0, ms_between(t_accept, t_first)), "ms", 1000);

    // Failures: in flight (began before the server was down), during the outage (began while
    // it was down and ended within the recovery goal of it accepting), and the rest.
    int in_flight = 0;
    int outage = 0;
    int late = 0;
    for (const auto& mine : records) {
      for (const auto& r : mine) {
        if (r.result == outcome::acked) continue;
        if (r.start < t_down) {
          ++in_flight;
        } else if (r.start < t_accept && r.end <= t_accept + 1s) {
          ++outage;
        } else {
          ++late;
        }
      }
    }
    figure_info("restart_" + tag + "_failed_in_flight", in_flight, "count");
    figure_info("restart_" + tag + "_failed_during_outage", outage, "count");
    figure_at_most("restart_" + tag + "_failed_after_recovery", late, "count", 0);
  }

  // Rows: every acknowledged insert is there once; an unknown one at most once; one never
  // sent not at all.
  const auto rows = admin.exec("select id, count(*) from rel_rows group by id");
  std::unordered_map<std::int64_t, std::int64_t> present;
  for (int i = 0; i < rows.rows(); ++i) {
    present.emplace(std::stoll(std::string(rows.value(i, 0))),
                    std::stoll(std::string(rows.value(i, 1))));
  }
  std::int64_t acked = 0;
  std::int64_t lost = 0;
  std::int64_t duplicated = 0;
  std::int64_t unexpected = 0;
  std::int64_t unknown_present = 0;
  std::int64_t unknown_total = 0;
  std::unordered_set<std::int64_t> attempted;
  for (const auto& mine : records) {
    for (const auto& r : mine) {
      attempted.insert(r.id);
      const auto it = present.find(r.id);
      const std::int64_t copies = it == present.end() ? 0 : it->second;
      duplicated += std::max<std::int64_t>(0, copies - 1);
      switch (r.result) {
        case outcome::acked:
          ++acked;
          if (copies == 0) ++lost;
          break;
        case outcome::not_sent:
          if (copies > 0) ++unexpected;
          break;
        case outcome::unknown:
          ++unknown_total;
          if (copies > 0) ++unknown_present;
          break;
      }
    }
  }
  for (const auto& [id, copies] : present) {
    if (!attempted.contains(id)) unexpected += copies;
  }
  figure_info("restart_" + tag + "_rows_acked", static_cast<double>(acked), "count");
  figure_info("restart_" + tag + "_rows_outcome_unknown", static_cast<double>(unknown_total),
              "count");
  figure_info("restart_" + tag + "_rows_unknown_present", static_cast<double>(unknown_present),
              "count");
  figure_at_most("restart_" + tag + "_rows_lost", static_cast<double>(lost), "count", 0);
  figure_at_most("restart_" + tag + "_rows_duplicated", static_cast<double>(duplicated), "count",
                 0);
  figure_at_most("restart_" + tag + "_rows_unexpected", static_cast<double>(unexpected), "count",
                 0);
}

// ---- 5. leaks after injected faults ---------------------------------------------------------

void scenario_faults(pgorm::testing::server& pg, proxy_process& proxy,
                     const std::string& proxied_conninfo, admin_connection& admin,
                     const config& cfg) {
  using mode = pgorm::fault::tcp_proxy::mode;
  const std::string app = "pgorm_rel_faults";
  note(
      fmt::format("faults: {} faults (every 50th a restart, alternately -m fast and -m "
                  "immediate; the rest in turn: pg_terminate_backend, black-holed link for {} "
                  "ms (then healed, or reset every other time), RST, a 50 ms client deadline, "
                  "a cancel) 10 ms apart, under {} threads running 300 ms-deadline statements "
                  "(with_connection, and every third in a transaction) through a pool of 6 behind "
                  "a TCP proxy",
                  cfg.faults, cfg.blackhole.count(), cfg.threads));
  proxy.set(mode::pass);
  const int threads_before = thread_count();
  const int fds_before = fd_count();

  std::atomic<std::int64_t> ops{0};
  std::atomic<std::int64_t> op_errors{0};
  std::mutex longest_mu;
  double longest_op = 0;
  int peak_threads = threads_before;
  int counts[6] = {};
  int injector_errors = 0;
  std::int64_t untracked = 0;
  {
    pgorm::pool db{with_app(proxied_conninfo, app),
                   {.max_size = 6, .acquire_timeout = 1s, .lazy = true}};
    std::atomic<bool> stop{false};
    worker_group workers(stop);
    for (int w = 0; w < cfg.threads; ++w) {
      workers.add([&, w] {
        const std::string value = std::to_string(w);
        double longest = 0;
        for (unsigned i = 0; !stop.load(); ++i) {
          const auto start = steady::now();
          try {
            if (i % 3 == 2) {
              db.transaction([&](pgorm::transaction& tx) {
                const param p[] = {param::text(value)};
                tx.exec("select $1::int * 2", p, pgorm::data_format::text, 300ms);
              });
            } else {
              db.with_connection([&](pgorm::connection& c) {
                if (i % 3 == 0) {
                  c.exec("select pg_sleep(0.005)", {}, pgorm::data_format::text, 300ms);
                } else {
                  const param p[] = {param::text(value)};
                  c.exec("select $1::int + 1", p, pgorm::data_format::text, 300ms);
                }
              });
            }
          } catch (const pgorm::error&) {
            ++op_errors;
            std::this_thread::sleep_for(5ms);
          }
          longest = std::max(longest, ms_between(start, steady::now()));
          ++ops;
        }
        std::lock_guard lock(longest_mu);
        longest_op = std::max(longest_op, longest);
      });
    }

    for (int i = 0, others = 0; i < cfg.faults; ++i) {
      const int kind = i % 50 == 25 ? 0 : 1 + others++ % 5;
      ++counts[kind];
      try {
        switch (kind) {
          case 0:
            pg.restart(counts[0] % 2 == 1 ? pgorm::testing::shutdown_mode::fast
                                          : pgorm::testing::shutdown_mode::immediate);
            break;
          case 1:
            admin.exec(
                "select pg_terminate_backend(pid) from pg_stat_activity where application_name "
                "= $1 order by random() limit 1",
                {param::text(app)});
            break;
          case 2:  // dark for longer than the statements' deadline; then healed or reset
            proxy.set(mode::stall);
            std::this_thread::sleep_for(cfg.blackhole);
            if (counts[2] % 2 == 0) proxy.set(mode::reset);
            proxy.set(mode::pass);
            break;
          case 3:
            proxy.set(mode::reset);
            proxy.set(mode::pass);
            break;
          case 4:
            db.with_connection([](pgorm::connection& c) {
              c.exec("select pg_sleep(1)", {}, pgorm::data_format::text, 50ms);
            });
            break;
          case 5:
            db.with_connection([](pgorm::connection& c) {
              std::thread canceller([&c] {
                std::this_thread::sleep_for(20ms);
                c.cancel();
              });
              try {
                c.exec("select pg_sleep(1)", {}, pgorm::data_format::text, 2s);
              } catch (...) {
                canceller.join();
                throw;
              }
              canceller.join();
            });
            break;
          default:
            break;
        }
      } catch (const pgorm::error&) {
        ++injector_errors;  // expected for deadlines and cancels; anything may fail here
      }
      peak_threads = std::max(peak_threads, thread_count());
      std::this_thread::sleep_for(10ms);
    }
    proxy.set(mode::pass);
    std::this_thread::sleep_for(500ms);
    stop = true;
    workers.join();

    // With the pool alive and quiet: the server's backends of the pool are the pool's own.
    auto pool_held = [&] {
      const auto s = db.stats();
      return static_cast<std::int64_t>(s.in_use + s.idle);
    };
    settle([&] { return admin.backends(app) == pool_held(); }, 5s);
    untracked = admin.backends(app) - pool_held();
  }
  // The pool is gone: nothing of it may remain, on the server or in this process.
  settle(
      [&] {
        return admin.backends(app) == 0 && fd_count() <= fds_before &&
               thread_count() <= threads_before;
      },
      5s);
  const std::int64_t server_left = admin.backends(app);
  const int fds_left = fd_count() - fds_before;
  const int threads_left = thread_count() - threads_before;

  figure_info("faults_injected", cfg.faults, "count");
  figure_info("faults_restarts", counts[0], "count");
  figure_info("faults_terminations", counts[1], "count");
  figure_info("faults_blackholes", counts[2], "count");
  figure_info("faults_resets", counts[3], "count");
  figure_info("faults_deadlines", counts[4], "count");
  figure_info("faults_cancels", counts[5], "count");
  figure_info("faults_worker_operations", static_cast<double>(ops.load()), "count");
  figure_info("faults_worker_errors", static_cast<double>(op_errors.load()), "count");
  figure_info("faults_worker_op_max", longest_op, "ms");
  figure_info("faults_threads_before", threads_before, "count");
  figure_info("faults_threads_peak", peak_threads, "count");
  figure_at_most("faults_untracked_backends", static_cast<double>(untracked), "count", 0);
  figure_at_most("faults_leaked_server_connections", static_cast<double>(server_left), "count", 0);
  figure_at_most("faults_leaked_fds", fds_left, "count", 0);
  figure_at_most("faults_leaked_threads", threads_left, "count", 0);
}

// ---- 6. failover to a promoted standby ------------------------------------------------------

// One failover: a primary and a synchronous standby, `threads` writers through one pool whose
// conninfo lists both with target_session_attrs=read-write; -m immediate of the primary, then
// pg_ctl promote of the standby. `in_transaction`: each write is BEGIN; INSERT; COMMIT (pool::
// transaction), else one INSERT with parameters (pool::exec).
struct failover_result {
  double promote_ms = 0;      // pg_ctl promote until it returned
  double first_write_ms = 0;  // pg_ctl promote began until the first acknowledged write
  std::int64_t acked = 0, not_sent = 0, in_flight = 0, lost = 0, duplicated = 0, unexpected = 0;
};

std::string host_list(const pgorm::testing::server& a, const pgorm::testing::server& b) {
  const auto field = [](const std::string& info, std::string_view key) {
    const auto at = info.find(std::string(key) + "=");
    if (at == std::string::npos) return std::string();
    const auto begin = at + key.size() + 1;
    const auto end = info.find(' ', begin);
    return info.substr(begin, end == std::string::npos ? std::string::npos : end - begin);
  };
  const std::string x = a.conninfo();
  const std::string y = b.conninfo();
  return fmt::format(
      "host={},{} port={},{} user=postgres dbname=postgres target_session_attrs=read-write "
      "application_name=pgorm_rel_failover",
      field(x, "host"), field(y, "host"), field(x, "port"), field(y, "port"));
}

failover_result failover_once(const config& cfg, bool in_transaction) {
  // synchronous_commit on and the standby synchronous: a commit is acknowledged once the
  // standby has flushed it, so it survives the primary's -m immediate.
  pgorm::testing::server primary{{.settings = {{"synchronous_commit", "on"}}}};
  auto standby = pgorm::testing::start_replica(primary);
  {
    admin_connection p(primary.conninfo());
    p.exec("alter system set synchronous_standby_names = '*'");
    p.exec("select pg_reload_conf()");
    p.exec("create table fo_rows (id bigint not null, worker int not null)");
    if (!settle(
            [&] {
              return p.scalar(
                         "select count(*) from pg_stat_replication where sync_state = "
                         "'sync'") == 1;
            },
            30s)) {
      throw std::runtime_error("failover: the standby never became synchronous");
    }
  }
  std::vector<std::vector<insert_record>> records(static_cast<std::size_t>(cfg.threads));
  std::atomic<bool> stop{false};
  std::atomic<bool> promoting{false};
  std::atomic<std::int64_t> first_after{0};  // steady ticks; 0: none yet
  failover_result out;
  time_point promote_began{};
  {
    pgorm::pool_options options;
    options.max_size = static_cast<std::size_t>(cfg.threads);
    options.acquire_timeout = 5s;
    options.connection.connect_timeout = 2s;
    options.connection.query_timeout = 10s;
    pgorm::pool db{host_list(primary, standby), options};
    worker_group workers(stop);
    for (int w = 0; w < cfg.threads; ++w) {
      workers.add([&, w] {
        auto& mine = records[static_cast<std::size_t>(w)];
        const std::string worker = std::to_string(w);
        for (std::int64_t seq = 1; !stop.load(); ++seq) {
          const std::int64_t id = static_cast<std::int64_t>(w) * 1'000'000'000 + seq;
          const std::string id_text = std::to_string(id);
          const bool after = promoting.load();
          insert_record rec{id, outcome::acked, steady::now(), {}};
          try {
            constexpr std::string_view sql =
                "insert into fo_rows (id, worker) values ($1::bigint, $2::int)";
            if (in_transaction) {
              db.transaction([&](pgorm::transaction& tx) {
                tx.exec(sql, {param::text(id_text), param::text(worker)});
              });
            } else {
              db.exec(sql, {param::text(id_text), param::text(worker)});
            }
          } catch (const pgorm::pool_timeout&) {
            rec.result = outcome::not_sent;
          } catch (const pgorm::pool_connect_error&) {
            rec.result = outcome::not_sent;
          } catch (const pgorm::error&) {
            rec.result = outcome::unknown;
          }
          rec.end = steady::now();
          if (rec.result == outcome::acked && after) {
            std::int64_t none = 0;
            first_after.compare_exchange_strong(none, rec.end.time_since_epoch().count());
          }
          mine.push_back(rec);
          if (rec.result != outcome::acked) std::this_thread::sleep_for(10ms);
        }
      });
    }
    std::this_thread::sleep_for(cfg.restart_load);
    primary.stop(pgorm::testing::shutdown_mode::immediate);
    promote_began = steady::now();
    promoting = true;
    pgorm::testing::promote(standby, 60s);
    out.promote_ms = ms_between(promote_began, steady::now());
    settle([&] { return first_after.load() != 0; }, 30s);
    std::this_thread::sleep_for(cfg.restart_load);
    stop = true;
    workers.join();
  }
  const std::int64_t first = first_after.load();
  out.first_write_ms =
      first == 0 ? 1e9 : ms_between(promote_began, time_point(steady::duration(first)));

  admin_connection now_primary(standby.conninfo());
  const auto rows = now_primary.exec("select id, count(*) from fo_rows group by id");
  std::unordered_map<std::int64_t, std::int64_t> present;
  for (int i = 0; i < rows.rows(); ++i) {
    present.emplace(std::stoll(std::string(rows.value(i, 0))),
                    std::stoll(std::string(rows.value(i, 1))));
  }
  for (const auto& mine : records) {
    for (const auto& r : mine) {
      const auto it = present.find(r.id);
      const std::int64_t copies = it == present.end() ? 0 : it->second;
      out.duplicated += std::max<std::int64_t>(0, copies - 1);
      switch (r.result) {
        case outcome::acked:
          ++out.acked;
          if (copies == 0) ++out.lost;
          break;
        case outcome::not_sent:
          ++out.not_sent;
          if (copies > 0) ++out.unexpected;
          break;
        case outcome::unknown:
          ++out.in_flight;
          break;
      }
    }
  }
  return out;
}

void scenario_failover(const config& cfg) {
  note(fmt::format(
      "failover: a primary and a synchronous standby (synchronous_commit on); {} threads "
      "writing through a pool of {} on host=primary,standby target_session_attrs=read-write; "
      "{} ms of load, pg_ctl stop -m immediate of the primary, pg_ctl promote of the standby, "
      "load until {} ms after the first write on the new primary",
      cfg.threads, cfg.threads, cfg.restart_load.count(), cfg.restart_load.count()));
  note("failover: each write a transaction (BEGIN; INSERT; COMMIT through pool::transaction)");
  const auto tx = failover_once(cfg, true);
  figure_info("failover_promote", tx.promote_ms, "ms");
  figure_at_most("failover_first_write", tx.first_write_ms, "ms", 2000);
  figure_info("failover_rows_acked", static_cast<double>(tx.acked), "count");
  figure_info("failover_failed_in_flight", static_cast<double>(tx.in_flight), "count");
  figure_info("failover_refused_not_sent", static_cast<double>(tx.not_sent), "count");
  figure_at_most("failover_rows_lost", static_cast<double>(tx.lost), "count", 0);
  figure_at_most("failover_rows_duplicated", static_cast<double>(tx.duplicated), "count", 0);
  figure_at_most("failover_rows_unexpected", static_cast<double>(tx.unexpected), "count", 0);

  note("failover_exec: each write one INSERT with parameters (pool::exec, extended protocol)");
  const auto ex = failover_once(cfg, false);
  figure_info("failover_exec_first_write", ex.first_write_ms, "ms");
  figure_info("failover_exec_rows_acked", static_cast<double>(ex.acked), "count");
  figure_info("failover_exec_failed_in_flight", static_cast<double>(ex.in_flight), "count");
  figure_at_most("failover_exec_rows_lost", static_cast<double>(ex.lost), "count", 0);
  figure_at_most("failover_exec_rows_duplicated", static_cast<double>(ex.duplicated), "count", 0);
}

// ---- main -------------------------------------------------------------------------------------

void usage() {
  fmt::print(
      "usage: pgorm_reliability [--quick] [--only "
      "overshoot,handoff,deadline,lost_updates,restart,faults,failover]\n"
      "  --quick   a smoke run (~1 min): fewer samples, transactions and faults\n"
      "  --only    run the named scenarios only (comma-separated)\n");
}

int run(int argc, char** argv) {
  config cfg;
  for (int i = 1; i < argc; ++i) {
    const std::string_view a = argv[i];
    if (a == "--quick") {
      cfg.quick = true;
    } else if (a == "--only" && i + 1 < argc) {
      std::string_view list = argv[++i];
      while (!list.empty()) {
        const auto comma = list.find(',');
        cfg.only.emplace_back(list.substr(0, comma));
        list = comma == std::string_view::npos ? std::string_view{} : list.substr(comma + 1);
      }
    } else if (a == "--help" || a == "-h") {
      usage();
      return 0;
    } else {
      usage();
      return 2;
    }
  }
  if (cfg.quick) {
    cfg.overshoot_timeouts = 200;
    cfg.deadline_samples = 20;
    cfg.lost_update_transactions = 100;
    cfg.faults = 100;
    cfg.restart_load = 500ms;
  }

  // synchronous_commit on: an acknowledged commit must survive -m immediate and kill -9 (the
  // unsafe_fast default turns it off). fsync stays off: the kernel keeps what a killed server
  // wrote, and only an OS crash would lose it.
  pgorm::testing::server pg{
      {.tcp = true, .settings = {{"max_connections", "100"}, {"synchronous_commit", "on"}}}};
  proxy_process proxy(pg.port());  // forked while this process has one thread
  const std::string conninfo = pg.conninfo();
  const std::string proxied =
      fmt::format("host=127.0.0.1 port={} user=postgres dbname=postgres", proxy.port());
  admin_connection admin(with_app(conninfo, "pgorm_rel_admin"));
  const auto version = admin.exec("show server_version");
  note(fmt::format("PostgreSQL {}, {} CPUs, {} run, load average {}", version.value(0, 0),
                   std::thread::hardware_concurrency(), cfg.quick ? "quick" : "full",
                   load_average()));

  const auto start = steady::now();
  if (cfg.wants("overshoot")) scenario_overshoot(conninfo, cfg);
  if (cfg.wants("handoff")) scenario_handoff(conninfo, cfg);
  if (cfg.wants("deadline")) scenario_deadline(conninfo, proxied, proxy, admin, cfg);
  if (cfg.wants("lost_updates")) scenario_lost_updates(conninfo, admin, cfg);
  if (cfg.wants("restart")) {
    for (const auto kind : {fault_kind::fast, fault_kind::immediate, fault_kind::kill9}) {
      scenario_restart(pg, conninfo, admin, cfg, kind);
    }
  }
  if (cfg.wants("faults")) scenario_faults(pg, proxy, proxied, admin, cfg);
  if (cfg.wants("failover")) scenario_failover(cfg);

  note(fmt::format("load average at the end {}", load_average()));
  fmt::print("SUMMARY {} of {} goals met in {:.0f} s{}{}\n", tally.met,
             tally.met + static_cast<int>(tally.missed.size()),
             ms_between(start, steady::now()) / 1000,
             tally.missed.empty() ? "" : "; missed: ", fmt::join(tally.missed, ", "));
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const std::exception& e) {
    std::fflush(stdout);
    std::fprintf(stderr, "pgorm_reliability: %s\n", e.what());
    return 1;
  }
}
