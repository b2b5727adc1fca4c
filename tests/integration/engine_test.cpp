// SPDX-License-Identifier: MIT
// The execution core against the real server: one deadline per call, cancellation that ends the
// statement on the server and never reaches a later one, session settings that survive resets,
// keepalives, and connection attempts that another thread can stop.
#include <array>
#include <atomic>
#include <chrono>
#include <cstring>
#include <functional>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <libpq-fe.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "pgorm/connection.hpp"
#include "pgorm/copy.hpp"
#include "pgorm/pipeline.hpp"
#include "pgorm/query.hpp"
#include "support/db_test.hpp"
#include "support/schema.hpp"
#include "support/silent_listener.hpp"

namespace {

using namespace std::chrono_literals;
using pgorm::param;
using ::testing::HasSubstr;
using clock_type = std::chrono::steady_clock;
using pgorm::test::silent_listener;

class engine_test : public pgorm::test::db_test {
 protected:
  // A connection whose cancel acknowledgement may take long on a busy machine: these tests
  // check that the connection stays usable, which needs the acknowledgement in time.
  pgorm::connection patient(pgorm::connect_options o = {}) const {
    o.cancel_grace = 10s;
    return pgorm::connection{conninfo(), std::move(o)};
  }

  // The state of `pid`'s backend in pg_stat_activity, from another connection.
  std::string backend_state(int pid) {
    auto r = conn().exec("select coalesce(state, '') from pg_stat_activity where pid = $1",
                         {param::text(std::to_string(pid))});
    return r.rows() == 0 ? std::string("gone") : std::string(r.value(0, 0));
  }

  // Polls until `f` holds or `limit` passes.
  static bool eventually(const std::function<bool()>& f, std::chrono::milliseconds limit = 5s) {
    const auto end = clock_type::now() + limit;
    for (;;) {
      if (f()) return true;
      if (clock_type::now() >= end) return false;
      std::this_thread::sleep_for(10ms);
    }
  }

  static long long ms_since(clock_type::time_point start) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(clock_type::now() - start).count();
  }
};

// ---- deadlines ----------------------------------------------------------------------------------

TEST_F(engine_test, a_deadline_cancels_the_statement_on_the_server_and_keeps_the_connection) {
  pgorm::connection c = patient();
  const int pid = c.backend_pid();
  const auto start = clock_type::now();
  try {
    c.exec("select pg_sleep(30)", {}, pgorm::data_format::text, 300ms);
    FAIL() << "pg_sleep(30) finished within 300 ms";
  } catch (const pgorm::query_canceled& e) {
    EXPECT_THAT(e.what(), HasSubstr("300 ms deadline"));
    EXPECT_EQ(e.sqlstate(), "57014");
  }
  EXPECT_LT(ms_since(start), 300 + 5000);  // generous; ./dev reliability has the figure
  // The statement is gone from the server, not merely abandoned by the client.
  EXPECT_EQ(backend_state(pid), "idle");
  EXPECT_TRUE(c.is_open());
  EXPECT_EQ(c.exec("select 41 + 1").value(0, 0), "42");
}

// PostgreSQL drops a cancel that reaches the backend while it handles Parse or Bind (it
// discards a pending cancel when it reads the next message), and with JIT inlining forced
// every Bind of this statement spends a few hundred milliseconds compiling: each of these
// deadlines passes in that window. The engine asks again until the statement ends.
TEST_F(engine_test, a_cancel_the_server_drops_while_binding_is_sent_again) {
  pgorm::connection c = patient();
  c.exec("set jit = on");
  c.exec("set jit_above_cost = 0");
  c.exec("set jit_inline_above_cost = 0");
  c.exec("set jit_optimize_above_cost = 0");
  const std::array<param, 1> rows{param::text("2000000000")};
  for (const auto budget : {1ms, 5ms, 20ms}) {
    const auto start = clock_type::now();
    EXPECT_THROW(
        c.exec("select generate_series(1, $1::int8)", rows, pgorm::data_format::binary, budget),
        pgorm::query_canceled)
        << budget.count() << " ms";
    EXPECT_LT(ms_since(start), 8000) << budget.count() << " ms";  // below the 10 s grace
    ASSERT_TRUE(c.is_open()) << budget.count() << " ms";
    EXPECT_EQ(c.exec("select 1").value(0, 0), "1");
  }
}

