// SPDX-License-Identifier: MIT
// pgorm_bench: pgorm against hand-written libpq (and libpqxx / SOCI when built), in one
// process, against one throwaway server, interleaved over several rounds; prints the median
// rate of each client and `RATIO <workload> pgorm/<peer> <x.xx>` lines. See
// docs/performance.md; run through `./dev bench`.
//
//   pgorm_bench [--quick] [--rounds N] [--seconds S] [--cpu N] [--no-unpinned] [--only a,b]
//               [--conninfo STR]      use a running server instead of a throwaway one
//   pgorm_bench --callgrind [--quick] [--only a,b]  client instructions per operation, under
//   valgrind pgorm_bench --show-sql            the SQL pgorm renders for the workloads
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <sched.h>
#include <sys/types.h>
#include <unistd.h>

#if __has_include(<valgrind/callgrind.h>)
#include <valgrind/callgrind.h>
#define PGORM_BENCH_CALLGRIND 1
#else
#define PGORM_BENCH_CALLGRIND 0
#endif

#include "bench.hpp"
#include "include_bench.hpp"
#include "pgorm/connection.hpp"
#include "pgorm/testing/server.hpp"

namespace pgorm_bench {

std::vector<std::string> pgorm_sql_texts();  // peer_pgorm.cpp

namespace {

namespace fs = std::filesystem;
using clock_type = std::chrono::steady_clock;

// ---- options ----------------------------------------------------------------------------------

struct options {
  bool quick = false;
  bool callgrind = false;
  bool unpinned = true;
  bool show_sql = false;
  int rounds = 7;
  double seconds = 0.6;  // per contender per round, for the short workloads
  int cpu = -1;          // -1: the last CPU this process may use
  std::string conninfo;  // empty: start a throwaway server
  std::vector<std::string> only;
  // Callgrind child mode.
  bool callgrind_child = false;
  std::string child_workload;
  std::string child_peer;
  int child_ops = 0;
  // Sizes.
  std::int64_t users = 100'000;
  std::int64_t sessions = 200'000;
  int pgbench_scale = 10;
  int pipeline_batch = 256;
};

[[noreturn]] void usage_error(const std::string& msg) {
  fmt::print(stderr, "pgorm_bench: {}\n", msg);
  std::exit(2);
}

options parse_args(int argc, char** argv) {
  options o;
  for (int i = 1; i < argc; ++i) {
    const std::string_view a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) usage_error(fmt::format("{} needs a value", a));
      return argv[++i];
    };
    if (a == "--quick") {
      o.quick = true;
    } else if (a == "--callgrind") {
      o.callgrind = true;
    } else if (a == "--no-unpinned") {
      o.unpinned = false;
    } else if (a == "--show-sql") {
      o.show_sql = true;
    } else if (a == "--rounds") {
      o.rounds = std::stoi(next());
    } else if (a == "--seconds") {
      o.seconds = std::stod(next());
    } else if (a == "--cpu") {
      o.cpu = std::stoi(next());
    } else if (a == "--conninfo") {
      o.conninfo = next();
    } else if (a == "--only") {
      std::stringstream ss(next());
      for (std::string w; std::getline(ss, w, ',');) o.only.push_back(w);
    } else if (a == "--callgrind-child") {
      o.callgrind_child = true;
    } else if (a == "--workload") {
      o.child_workload = next();
    } else if (a == "--peer") {
      o.child_peer = next();
    } else if (a == "--ops") {
      o.child_ops = std::stoi(next());
    } else if (a == "--users") {
      o.users = std::stoll(next());
    } else if (a == "--pgbench-scale") {
      o.pgbench_scale = std::stoi(next());
    } else {
      usage_error(fmt::format("unknown argument '{}'", a));
    }
  }
  if (o.quick) {
    o.users = std::min<std::int64_t>(o.users, 2000);
    o.rounds = 1;
    o.seconds = std::min(o.seconds, 0.05);
    o.pgbench_scale = 1;
    o.unpinned = false;
  }
  o.sessions = 2 * o.users;
  return o;
}

// ---- CPU pinning --------------------------------------------------------------------------------

/// Every thread of process `pid` (all of /proc/<pid>/task).
std::vector<pid_t> threads_of(pid_t pid) {
  std::vector<pid_t> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(fmt::format("/proc/{}/task", pid), ec)) {
    out.push_back(static_cast<pid_t>(std::stol(e.path().filename().string())));
  }
  return out;
}

/// The postmaster and its children (checkpointer, walwriter, autovacuum, backends...).
std::vector<pid_t> server_processes(pid_t postmaster) {
  std::vector<pid_t> out{postmaster};
  std::error_code ec;
  for (const auto& e : fs::directory_iterator("/proc", ec)) {
    const std::string name = e.path().filename().string();
    if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream stat(e.path() / "stat");
    std::string line;
    if (!std::getline(stat, line)) continue;
    // pid (comm) state ppid ...: comm may hold spaces, so parse after the last ')'.
    const auto close = line.rfind(')');
    if (close == std::string::npos) continue;
    std::istringstream rest(line.substr(close + 2));
    char state = 0;
    long ppid = 0;
    rest >> state >> ppid;
    if (ppid == postmaster) out.push_back(static_cast<pid_t>(std::stol(name)));
  }
  return out;
}

void set_affinity(pid_t tid, const cpu_set_t& set) {
  // Failure on a thread that just exited is harmless.
  (void)sched_setaffinity(tid, sizeof set, &set);
}

/// Pins (cpu >= 0) or unpins (cpu < 0: every CPU in `all`) this process and the server.
/// Backends forked later inherit the postmaster's mask, so connections are opened afterwards.
void apply_pinning(int cpu, const cpu_set_t& all, pid_t postmaster) {
  cpu_set_t set;
  if (cpu >= 0) {
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
  } else {
    set = all;
  }
  for (const pid_t t : threads_of(getpid())) set_affinity(t, set);
  if (postmaster > 0) {
    for (const pid_t p : server_processes(postmaster)) {
      for (const pid_t t : threads_of(p)) set_affinity(t, set);
    }
  }
}

// ---- measurement --------------------------------------------------------------------------------

/// One client in one workload. run(budget) does as many operations as fit in `budget`
/// seconds and returns the rate (units per second).
struct contender {
  std::string name;
  std::function<double(double)> run;
};

struct measured {
  std::string name;
  std::vector<double> rates;
  double median = 0;
};

