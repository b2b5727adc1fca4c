// SPDX-License-Identifier: MIT
// Multi-host failover against real streaming replication: a primary and a synchronous standby
// (pgorm::testing), 8 threads writing through one pool whose connection string lists both with
// target_session_attrs=read-write; the primary is stopped with -m immediate and the standby
// promoted. The pool must find the new primary, and no acknowledged write may be lost or
// written twice. Precise timings are in the reliability campaign (failover scenario).
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <libpq-fe.h>

#include "pgorm/connection.hpp"
#include "pgorm/error.hpp"
#include "pgorm/pool.hpp"
#include "pgorm/testing/replica.hpp"
#include "pgorm/testing/server.hpp"
#include "pgorm/transaction.hpp"

namespace {

using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;
using pgorm::param;
using pgorm::testing::server;

struct endpoint {
  std::string host, port, user, dbname, password;
};

endpoint endpoint_of(const std::string& conninfo) {
  endpoint e;
  char* err = nullptr;
  PQconninfoOption* parsed = PQconninfoParse(conninfo.c_str(), &err);
  if (parsed == nullptr) {
    if (err != nullptr) PQfreemem(err);
    throw pgorm::error("cannot parse a conninfo");
  }
  for (PQconninfoOption* o = parsed; o->keyword != nullptr; ++o) {
    if (o->val == nullptr) continue;
    const std::string_view key = o->keyword;
    if (key == "host") e.host = o->val;
    if (key == "port") e.port = o->val;
    if (key == "user") e.user = o->val;
    if (key == "dbname") e.dbname = o->val;
    if (key == "password") e.password = o->val;
  }
  PQconninfoFree(parsed);
  return e;
}

// host=a,b port=1,2 ... target_session_attrs=read-write: libpq's way to find the primary.
std::string both(const server& first, const server& second) {
  const auto a = endpoint_of(first.conninfo());
  const auto b = endpoint_of(second.conninfo());
  auto info = fmt::format(
      "host='{},{}' port='{},{}' user='{}' dbname='{}' target_session_attrs=read-write "
      "application_name=pgorm_failover_test",
      a.host, b.host, a.port, b.port, a.user, a.dbname);
  if (!a.password.empty()) info += fmt::format(" password='{}'", a.password);
  return info;
}

enum class outcome { acked, not_sent, unknown };

struct attempt {
  std::int64_t id;
  outcome result;
  steady::time_point end;
};

TEST(failover, the_pool_finds_the_promoted_standby_and_no_acknowledged_write_is_lost) {
  // synchronous_commit on with the standby synchronous: a commit is acknowledged only once
  // the standby has flushed it, so it survives the primary's -m immediate.
  server primary{{.settings = {{"synchronous_commit", "on"}}}};
  auto standby = pgorm::testing::start_replica(primary);
  {
    pgorm::connection p{primary.conninfo()};
    p.exec("alter system set synchronous_standby_names = '*'");
    p.exec("select pg_reload_conf()");
    // No unique constraint, so that a row written twice shows up as two rows.
    p.exec("create table fo_rows (id bigint not null, worker int not null)");
    const auto until = steady::now() + 30s;
    while (std::string(p.exec("select count(*) from pg_stat_replication where sync_state = "
                              "'sync'")
                           .value(0, 0)) != "1") {
      ASSERT_LT(steady::now(), until) << "the standby never became synchronous";
      std::this_thread::sleep_for(20ms);
    }
  }

  constexpr int threads = 8;
  pgorm::pool_options options;
  options.max_size = threads;
  options.acquire_timeout = 5s;
  options.connection.connect_timeout = 2s;
  options.connection.query_timeout = 10s;
  pgorm::pool db{both(primary, standby), options};
  ASSERT_EQ(std::string(db.exec("show synchronous_commit", {}).value(0, 0)), "on");
  ASSERT_EQ(std::string(db.exec("show synchronous_standby_names", {}).value(0, 0)), "*");

  std::vector<std::vector<attempt>> records(threads);
  std::atomic<bool> stop{false};
  std::atomic<bool> promoted{false};
  std::atomic<std::int64_t> first_after_promotion{0};  // steady ticks; 0: none yet
  std::vector<std::thread> workers;
  for (int w = 0; w < threads; ++w) {
    workers.emplace_back([&, w] {
      auto& mine = records[static_cast<std::size_t>(w)];
      for (std::int64_t seq = 1; !stop.load(); ++seq) {
        const std::int64_t id = static_cast<std::int64_t>(w) * 1'000'000'000 + seq;
        const bool after = promoted.load();
        attempt a{id, outcome::acked, {}};
        try {
          // A transaction: acknowledged means COMMIT answered, after the standby has the
          // commit. (A single-statement exec with parameters is acknowledged at its
          // CommandComplete, before the implicit commit at Sync: see docs/scaling.md.)
          db.transaction([&](pgorm::transaction& tx) {
            tx.exec("insert into fo_rows (id, worker) values ($1::bigint, $2::int)",
                    {param::text(std::to_string(id)), param::text(std::to_string(w))});
          });
        } catch (const pgorm::pool_timeout&) {
          a.result = outcome::not_sent;
        } catch (const pgorm::pool_connect_error&) {
          a.result = outcome::not_sent;
        } catch (const pgorm::error&) {
          a.result = outcome::unknown;
        }
        a.end = steady::now();
        if (a.result == outcome::acked && after) {
          std::int64_t none = 0;
          first_after_promotion.compare_exchange_strong(none, a.end.time_since_epoch().count());
        }
        mine.push_back(a);
        if (a.result != outcome::acked) std::this_thread::sleep_for(10ms);
      }
    });
  }
  const auto join = [&] {
    stop = true;
    for (auto& t : workers) {
      if (t.joinable()) t.join();
    }
  };

  std::this_thread::sleep_for(1s);
  const auto stopped_at = steady::now();
  primary.stop(pgorm::testing::shutdown_mode::immediate);
  const auto promote_started = steady::now();
  try {
    pgorm::testing::promote(standby, 60s);
  } catch (...) {
    join();
    throw;
  }
  promoted = true;
  // Generous bound: the goal is 2 s (measured by the reliability campaign); on a busy
  // machine the test only asks for 30 s.
  const auto until = steady::now() + 30s;
  while (first_after_promotion.load() == 0 && steady::now() < until) {
    std::this_thread::sleep_for(20ms);
  }
  std::this_thread::sleep_for(500ms);  // more writes on the new primary
  join();

  ASSERT_NE(first_after_promotion.load(), 0) << "no write succeeded within 30 s of promotion";
  const auto first = steady::time_point(steady::duration(first_after_promotion.load()));
  EXPECT_LT(first - promote_started, 30s);

  // Every acknowledged write is on the new primary once; one never sent is not there at all.
  pgorm::connection now_primary{standby.conninfo()};
  EXPECT_EQ(std::string(now_primary.exec("select pg_is_in_recovery()").value(0, 0)), "f");
  const auto rows = now_primary.exec("select id, count(*) from fo_rows group by id");
  std::unordered_map<std::int64_t, std::int64_t> present;
  for (int i = 0; i < rows.rows(); ++i) {
    present.emplace(std::stoll(std::string(rows.value(i, 0))),
                    std::stoll(std::string(rows.value(i, 1))));
  }
  std::int64_t acked = 0;
  std::int64_t lost = 0;
  std::int64_t duplicated = 0;
  std::int64_t not_sent_present = 0;
  std::int64_t unknown = 0;
  for (const auto& mine : records) {
    for (const auto& a : mine) {
      const auto it = present.find(a.id);
      const std::int64_t copies = it == present.end() ? 0 : it->second;
      duplicated += std::max<std::int64_t>(0, copies - 1);
      if (a.result == outcome::acked) {
        ++acked;
        if (copies == 0 && ++lost <= 10) {
          ADD_FAILURE()
              << "acknowledged write " << a.id << " is missing; it ended "
              << std::chrono::duration_cast<std::chrono::milliseconds>(a.end - stopped_at).count()
              << " ms after the primary's stop began";
        }
      } else if (a.result == outcome::not_sent) {
        if (copies > 0) ++not_sent_present;
      } else {
        ++unknown;
      }
    }
  }
  std::printf(
      "failover: first write %lld ms after pg_ctl promote began; %lld acknowledged, "
      "%lld with an unknown outcome\n",
      static_cast<long long>(
          std::chrono::duration_cast<std::chrono::milliseconds>(first - promote_started).count()),
      static_cast<long long>(acked), static_cast<long long>(unknown));
  EXPECT_GT(acked, 0);
  EXPECT_EQ(lost, 0) << "of " << acked << " acknowledged writes";
  EXPECT_EQ(duplicated, 0);
  EXPECT_EQ(not_sent_present, 0);
  // Only writes that had a connection when the primary died can have an unknown outcome: the
  // one each thread had in flight, and one begun on a connection that had died idle (generous).
  EXPECT_LE(unknown, 3 * threads);
}

}  // namespace