TEST_F(engine_test, simple_protocol_statements_have_a_deadline_too) {
  pgorm::connection c = patient();
  EXPECT_THROW(c.exec("select pg_sleep(30)", 300ms), pgorm::query_canceled);
  EXPECT_EQ(c.exec("select 1", 1s).value(0, 0), "1");
}

TEST_F(engine_test, the_connection_default_deadline_applies_to_calls_without_one) {
  pgorm::connection c = patient({.query_timeout = 300ms});
  EXPECT_EQ(c.default_timeout(), 300ms);
  EXPECT_THROW(c.exec("select pg_sleep(30)"), pgorm::query_canceled);
  EXPECT_THROW(c.exec("select pg_sleep($1::float8)", {param::text("30")}), pgorm::query_canceled);
  // A call's own timeout overrides the default, longer as well as shorter.
  EXPECT_EQ(c.exec("select pg_sleep(0.5)::text", {}, pgorm::data_format::text, 5s).rows(), 1);
  EXPECT_EQ(c.exec("select 2").value(0, 0), "2");
}

TEST_F(engine_test, one_budget_covers_preparing_and_executing) {
  // Preparing waits for a lock that another session holds for ~700 ms; executing then sleeps
  // 600 ms. Each fits a 1 s budget on its own, both together do not: the call must be
  // cancelled (the budget is one, not one per round trip).
  conn().exec("create table locked (id int)");
  pgorm::connection holder = connect();
  holder.exec("begin");
  holder.exec("lock table locked in access exclusive mode");
  std::thread release([&] {
    std::this_thread::sleep_for(700ms);
    holder.exec("commit");
  });
  pgorm::connection c = patient();
  const std::array params{param::text("0.6")};
  EXPECT_THROW(c.exec("select pg_sleep($1::float8), count(*) from locked", params,
                      pgorm::data_format::text, 1000ms),
               pgorm::query_canceled);
  release.join();
  EXPECT_EQ(c.exec("select 3").value(0, 0), "3");
}

TEST_F(engine_test, a_streamed_query_has_one_deadline_for_the_whole_stream) {
  pgorm::connection c = patient();
  int rows = 0;
  EXPECT_THROW(c.exec_each(
                   "select g, pg_sleep(0.1) from generate_series(1, 100) g", {},
                   pgorm::data_format::text, [&](const pgorm::result&) { ++rows; }, 500ms),
               pgorm::query_canceled);
  EXPECT_LT(rows, 100);
  EXPECT_EQ(c.exec("select 4").value(0, 0), "4");
}