double median_of(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

std::atomic<std::int64_t> sink{0};  // every op's return value, so nothing is optimized away

/// A contender that repeats `op` (timed), each time after `before` (untimed, may be empty).
/// `op` returns the units it did (1 for a statement, the rows of a scan), or a checksum
/// when `units_per_op` is set.
contender loop(std::string name, std::function<std::int64_t()> op,
               std::function<void()> before = {}, std::int64_t units_per_op = 0) {
  return {std::move(name),
          [op = std::move(op), before = std::move(before), units_per_op](double budget) {
            const auto limit = std::chrono::duration<double>(budget);
            clock_type::duration spent{};
            std::int64_t units = 0;
            std::int64_t ops = 0;
            while (spent < limit || ops == 0) {
              if (before) before();
              const auto t0 = clock_type::now();
              const std::int64_t r = op();
              spent += clock_type::now() - t0;
              units += units_per_op > 0 ? units_per_op : r;
              sink.fetch_add(r, std::memory_order_relaxed);
              ++ops;
            }
            return static_cast<double>(units) / std::chrono::duration<double>(spent).count();
          }};
}

/// Runs every contender `rounds` times, interleaved (the starting contender rotates each
/// round, so slow drift of the machine spreads over all of them). The first round is preceded
/// by a short untimed warm-up of each contender.
std::vector<measured> measure(std::vector<contender>& cs, int rounds, double budget) {
  std::vector<measured> out;
  for (const auto& c : cs) out.push_back({c.name, {}, 0});
  for (auto& c : cs) (void)c.run(budget / 10);
  for (int r = 0; r < rounds; ++r) {
    for (std::size_t k = 0; k < cs.size(); ++k) {
      const std::size_t i = (k + static_cast<std::size_t>(r)) % cs.size();
      out[i].rates.push_back(cs[i].run(budget));
    }
  }
  for (auto& m : out) m.median = median_of(m.rates);
  return out;
}

// ---- reporting ----------------------------------------------------------------------------------

struct ratio_line {
  std::string workload;
  std::string peer;
  double value;
};

struct report {
  std::vector<ratio_line> ratios;
  std::vector<std::string> table;  // markdown rows for docs/performance.md
};

std::string fmt_rate(double r) {
  if (r >= 1e6) return fmt::format("{:.2f}M", r / 1e6);
  if (r >= 1e4) return fmt::format("{:.1f}k", r / 1e3);
  return fmt::format("{:.0f}", r);
}

/// Prints the medians and the RATIO lines of one workload. `base` is the contender the
/// others are divided by ("pgorm"): RATIO <workload> pgorm/<other>.
void print_workload(report& rep, const std::string& workload, std::string_view unit,
                    const std::vector<measured>& ms) {
  fmt::print("\n{} ({}, median of {} rounds)\n", workload, unit,
             ms.empty() ? 0 : ms.front().rates.size());
  const measured* pg = nullptr;
  for (const auto& m : ms) {
    if (m.name == "pgorm") pg = &m;
    std::string rounds;
    for (const double r : m.rates) rounds += fmt::format(" {}", fmt_rate(r));
    fmt::print("  {:<16} {:>12.1f} {}   [{} ]\n", m.name, m.median, unit, rounds);
    fmt::print("ABS {} {} {:.1f} {}\n", workload, m.name, m.median, unit);
  }
  if (pg == nullptr) return;
  std::string row = fmt::format("| {} | {} {} |", workload, fmt_rate(pg->median), unit);
  for (const auto& m : ms) {
    if (&m == pg || m.median <= 0) continue;
    const double ratio = pg->median / m.median;
    // Also the median of the per-round ratios: rounds are interleaved, so this pairs runs
    // made close in time and shows how much of a ratio is the machine's drift.
    std::vector<double> paired;
    for (std::size_t r = 0; r < m.rates.size() && r < pg->rates.size(); ++r) {
      paired.push_back(pg->rates[r] / m.rates[r]);
    }
    fmt::print("  pgorm/{}: ratio of medians {:.2f}, median of per-round ratios {:.2f}\n", m.name,
               ratio, median_of(paired));
    fmt::print("RATIO {} pgorm/{} {:.2f}\n", workload, m.name, ratio);
    rep.ratios.push_back({workload, m.name, ratio});
    row += fmt::format(" {}: {} ({:.2f}×) |", m.name, fmt_rate(m.median), ratio);
  }
  rep.table.push_back(row);
  std::fflush(stdout);
}

// ---- the database
// --------------------------------------------------------------------------------

void create_schema(const std::string& conninfo, const options& o) {
  pgorm::connection c{conninfo};
  c.exec(R"(
    DROP TABLE IF EXISTS sessions, users, users_bulk;
    CREATE TABLE users (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      email text NOT NULL UNIQUE,
      name text,
      age integer NOT NULL,
      is_email_verified boolean NOT NULL DEFAULT false,
      created_at timestamptz NOT NULL DEFAULT now());
    CREATE TABLE sessions (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      user_id bigint NOT NULL REFERENCES users (id),
      token text NOT NULL UNIQUE,
      expires_at timestamptz NOT NULL,
      ip_address text);
    CREATE TABLE users_bulk (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      email text NOT NULL,
      name text,
      age integer NOT NULL,
      is_email_verified boolean NOT NULL DEFAULT false,
      created_at timestamptz NOT NULL DEFAULT now()))");
  c.exec(fmt::format(R"(
    INSERT INTO users (email, name, age, is_email_verified, created_at)
    SELECT 'user' || i || '@example.com',
           CASE WHEN i % 10 = 0 THEN NULL ELSE 'User number ' || i END,
           18 + i % 60, i % 3 = 0,
           timestamptz '2024-01-01 00:00:00+00' + i * interval '1 minute'
      FROM generate_series(1, {0}) AS i;
    INSERT INTO sessions (user_id, token, expires_at, ip_address)
    SELECT 1 + i % {0}, md5(i::text),
           CASE WHEN i % 10 = 0 THEN now() - interval '1 day' ELSE now() + interval '30 days' END,
           CASE WHEN i % 4 = 0 THEN NULL ELSE '10.' || i % 256 || '.' || i / 256 % 256 || '.1' END
      FROM generate_series(1, {1}) AS i)",
                     o.users, o.sessions));
  c.exec("VACUUM ANALYZE users, sessions, users_bulk");
}

std::vector<std::string> live_tokens(const std::string& conninfo) {
  pgorm::connection c{conninfo};
  auto r = c.exec("SELECT token FROM sessions WHERE expires_at > now() ORDER BY id");
  std::vector<std::string> out;
  out.reserve(static_cast<std::size_t>(r.rows()));
  for (int i = 0; i < r.rows(); ++i) out.emplace_back(r.value(i, 0));
  return out;
}

std::vector<User> bulk_rows(std::int64_t n) {
  std::vector<User> rows;
  rows.reserve(static_cast<std::size_t>(n));
  const timestamptz t0{std::chrono::microseconds{1'704'067'200'000'000}};  // 2024-01-01
  for (std::int64_t i = 1; i <= n; ++i) {
    User u;
    u.email = fmt::format("bulk{}@example.com", i);
    if (i % 10 != 0) u.name = fmt::format("Bulk user {}", i);
    u.age = static_cast<std::int32_t>(18 + i % 60);
    u.is_email_verified = i % 3 == 0;
    u.created_at = t0 + std::chrono::minutes(i);
    rows.push_back(std::move(u));
  }
  return rows;
}

std::string shell_quote(std::string_view s) {
  std::string out = "'";
  for (const char ch : s) {
    if (ch == '\'') {
      out += "'\\''";
    } else {
      out += ch;
    }
  }
  return out + "'";
}

/// Runs a shell command, returns its stdout; throws when it fails.
std::string run_command(const std::string& cmd) {
  std::string out;
  FILE* p = popen((cmd + " 2>&1").c_str(), "r");
  if (p == nullptr) throw std::runtime_error("popen failed: " + cmd);
  char buf[4096];
  std::size_t n = 0;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  const int status = pclose(p);
  if (status != 0) throw std::runtime_error(fmt::format("'{}' failed:\n{}", cmd, out));
  return out;
}

std::string pgbench_path(const fs::path& bindir) {
  if (!bindir.empty() && fs::exists(bindir / "pgbench")) return (bindir / "pgbench").string();
  return "pgbench";
}

// ---- peers
// ----------------------------------------------------------------------------------------

struct peer_kind {
  std::string name;
  peer_factory make;
};

std::vector<peer_kind> library_peers() {
  std::vector<peer_kind> out{{"pgorm", &make_pgorm_peer}, {"libpq", &make_libpq_peer}};
#ifdef PGORM_BENCH_HAVE_PQXX
  out.push_back({"libpqxx", &make_pqxx_peer});
#endif
#ifdef PGORM_BENCH_HAVE_SOCI
  out.push_back({"soci", &make_soci_peer});
#endif
  return out;
}

peer_factory find_factory(const std::string& name) {
  if (name == "pgorm_copy_in") return &make_pgorm_copy_in_peer;
  if (name == "pgorm_serial") return &make_pgorm_serial_peer;
  if (name == "libpq_serial") return &make_libpq_serial_peer;
  if (name == "libpq_pipeline") return &make_libpq_pipeline_peer;
  if (name == "pgorm_async") return &make_pgorm_async_peer;
  if (name == "pgorm_async_pool") return &make_pgorm_async_pool_peer;
  for (const auto& k : library_peers()) {
    if (k.name == name) return k.make;
  }
  throw std::runtime_error("no peer named " + name);
}

/// True when `p` implements the workload `probe` exercises (probe throws unsupported if not).
bool supports(peer& p, const std::function<void(peer&)>& probe) {
  try {
    probe(p);
    return true;
  } catch (const unsupported&) {
    return false;
  }
}

// ---- the workloads
// --------------------------------------------------------------------------------

struct context {
  const options& opt;
  std::string conninfo;
  fs::path bindir;
  std::vector<std::string> tokens;
  std::vector<User> bulk;
  std::string phase;  // "" when pinned, "_unpinned" otherwise
  report& rep;
  int rounds;
  double seconds;
};

bool wanted(const options& o, std::string_view workload) {
  if (o.only.empty()) return true;
  return std::any_of(o.only.begin(), o.only.end(),
                     [&](const std::string& w) { return workload.starts_with(w); });
}

/// The peers that implement a workload, connected, in order.
std::vector<std::pair<std::string, std::unique_ptr<peer>>> connect_peers(
    const context& ctx, const std::vector<std::string>& extra,
    const std::function<void(peer&)>& probe) {
  std::vector<std::pair<std::string, std::unique_ptr<peer>>> out;
  std::vector<std::string> names;
  for (const auto& k : library_peers()) names.push_back(k.name);
  names.insert(names.begin() + 1, extra.begin(), extra.end());
  for (const auto& n : names) {
    auto p = find_factory(n)(ctx.conninfo);
    if (supports(*p, probe)) out.emplace_back(n, std::move(p));
  }
  return out;
}

void run_point_select(context& ctx) {
  if (!wanted(ctx.opt, "point_select")) return;
  const std::int64_t users = ctx.opt.users;
  auto peers = connect_peers(ctx, {}, [](peer& p) { (void)p.point_select(1); });
  std::vector<contender> cs;
  for (auto& [name, p] : peers) {
    auto rng = std::make_shared<std::mt19937_64>(42);
    cs.push_back(loop(name, [p = p.get(), rng, users] {
      std::uniform_int_distribution<std::int64_t> d(1, users);
      (void)p->point_select(d(*rng));
      return std::int64_t{1};
    }));
  }
  print_workload(ctx.rep, "point_select" + ctx.phase, "ops/s",
                 measure(cs, ctx.rounds, ctx.seconds));
}

void run_session_lookup(context& ctx) {
  if (!wanted(ctx.opt, "session_lookup")) return;
  const auto* tokens = &ctx.tokens;
  auto peers = connect_peers(ctx, {}, [&](peer& p) { (void)p.session_lookup(tokens->front()); });
  std::vector<contender> cs;
  for (auto& [name, p] : peers) {
    auto rng = std::make_shared<std::mt19937_64>(43);
    cs.push_back(loop(name, [p = p.get(), rng, tokens] {
      std::uniform_int_distribution<std::size_t> d(0, tokens->size() - 1);
      if (p->session_lookup((*tokens)[d(*rng)]) == 0) throw std::runtime_error("no session");
      return std::int64_t{1};
    }));
  }
  print_workload(ctx.rep, "session_lookup" + ctx.phase, "ops/s",
                 measure(cs, ctx.rounds, ctx.seconds));
}

std::atomic<std::int64_t> insert_counter{0};

User next_insert_row() {
  const std::int64_t n = insert_counter.fetch_add(1, std::memory_order_relaxed);
  User u;
  u.email = fmt::format("insert{}@example.com", n);
  u.name = "Inserted user";
  u.age = 30;
  u.created_at = timestamptz{std::chrono::microseconds{1'704'067'200'000'000 + n}};
  return u;
}

void run_insert_returning(context& ctx) {
  if (!wanted(ctx.opt, "insert_returning")) return;
  auto peers = connect_peers(ctx, {}, [](peer& p) { (void)p.insert_returning(next_insert_row()); });
  std::vector<contender> cs;
  for (auto& [name, p] : peers) {
    cs.push_back(loop(name, [p = p.get()] {
      (void)p->insert_returning(next_insert_row());
      return std::int64_t{1};
    }));
  }
  print_workload(ctx.rep, "insert_returning" + ctx.phase, "ops/s",
                 measure(cs, ctx.rounds, ctx.seconds));
}

void run_pipelined(context& ctx) {
  if (!wanted(ctx.opt, "pipelined")) return;
  const std::int64_t users = ctx.opt.users;
  const auto batch = static_cast<std::size_t>(ctx.opt.pipeline_batch);
  auto peers = connect_peers(ctx, {"pgorm_serial", "libpq_serial"}, [](peer& p) {
    const std::int64_t one[1] = {1};
    (void)p.pipelined(one);
  });
  std::vector<contender> cs;
  for (auto& [name, p] : peers) {
    auto rng = std::make_shared<std::mt19937_64>(44);
    auto ids = std::make_shared<std::vector<std::int64_t>>(batch);
    cs.push_back(loop(
        name, [p = p.get(), ids] { return p->pipelined(*ids); },
        [rng, ids, users] {
          std::uniform_int_distribution<std::int64_t> d(1, users);
          for (auto& id : *ids) id = d(*rng);
        },
        static_cast<std::int64_t>(batch)));
  }
  const std::vector<measured> ms = measure(cs, ctx.rounds, ctx.seconds);
  print_workload(ctx.rep, "pipelined" + ctx.phase, "selects/s", ms);
  // What pipelining itself gains here, without pgorm: the ceiling for pgorm/pgorm_serial.
  double pipe = 0;
  double serial = 0;
  for (const auto& m : ms) {
    if (m.name == "libpq") pipe = m.median;
    if (m.name == "libpq_serial") serial = m.median;
  }
  if (pipe > 0 && serial > 0) {
    fmt::print("  libpq/libpq_serial: {:.2f} (libpq's own pipeline over libpq one at a time)\n",
               pipe / serial);
    fmt::print("GAIN pipelined{} libpq/libpq_serial {:.2f}\n", ctx.phase, pipe / serial);
  }
}

/// The async workloads: who runs them, under which name in the RATIO lines. The async client
/// is "pgorm" (the subject: ratios are its rate over the others'); pgorm's blocking API is
/// "pgorm_sync".
struct async_contender {
  std::string factory;
  std::string shown;
};

std::vector<async_contender> async_contenders(bool pool) {
  return {{pool ? "pgorm_async_pool" : "pgorm_async", "pgorm"},
          {"pgorm", "pgorm_sync"},
          {"libpq", "libpq"},
          {"libpq_pipeline", "libpq_pipeline"}};
}

/// The selects of one timed operation of an async workload (at least one batch of
/// `concurrency`, so that every client gets whole batches).
std::size_t async_chunk(int concurrency) {
  return std::max<std::size_t>(256, static_cast<std::size_t>(concurrency));
}

/// Point selects by `concurrency` concurrent coroutines over one async connection (or a pool
/// of 4), against pgorm and hand-written libpq one select at a time, and hand-written libpq's
/// pipeline mode with batches of `concurrency` (one sync per batch). Rate counts selects.
void run_async_selects(context& ctx, int concurrency, bool pool) {
  const std::string workload =
      fmt::format("{}_c{}", pool ? "async_pool_select" : "async_select", concurrency);
  if (!wanted(ctx.opt, workload)) return;
  const std::int64_t users = ctx.opt.users;
  const std::size_t chunk = async_chunk(concurrency);
  std::vector<std::unique_ptr<peer>> keep;
  std::vector<contender> cs;
  for (const auto& a : async_contenders(pool)) {
    keep.push_back(find_factory(a.factory)(ctx.conninfo));
    peer* p = keep.back().get();
    auto rng = std::make_shared<std::mt19937_64>(45);
    auto ids = std::make_shared<std::vector<std::int64_t>>(chunk);
    cs.push_back(loop(
        a.shown, [p, ids, concurrency] { return p->concurrent_selects(*ids, concurrency); },
        [rng, ids, users] {
          std::uniform_int_distribution<std::int64_t> d(1, users);
          for (auto& id : *ids) id = d(*rng);
        },
        static_cast<std::int64_t>(chunk)));
  }
  print_workload(ctx.rep, workload + ctx.phase, "selects/s", measure(cs, ctx.rounds, ctx.seconds));
}

void run_scan(context& ctx) {
  if (!wanted(ctx.opt, "scan")) return;
  auto peers = connect_peers(ctx, {}, [](peer& p) { (void)p.scan(); });
  std::vector<contender> cs;
  for (auto& [name, p] : peers) {
    cs.push_back(loop(name, [p = p.get()] { return p->scan(); }));
  }
  print_workload(ctx.rep, "scan" + ctx.phase, "rows/s", measure(cs, ctx.rounds, ctx.seconds * 1.5));
}

/// Every user with its sessions (bench/include_bench.hpp); rows/s counts users and sessions.
/// The contenders of both schemas (include_schemas()) run interleaved in the same rounds; each
/// schema is then printed as a workload of its own.
void run_include(context& ctx) {
  if (!wanted(ctx.opt, "include")) return;
  const std::vector<include_schema> schemas = include_schemas();
  std::vector<contender> cs;
  std::vector<std::size_t> sizes;
  std::vector<std::vector<include_contender>> per_schema;
  for (const auto& schema : schemas) {
    per_schema.push_back(make_include_contenders(ctx.conninfo, schema));
    for (const auto& c : per_schema.back()) cs.push_back(loop(c.name, c.op));
    sizes.push_back(per_schema.back().size());
  }
  const std::vector<measured> all = measure(cs, ctx.rounds, ctx.seconds * 1.5);
  auto next = all.begin();
  for (std::size_t i = 0; i != schemas.size(); ++i) {
    const std::vector<measured> one(next, next + static_cast<std::ptrdiff_t>(sizes[i]));
    next += static_cast<std::ptrdiff_t>(sizes[i]);
    print_workload(ctx.rep, schemas[i].workload + ctx.phase, "rows/s", one);
  }
  // The CPU time of a load, client and backend: the ratio a quiet pinned machine approaches.
  if (!ctx.phase.empty()) return;
  const int loads = ctx.opt.quick ? 3 : 25;
  for (std::size_t i = 0; i != schemas.size(); ++i) {
    const std::vector<include_cpu> cpu = measure_include_cpu(per_schema[i], loads);
    if (cpu.empty()) {
      fmt::print("\n{}: CPU per load not measured (no local /proc/<pid>/schedstat)\n",
                 schemas[i].workload);
      continue;
    }
    fmt::print("\n{} (CPU per load, client + backend, median of {} loads)\n", schemas[i].workload,
               loads);
    for (const include_cpu& c : cpu) {
      fmt::print("  {:<16} {:>7.2f} ms   [client {:.2f} ms, backend {:.2f} ms]\n", c.name,
                 c.client_ms + c.backend_ms, c.client_ms, c.backend_ms);
    }
    const double pgorm = cpu.front().client_ms + cpu.front().backend_ms;  // pgorm comes first
    for (const include_cpu& c : cpu) {
      if (c.name == "pgorm") continue;
      fmt::print("RATIO {}_cpu pgorm/{} {:.2f}\n", schemas[i].workload, c.name,
                 (c.client_ms + c.backend_ms) / pgorm);
    }
  }
}

void run_bulk_insert(context& ctx) {
  if (!wanted(ctx.opt, "bulk_insert")) return;
  auto truncate = std::make_shared<pgorm::connection>(ctx.conninfo);
  const std::span<const User> rows(ctx.bulk);
  auto peers = connect_peers(ctx, {"pgorm_copy_in"}, [&](peer& p) {
    p.prepare_bulk(rows.first(1));
    (void)p.bulk_insert();
  });
  std::vector<contender> cs;
  for (auto& [name, p] : peers) {
    p->prepare_bulk(rows);
    cs.push_back(loop(
        name, [p = p.get()] { return p->bulk_insert(); },
        [truncate] { truncate->exec("TRUNCATE users_bulk RESTART IDENTITY"); }));
  }
  // At least 2 inserts per round: a 100,000-row COPY takes ~0.3 s here.
  print_workload(ctx.rep, "bulk_insert" + ctx.phase, "rows/s",
                 measure(cs, ctx.rounds, ctx.seconds * 1.5));
  truncate->exec("TRUNCATE users_bulk RESTART IDENTITY");
}

tpcb_args random_tpcb(std::mt19937_64& rng, int scale) {
  // pgbench's tpcb-like script: aid in [1, 100000*scale], bid in [1, scale],
  // tid in [1, 10*scale], delta in [-5000, 5000].
  tpcb_args a;
  a.aid = std::uniform_int_distribution<std::int32_t>(1, 100000 * scale)(rng);
  a.bid = std::uniform_int_distribution<std::int32_t>(1, scale)(rng);
  a.tid = std::uniform_int_distribution<std::int32_t>(1, 10 * scale)(rng);
  a.delta = std::uniform_int_distribution<std::int32_t>(-5000, 5000)(rng);
  return a;
}

/// `clients` connections of one library, each in its own thread, for `budget` seconds.
contender tpcb_clients(const std::string& name, peer_factory make, const std::string& conninfo,
                       int clients, int scale) {
  auto peers = std::make_shared<std::vector<std::unique_ptr<peer>>>();
  for (int i = 0; i < clients; ++i) peers->push_back(make(conninfo));
  return {name, [peers, scale](double budget) {
            std::vector<std::int64_t> done(peers->size());
            std::vector<std::thread> threads;
            const auto start = clock_type::now();
            const auto end = start + std::chrono::duration_cast<clock_type::duration>(
                                         std::chrono::duration<double>(budget));
            for (std::size_t i = 0; i < peers->size(); ++i) {
              threads.emplace_back([&, i] {
                std::mt19937_64 rng(1000 + i);
                peer& p = *(*peers)[i];
                std::int64_t n = 0;
                std::int64_t sum = 0;
                while (clock_type::now() < end) {
                  sum += p.tpcb(random_tpcb(rng, scale));
                  ++n;
                }
                done[i] = n;
                sink.fetch_add(sum, std::memory_order_relaxed);
              });
            }
            for (auto& t : threads) t.join();
            const double secs = std::chrono::duration<double>(clock_type::now() - start).count();
            std::int64_t total = 0;
            for (const auto n : done) total += n;
            return static_cast<double>(total) / secs;
          }};
}

/// pgbench -M prepared itself, for `budget` seconds (-T takes whole seconds; the quick run
/// uses a transaction count instead). Returns its tps (without initial connection time).
contender pgbench_contender(const std::string& pgbench, const std::string& conninfo, int clients,
                            bool quick) {
  return {"pgbench", [=](double budget) {
            const std::string length =
                quick ? "-t 20" : fmt::format("-T {}", std::max(1, static_cast<int>(budget + 0.5)));
            const std::string out =
                run_command(fmt::format("{} -n -M prepared -c {} -j {} {} {}", pgbench, clients,
                                        clients, length, shell_quote(conninfo)));
            const auto at = out.find("tps = ");
            if (at == std::string::npos)
              throw std::runtime_error("no tps in pgbench output:\n" + out);
            return std::stod(out.substr(at + 6));
          }};
}

void run_tpcb(context& ctx, int clients) {
  const std::string workload = fmt::format("tpcb_c{}", clients);
  if (!wanted(ctx.opt, workload)) return;
  const int scale = ctx.opt.pgbench_scale;
  std::vector<contender> cs;
  for (const auto& k : library_peers()) {
    auto probe = k.make(ctx.conninfo);
    std::mt19937_64 rng(7);
    if (!supports(*probe, [&](peer& p) { (void)p.tpcb(random_tpcb(rng, scale)); })) continue;
    cs.push_back(tpcb_clients(k.name, k.make, ctx.conninfo, clients, scale));
  }
  cs.push_back(pgbench_contender(pgbench_path(ctx.bindir), ctx.conninfo, clients, ctx.opt.quick));
  print_workload(ctx.rep, workload + ctx.phase, "tps",
                 measure(cs, ctx.rounds, ctx.opt.quick ? ctx.seconds * 4 : 2.0));
}

void run_all(context& ctx) {
  run_point_select(ctx);
  run_session_lookup(ctx);
  run_pipelined(ctx);
  run_scan(ctx);
  run_include(ctx);
  run_insert_returning(ctx);
  run_bulk_insert(ctx);
  run_tpcb(ctx, 1);
  run_tpcb(ctx, 2);
  for (const int c : {1, 16, 256}) run_async_selects(ctx, c, false);
  run_async_selects(ctx, 256, true);
}

// ---- targets
// -------------------------------------------------------------------------------------

struct target {
  std::string workload;
  std::string peer;
  double at_least;
  bool below = false;  // true: the ratio must be <= at_least
};

void print_targets(const std::vector<ratio_line>& ratios, const std::vector<target>& targets) {
  fmt::print("\ntargets (pinned run):\n");
  for (const auto& t : targets) {
    const auto it = std::find_if(ratios.begin(), ratios.end(), [&](const ratio_line& r) {
      return r.workload == t.workload && r.peer == t.peer;
    });
    if (it == ratios.end()) {
      fmt::print("TARGET {} pgorm/{} {} {:.2f}: not measured\n", t.workload, t.peer,
                 t.below ? "<=" : ">=", t.at_least);
      continue;
    }
    // Ratios are compared as printed, at two decimals (as the targets are stated).
    const double shown = std::round(it->value * 100.0) / 100.0;
    const bool met = t.below ? shown <= t.at_least + 1e-9 : shown >= t.at_least - 1e-9;
    fmt::print("TARGET {} pgorm/{} {:.2f} {} {:.2f}: {}\n", t.workload, t.peer, it->value,
               t.below ? "<=" : ">=", t.at_least, met ? "met" : "MISSED");
  }
}

// ---- callgrind ----------------------------------------------------------------------------------

/// The include workload's callgrind child: `ops` loads by the contender named o.child_peer,
/// against the first schema (the client's work does not depend on the index).
int callgrind_include_child(const options& o) {
  std::int64_t sum = 0;
  for (const auto& c : make_include_contenders(o.conninfo, include_schemas().front())) {
    if (c.name != o.child_peer) continue;
    sum += c.op();
#if PGORM_BENCH_CALLGRIND
    CALLGRIND_START_INSTRUMENTATION;
#endif
    for (int i = 0; i < o.child_ops; ++i) sum += c.op();
#if PGORM_BENCH_CALLGRIND
    CALLGRIND_STOP_INSTRUMENTATION;
#endif
    fmt::print("checksum {}\n", sum);
    return 0;
  }
  throw std::runtime_error("unsupported workload include for " + o.child_peer);
}

/// Child mode, run under valgrind: warm up (prepare statements, fill caches) uninstrumented,
/// then count `ops` operations between CALLGRIND_START/STOP_INSTRUMENTATION.
int callgrind_child(const options& o) {
  if (o.child_workload == "include") return callgrind_include_child(o);
  auto p = find_factory(o.child_peer)(o.conninfo);
  std::mt19937_64 rng(42);
  std::uniform_int_distribution<std::int64_t> d(1, o.users);
  std::int64_t sum = 0;
  if (o.child_workload == "point_select") {
    for (int i = 0; i < 20; ++i) sum += p->point_select(d(rng));
#if PGORM_BENCH_CALLGRIND
    CALLGRIND_START_INSTRUMENTATION;
#endif
    for (int i = 0; i < o.child_ops; ++i) sum += p->point_select(d(rng));
#if PGORM_BENCH_CALLGRIND
    CALLGRIND_STOP_INSTRUMENTATION;
#endif
  } else if (o.child_workload == "pipelined") {
    // Each op is one batch of pipeline_batch random ids, drawn before counting starts.
    const auto batch = static_cast<std::size_t>(o.pipeline_batch);
    std::vector<std::int64_t> ids(batch * static_cast<std::size_t>(o.child_ops + 3));
    for (auto& id : ids) id = d(rng);
    const auto nth = [&](int i) {
      return std::span<const std::int64_t>(ids).subspan(static_cast<std::size_t>(i) * batch, batch);
    };
    for (int i = 0; i < 3; ++i) sum += p->pipelined(nth(o.child_ops + i));
#if PGORM_BENCH_CALLGRIND
    CALLGRIND_START_INSTRUMENTATION;
#endif
    for (int i = 0; i < o.child_ops; ++i) sum += p->pipelined(nth(i));
#if PGORM_BENCH_CALLGRIND
    CALLGRIND_STOP_INSTRUMENTATION;
#endif
  } else if (o.child_workload.starts_with("async_select_c")) {
    // Each op is one chunk of selects at the workload's concurrency, ids drawn beforehand.
    const int concurrency = std::stoi(o.child_workload.substr(std::strlen("async_select_c")));
    const std::size_t chunk = async_chunk(concurrency);
    std::vector<std::int64_t> ids(chunk * static_cast<std::size_t>(o.child_ops + 1));
    for (auto& id : ids) id = d(rng);
    const auto nth = [&](int i) {
      return std::span<const std::int64_t>(ids).subspan(static_cast<std::size_t>(i) * chunk, chunk);
    };
    sum += p->concurrent_selects(nth(o.child_ops), concurrency);
#if PGORM_BENCH_CALLGRIND
    CALLGRIND_START_INSTRUMENTATION;
#endif
    for (int i = 0; i < o.child_ops; ++i) sum += p->concurrent_selects(nth(i), concurrency);
#if PGORM_BENCH_CALLGRIND
    CALLGRIND_STOP_INSTRUMENTATION;
#endif
  } else if (o.child_workload == "session_lookup") {
    const std::vector<std::string> tokens = live_tokens(o.conninfo);
    std::uniform_int_distribution<std::size_t> pick(0, tokens.size() - 1);
    for (int i = 0; i < 20; ++i) sum += p->session_lookup(tokens[pick(rng)]);
#if PGORM_BENCH_CALLGRIND
    CALLGRIND_START_INSTRUMENTATION;
#endif
    for (int i = 0; i < o.child_ops; ++i) sum += p->session_lookup(tokens[pick(rng)]);
#if PGORM_BENCH_CALLGRIND
    CALLGRIND_STOP_INSTRUMENTATION;
#endif
  } else if (o.child_workload == "scan") {
    sum += p->scan();
#if PGORM_BENCH_CALLGRIND
    CALLGRIND_START_INSTRUMENTATION;
#endif
    for (int i = 0; i < o.child_ops; ++i) sum += p->scan();
#if PGORM_BENCH_CALLGRIND
    CALLGRIND_STOP_INSTRUMENTATION;
#endif
  } else if (o.child_workload == "bulk_insert") {
    // Rows into users_bulk (emptied first, untimed); one measured insert of `users` rows.
    pgorm::connection admin(o.conninfo);
    const std::vector<User> rows = bulk_rows(o.users);
    p->prepare_bulk(std::span<const User>(rows).first(100));
    sum += p->bulk_insert();
    admin.exec("TRUNCATE users_bulk RESTART IDENTITY");
    p->prepare_bulk(rows);
#if PGORM_BENCH_CALLGRIND
    CALLGRIND_START_INSTRUMENTATION;
#endif
    for (int i = 0; i < o.child_ops; ++i) sum += p->bulk_insert();
#if PGORM_BENCH_CALLGRIND
    CALLGRIND_STOP_INSTRUMENTATION;
#endif
    admin.exec("TRUNCATE users_bulk RESTART IDENTITY");
  } else if (o.child_workload == "tpcb") {
    std::mt19937_64 tx_rng(7);
    for (int i = 0; i < 20; ++i) sum += p->tpcb(random_tpcb(tx_rng, o.pgbench_scale));
#if PGORM_BENCH_CALLGRIND
    CALLGRIND_START_INSTRUMENTATION;
#endif
    for (int i = 0; i < o.child_ops; ++i) sum += p->tpcb(random_tpcb(tx_rng, o.pgbench_scale));
#if PGORM_BENCH_CALLGRIND
    CALLGRIND_STOP_INSTRUMENTATION;
#endif
  } else {
    throw std::runtime_error("no callgrind workload " + o.child_workload);
  }
  fmt::print("checksum {}\n", sum);
  return 0;
}

/// Total instructions recorded in a callgrind output file ("summary:" or "totals:").
double callgrind_total(const fs::path& file) {
  std::ifstream in(file);
  std::string line;
  double total = -1;
  while (std::getline(in, line)) {
    if (line.starts_with("summary:") || line.starts_with("totals:")) {
      total = std::stod(line.substr(line.find(':') + 1));
    }
  }
  if (total < 0) throw std::runtime_error("no totals in " + file.string());
  return total;
}

void run_callgrind(const options& o, const std::string& conninfo, report& rep) {
#if !PGORM_BENCH_CALLGRIND
  fmt::print("callgrind: <valgrind/callgrind.h> was not found at build time; install valgrind\n");
  (void)o;
  (void)conninfo;
  (void)rep;
#else
  const fs::path self = fs::read_symlink("/proc/self/exe");
  const fs::path dir = fs::temp_directory_path() / fmt::format("pgorm-bench-cg-{}", getpid());
  fs::create_directories(dir);
  struct cg_workload {
    std::string name;
    int ops;
    double units_per_op;
    std::string unit;
    bool async = false;    // peers: async_contenders(), the async client shown as "pgorm"
    bool include = false;  // peers: the include workload's contenders
  };
  const double rows = static_cast<double>(o.users);
  const std::vector<cg_workload> workloads{
      {"point_select", o.quick ? 200 : 2000, 1.0, "per select"},
      {"session_lookup", o.quick ? 200 : 2000, 1.0, "per lookup"},
      {"pipelined", o.quick ? 2 : 20, static_cast<double>(o.pipeline_batch), "per select"},
      {"scan", o.quick ? 1 : 4, rows, "per row"},
      {"bulk_insert", 1, rows, "per row"},
      {"tpcb", o.quick ? 20 : 200, 1.0, "per transaction"},
      {"async_select_c1", o.quick ? 1 : 8, static_cast<double>(async_chunk(1)), "per select", true},
      {"async_select_c256", o.quick ? 1 : 8, static_cast<double>(async_chunk(256)), "per select",
       true},
      {"include", o.quick ? 1 : 4, 1.0, "per load (1,000 users, 9,989 sessions)", false, true},
  };
  const std::vector<async_contender> include_peers{{"pgorm", "pgorm"},
                                                   {"pgorm_n_plus_1", "pgorm_n_plus_1"},
                                                   {"pgorm_join_fold", "pgorm_join_fold"},
                                                   {"libpq", "libpq"}};
  std::vector<async_contender> plain;
  for (const auto& k : library_peers()) plain.push_back({k.name, k.name});
  for (const auto& w : workloads) {
    if (!wanted(o, w.name)) continue;
    std::map<std::string, double> per;
    for (const auto& [n, shown] : w.include ? include_peers
                                  : w.async ? async_contenders(false)
                                            : plain) {
      const fs::path out = dir / fmt::format("{}.{}.out", w.name, n);
      const std::string cmd = fmt::format(
          "valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file={} {} "
          "--callgrind-child --conninfo {} --workload {} --peer {} --ops {} --users {} "
          "--pgbench-scale 1",
          shell_quote(out.string()), shell_quote(self.string()), shell_quote(conninfo), w.name, n,
          w.ops, o.users);
      try {
        (void)run_command(cmd);
      } catch (const std::exception& e) {
        if (std::string_view(e.what()).find("unsupported workload") != std::string_view::npos) {
          fmt::print("callgrind {} {}: not implemented by this peer\n", w.name, shown);
        } else {
          fmt::print("callgrind {} {}: skipped ({})\n", w.name, shown, e.what());
        }
        continue;
      }
      per[shown] = callgrind_total(out) / (w.ops * w.units_per_op);
      fmt::print("INSTR {} {} {:.0f} instructions {}\n", w.name, shown, per[shown], w.unit);
      std::fflush(stdout);
    }
    if (per.count("pgorm") == 0) continue;
    std::string row = fmt::format("| {}_instr | {:.0f} {} |", w.name, per["pgorm"], w.unit);
    for (const auto& [n, v] : per) {
      if (n == "pgorm") continue;
      const double ratio = per["pgorm"] / v;
      fmt::print("RATIO {}_instr pgorm/{} {:.2f}\n", w.name, n, ratio);
      rep.ratios.push_back({w.name + "_instr", n, ratio});
      row += fmt::format(" {}: {:.0f} ({:.2f}×) |", n, v, ratio);
    }
    rep.table.push_back(row);
  }
  if (std::getenv("PGORM_BENCH_KEEP_CALLGRIND") != nullptr) {
    fmt::print("callgrind: output files kept in {} (callgrind_annotate them)\n", dir.string());
  } else {
    fs::remove_all(dir);
  }
  // Issue 13: the execution core must not cost instructions: point select <= 1.12x libpq (as
  // before it), scanned row <= 1.11x.
  // Issue 15: an async point select costs at most 1.3x a blocking one.
  print_targets(rep.ratios, {{"point_select_instr", "libpq", 1.12, true},
                             {"point_select_instr", "libpqxx", 0.8, true},
                             {"scan_instr", "libpq", 1.11, true},
                             {"async_select_c1_instr", "pgorm_sync", 1.3, true}});
#endif
}

// ---- main
// ----------------------------------------------------------------------------------------

std::string cpu_model() {
  std::ifstream in("/proc/cpuinfo");
  for (std::string line; std::getline(in, line);) {
    if (line.starts_with("model name")) return line.substr(line.find(':') + 2);
  }
  return "unknown";
}

int run(const options& o) {
  if (o.show_sql) {
    for (const auto& s : pgorm_sql_texts()) fmt::print("{}\n", s);
    return 0;
  }
  if (o.callgrind_child) return callgrind_child(o);

  cpu_set_t all;
  CPU_ZERO(&all);
  if (sched_getaffinity(0, sizeof all, &all) != 0) throw std::runtime_error("sched_getaffinity");
  int cpu = o.cpu;
  if (cpu < 0) {
    for (int i = 0; i < CPU_SETSIZE; ++i) {
      if (CPU_ISSET(i, &all)) cpu = i;
    }
  }
  fmt::print("machine: {} CPUs available, {}\n", CPU_COUNT(&all), cpu_model());

  std::unique_ptr<pgorm::testing::server> server;
  std::string conninfo = o.conninfo;
  fs::path bindir;
  pid_t postmaster = 0;
  const auto t_setup = clock_type::now();
  if (conninfo.empty()) {
    pgorm::testing::server_options so;
    so.unsafe_fast = false;  // default durability: fsync and synchronous_commit on
    so.settings = {{"timezone", "'UTC'"}, {"max_connections", "50"}};
    server = std::make_unique<pgorm::testing::server>(so);
    conninfo = server->conninfo();
    bindir = server->bindir();
    postmaster = server->postmaster_pid();
    fmt::print("server: throwaway PostgreSQL, default durability, postmaster pid {}\n", postmaster);
  } else {
    fmt::print("server: {} (not pinned: not ours)\n", conninfo);
    try {
      bindir = pgorm::testing::find_pg_bindir();
    } catch (const std::exception&) {
      bindir.clear();
    }
  }
  {
    pgorm::connection c{conninfo};
    fmt::print("server version {}\n", c.server_version());
  }
  create_schema(conninfo, o);
  report rep;
  if (o.callgrind) {
    // TPC-B's client instructions do not depend on the scale: the smallest tables will do.
    (void)run_command(fmt::format("{} -i -q -s 1 {}", pgbench_path(bindir), shell_quote(conninfo)));
    run_callgrind(o, conninfo, rep);
    return 0;
  }
  const bool need_pgbench = wanted(o, "tpcb");
  if (need_pgbench) {
    (void)run_command(fmt::format("{} -i -q -s {} {}", pgbench_path(bindir), o.pgbench_scale,
                                  shell_quote(conninfo)));
  }
  fmt::print("setup: {} users, {} sessions, pgbench scale {} in {:.1f} s\n", o.users, o.sessions,
             o.pgbench_scale, std::chrono::duration<double>(clock_type::now() - t_setup).count());

  context ctx{o,   conninfo, bindir,   live_tokens(conninfo), bulk_rows(o.users), "",
              rep, o.rounds, o.seconds};

  apply_pinning(cpu, all, postmaster);
  fmt::print("\n=== pinned: this process and the server on CPU {} ===\n", cpu);
  run_all(ctx);
  const std::vector<ratio_line> pinned = rep.ratios;

  if (o.unpinned && CPU_COUNT(&all) > 1) {
    apply_pinning(-1, all, postmaster);
    fmt::print("\n=== unpinned: {} CPUs ===\n", CPU_COUNT(&all));
    ctx.phase = "_unpinned";
    ctx.rounds = std::max(1, o.rounds / 2);
    run_all(ctx);
  }

  print_targets(pinned, {{"point_select", "libpq", 0.97},
                         {"session_lookup", "libpq", 0.97},
                         {"insert_returning", "libpq", 0.97},
                         {"pipelined", "libpq", 0.90},
                         {"pipelined", "pgorm_serial", 2.5},
                         {"scan", "libpq", 0.95},
                         {"scan", "libpqxx", 1.05},
                         {"include", "libpq", 0.90},
                         {"include", "pgorm_n_plus_1", 3.0},
                         {"include_fk_id_index", "libpq", 0.90},
                         {"include_fk_id_index", "pgorm_n_plus_1", 3.0},
                         {"bulk_insert", "libpq", 0.90},
                         {"tpcb_c1", "libpq", 0.95},
                         {"tpcb_c2", "libpq", 0.95},
                         // Issue 15: pgorm::async (the "pgorm" of these workloads).
                         {"async_select_c1", "pgorm_sync", 0.95},
                         {"async_select_c256", "libpq_pipeline", 0.8},
                         {"async_select_c256", "pgorm_sync", 2.0}});
  fmt::print("\nmarkdown:\n");
  for (const auto& row : rep.table) fmt::print("{}\n", row);
  fmt::print("\ntotal {:.0f} s (checksum {})\n",
             std::chrono::duration<double>(clock_type::now() - t_setup).count(), sink.load());
  return 0;
}

}  // namespace

timestamptz parse_timestamptz_text(std::string_view t) {
  // "YYYY-MM-DD HH:MM:SS[.ffffff]+00" (DateStyle ISO, TimeZone UTC).
  auto num = [&](std::size_t pos, std::size_t len) {
    int v = 0;
    for (std::size_t i = pos; i < pos + len; ++i) v = v * 10 + (t[i] - '0');
    return v;
  };
  using namespace std::chrono;
  const year_month_day ymd{year{num(0, 4)}, month{static_cast<unsigned>(num(5, 2))},
                           day{static_cast<unsigned>(num(8, 2))}};
  std::int64_t us =
      (static_cast<std::int64_t>(num(11, 2)) * 3600 + num(14, 2) * 60 + num(17, 2)) * 1'000'000;
  std::size_t pos = 19;
  if (pos < t.size() && t[pos] == '.') {
    std::int64_t frac = 0;
    int digits = 0;
    for (++pos; pos < t.size() && t[pos] >= '0' && t[pos] <= '9'; ++pos, ++digits) {
      frac = frac * 10 + (t[pos] - '0');
    }
    for (; digits < 6; ++digits) frac *= 10;
    us += frac;
  }
  return timestamptz{duration_cast<microseconds>(sys_days{ymd}.time_since_epoch()) +
                     microseconds{us}};
}

}  // namespace pgorm_bench

int main(int argc, char** argv) {
  try {
    return pgorm_bench::run(pgorm_bench::parse_args(argc, argv));
  } catch (const std::exception& e) {
    fmt::print(stderr, "pgorm_bench: {}\n", e.what());
    return 1;
  }
}