TEST_F(engine_test, a_row_callback_that_throws_cancels_the_stream_and_keeps_the_connection) {
  pgorm::connection c = patient();
  const int pid = c.backend_pid();
  // Rows of 10 kB: each fills the server's send buffer, so it is sent as soon as it is made.
  const auto start = clock_type::now();
  EXPECT_THROW(c.exec_each("select g, repeat('x', 10000), pg_sleep(0.05) "
                           "from generate_series(1, 1000) g",
                           {}, pgorm::data_format::text,
                           [&](const pgorm::result&) { throw std::runtime_error("enough"); }),
               std::runtime_error);
  EXPECT_LT(ms_since(start), 20'000) << "the stream ran on (1000 rows take 50 s)";
  EXPECT_EQ(backend_state(pid), "idle");
  EXPECT_EQ(c.exec("select 5").value(0, 0), "5");
}

TEST_F(engine_test, a_pipeline_deadline_cancels_the_running_statement_and_keeps_the_connection) {
  pgorm::connection c = patient();
  const int pid = c.backend_pid();
  pgorm::pipeline p{c};
  auto fast = p.add(pgorm::query<std::tuple<int>>("select 1"));
  auto slow = p.add(pgorm::query<std::tuple<int>>("select 1 from pg_sleep(30)"));
  const auto start = clock_type::now();
  try {
    p.run(300ms);
    FAIL() << "the pipeline finished within 300 ms";
  } catch (const pgorm::query_canceled& e) {
    EXPECT_THAT(e.what(), HasSubstr("pipeline did not finish within its 300 ms deadline"));
  }
  EXPECT_LT(ms_since(start), 20'000) << "the sleep ran on (30 s)";
  EXPECT_THROW((void)slow.all(), pgorm::query_canceled);
  // Cancelled on the server; the connection stays usable.
  ASSERT_TRUE(c.is_open());
  EXPECT_EQ(backend_state(pid), "idle");
  EXPECT_EQ(c.exec("select 5").value(0, 0), "5");
}

TEST_F(engine_test, a_copy_out_deadline_cancels_the_copy_and_keeps_the_connection) {
  pgorm::connection c = patient({.query_timeout = 300ms});
  std::string data;
  EXPECT_THROW(pgorm::detail::copy_out_chunks(
                   c, "copy (select g, pg_sleep(0.1) from generate_series(1, 100) g) to stdout",
                   [&](std::string_view chunk) { data.append(chunk); }),
               pgorm::query_canceled);
  EXPECT_EQ(c.exec("select 6").value(0, 0), "6");
}

TEST_F(engine_test, a_copy_in_deadline_holds_while_the_table_is_locked) {
  conn().exec(qt::ddl);
  pgorm::connection holder = connect();
  holder.exec("begin");
  holder.exec("lock table account in access exclusive mode");
  pgorm::connection c = patient();
  const std::vector<qt::Account> rows{{0, 1, "github", "a", std::nullopt}};
  EXPECT_THROW(pgorm::copy_in(c, rows, 300ms), pgorm::query_canceled);
  holder.exec("rollback");
  EXPECT_EQ(c.exec("select count(*) from account").value(0, 0), "0");
}

// ---- cancellation
// ---------------------------------------------------------------------------------

TEST_F(engine_test, a_deadline_cancel_never_reaches_the_next_statement) {
  // Each round: a statement cancelled at its deadline, then at once a statement that takes a
  // while. A cancel request that the server took in late would cancel the second one.
  pgorm::connection c = patient();
  for (int round = 0; round < 20; ++round) {
    EXPECT_THROW(c.exec("select pg_sleep(10)", {}, pgorm::data_format::text, 30ms),
                 pgorm::query_canceled);
    EXPECT_NO_THROW(c.exec("select pg_sleep(0.02)", {}, pgorm::data_format::text, 10s))
        << "round " << round;
  }
}

TEST_F(engine_test, cancel_from_another_thread_stops_the_running_statement) {
  pgorm::connection c = patient();
  std::thread canceller([&] {
    std::this_thread::sleep_for(200ms);
    c.cancel();
  });
  EXPECT_THROW(c.exec("select pg_sleep(30)"), pgorm::query_canceled);
  canceller.join();
  EXPECT_EQ(c.exec("select 7").value(0, 0), "7");
}

TEST_F(engine_test, cancel_after_the_statement_ended_does_not_reach_a_later_one) {
  pgorm::connection c = patient();
  for (int round = 0; round < 20; ++round) {
    c.cancel();  // nothing runs: the server takes the request in and ignores it
    EXPECT_NO_THROW(c.exec("select pg_sleep(0.02)", {}, pgorm::data_format::text, 10s))
        << "round " << round;
  }
}

TEST_F(engine_test, cancel_races_safely_with_close) {
  // cancel() on one thread while another closes the connection: no crash, no use after free
  // (the sanitizers run this), and cancel() either works or finds the connection closed.
  for (int round = 0; round < 20; ++round) {
    pgorm::connection c = connect();
    std::atomic<bool> go{false};
    std::thread canceller([&] {
      while (!go.load()) std::this_thread::yield();
      try {
        c.cancel();
      } catch (const pgorm::connection_error&) {
      }
    });
    go.store(true);
    c.close();
    canceller.join();
    EXPECT_FALSE(c.is_open());
  }
}

TEST_F(engine_test, ping_answers_and_closes_a_connection_in_a_bad_state) {
  pgorm::connection c = connect();
  EXPECT_TRUE(c.ping(1s));
  c.exec("begin");
  EXPECT_FALSE(c.ping(1s)) << "a session inside a transaction is not idle";
  EXPECT_FALSE(c.is_open());
  EXPECT_FALSE(c.ping(1s));
}

// ---- session settings and connecting ------------------------------------------------------------

TEST_F(engine_test, settings_and_statement_timeout_survive_discard_all) {
  conn().exec("create schema if not exists engine_extra");
  pgorm::connection c{
      conninfo(),
      {.statement_timeout = 1500ms,
       .settings = {{"application_name", "engine test"}, {"search_path", "engine_extra, public"}}}};
  for (int pass = 0; pass < 2; ++pass) {
    EXPECT_EQ(c.exec("show statement_timeout").value(0, 0), "1500ms");
    EXPECT_EQ(c.exec("show search_path").value(0, 0), "engine_extra, public");
    EXPECT_EQ(c.exec("show application_name").value(0, 0), "engine test");
    c.exec("set statement_timeout = 0; set search_path = public");
    c.discard_all();
  }
  c.exec("reset all");
  EXPECT_EQ(c.exec("show statement_timeout").value(0, 0), "1500ms");
}

TEST_F(engine_test, a_bad_setting_name_is_a_usage_error_naming_it) {
  try {
    pgorm::connection c{conninfo(), {.settings = {{"search_path -c work_mem", "1"}}}};
    FAIL() << "a setting name with blanks was accepted";
  } catch (const pgorm::usage_error& e) {
    EXPECT_THAT(e.what(), HasSubstr("search_path -c work_mem"));
  }
}

TEST_F(engine_test, tcp_keepalives_are_on_by_default_and_the_conninfo_overrides_them) {
  const auto setting = [](const pgorm::connection& c, const char* key) {
    std::string value;
    PQconninfoOption* options = PQconninfo(c.native_handle());
    for (PQconninfoOption* o = options; o->keyword != nullptr; ++o) {
      if (std::strcmp(o->keyword, key) == 0 && o->val != nullptr) value = o->val;
    }
    PQconninfoFree(options);
    return value;
  };
  pgorm::connection c = connect();
  EXPECT_EQ(setting(c, "keepalives"), "1");
  EXPECT_EQ(setting(c, "keepalives_idle"), "30");
  EXPECT_EQ(setting(c, "tcp_user_timeout"), "30000");
  pgorm::connection own{conninfo() + " keepalives_idle=7 tcp_user_timeout=9000"};
  EXPECT_EQ(setting(own, "keepalives_idle"), "7");
  EXPECT_EQ(setting(own, "tcp_user_timeout"), "9000");
}

TEST_F(engine_test, a_connection_attempt_ends_promptly_when_stopped) {
  silent_listener server;
  std::stop_source stop;
  std::thread stopper([&] {
    std::this_thread::sleep_for(200ms);
    stop.request_stop();
  });
  const auto start = clock_type::now();
  try {
    pgorm::connection c{"host=127.0.0.1 port=" + std::to_string(server.port()) + " user=x",
                        {.connect_timeout = 60s},
                        stop.get_token()};
    FAIL() << "connected to a server that never answers";
  } catch (const pgorm::connection_error& e) {
    EXPECT_THAT(e.what(), HasSubstr("was stopped"));
  }
  stopper.join();
  EXPECT_LT(ms_since(start), 10'000);  // far below the 60 s connect timeout
}

TEST_F(engine_test, the_default_connect_timeout_is_five_seconds) {
  EXPECT_EQ(pgorm::connect_options{}.connect_timeout, 5s);
  EXPECT_EQ(pgorm::connect_options{}.query_timeout, 30s);
}

}  // namespace
