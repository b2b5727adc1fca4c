// SPDX-License-Identifier: MIT
// Network faults between client and server, made by an in-process TCP proxy on 127.0.0.1
// (support/tcp_proxy.hpp) in front of a throwaway TCP server: a stalled connect, links that are
// reset, closed or black-holed under a running query, and a link cut just as COMMIT is sent
// (docs/reliability.md, "Network faults" and "Transactions under faults"). Every scenario ends
// with the leak check.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <future>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <typeinfo>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "fault/support/leak_check.hpp"
#include "fault/support/tcp_proxy.hpp"
#include "pgorm/connection.hpp"
#include "pgorm/error.hpp"
#include "pgorm/pool.hpp"
#include "pgorm/testing/server.hpp"
#include "pgorm/transaction.hpp"

namespace {

using namespace std::chrono_literals;
using pgorm::fault::clock_type;
using pgorm::fault::eventually;
using pgorm::fault::ms_since;
using pgorm::fault::tcp_proxy;
using ::testing::HasSubstr;

class proxy_fault : public pgorm::fault::fault_test {
 protected:
  static void SetUpTestSuite() {
    // A backend busy in pg_sleep notices a vanished client only when it next talks to it,
    // unless it checks the socket while it runs (PostgreSQL 14+): without this, a link cut under
    // pg_sleep(5) leaves its backend for the rest of the 5 s, and the leak check would see it.
    pg_ = std::make_unique<pgorm::testing::any_server>(pgorm::testing::server_options{
        .tcp = true, .settings = {{"client_connection_check_interval", "'50ms'"}}});
    pgorm::connection admin{pg_->conninfo()};
    admin.exec("create table if not exists ledger (id int primary key, note text not null)");
  }
  static void TearDownTestSuite() { pg_.reset(); }
  void SetUp() override {
    fault_test::SetUp();
    admin_.emplace(pg_->conninfo());
    admin_->exec("truncate ledger");
  }
  void TearDown() override {
    admin_.reset();
    fault_test::TearDown();
  }

  static pgorm::testing::any_server& pg() { return *pg_; }
  pgorm::connection& admin() { return *admin_; }

  // Connection string through `proxy`, with an application_name checked by the leak check.
  std::string via(const tcp_proxy& proxy, std::string_view hint, std::string* app_out = nullptr) {
    std::string name = app(hint, pg_->conninfo());
    if (app_out != nullptr) *app_out = name;
    return fmt::format("host=127.0.0.1 port={} user=postgres dbname=postgres application_name={}",
                       proxy.port(), name);
  }

  int ledger_rows() {
    return std::stoi(std::string(admin().exec("select count(*) from ledger").value(0, 0)));
  }

 private:
  static inline std::unique_ptr<pgorm::testing::any_server> pg_;
  std::optional<pgorm::connection> admin_;
};

TEST_F(proxy_fault, a_stalled_connect_honours_connect_timeout) {
  tcp_proxy proxy{pg().port()};
  proxy.set_mode(tcp_proxy::mode::stall);
  const std::string info = via(proxy, "stall");
  auto start = clock_type::now();
  EXPECT_THROW(pgorm::connection(info, {.connect_timeout = 300ms}), pgorm::connection_error);
  auto took = ms_since(start);
  EXPECT_GE(took, 300);
  EXPECT_LE(took, 300 + 3000);  // generous: the precise figure is in ./dev reliability

  // A pool's attempt ends with connection.connect_timeout, whatever the acquire's timeout, and
  // the acquire waiting for it fails with that error at once.
  pgorm::pool db{info,
                 {.acquire_timeout = 5s, .lazy = true, .connection = {.connect_timeout = 200ms}}};
  start = clock_type::now();
  try {
    auto l = db.acquire();
    FAIL() << "acquired through a stalled proxy";
  } catch (const pgorm::connection_error& e) {
    took = ms_since(start);
    EXPECT_GE(took, 200);
    EXPECT_LE(took, 200 + 3000);
    EXPECT_THAT(e.what(), HasSubstr("could not open a connection"));
    EXPECT_THAT(e.what(), HasSubstr("timed out after"));
  }
  EXPECT_EQ(db.stats().total_connect_failures, 1U);
  EXPECT_GE(proxy.accepted(), 1);
}

TEST_F(proxy_fault, a_reset_link_fails_the_running_query_at_once_and_poisons_it) {
  tcp_proxy proxy{pg().port()};
  pgorm::connection c{via(proxy, "reset")};
  std::thread cutter([&] {
    std::this_thread::sleep_for(200ms);
    proxy.set_mode(tcp_proxy::mode::reset);
  });
  const auto start = clock_type::now();
  try {
    c.exec("select pg_sleep(5)");
    FAIL() << "the query survived a reset link";
  } catch (const pgorm::error& e) {
    EXPECT_TRUE(e.poisons_connection()) << e.what();
  }
  EXPECT_LT(ms_since(start), 4000);  // well before pg_sleep(5) would end
  cutter.join();
  EXPECT_FALSE(c.is_open());
}

TEST_F(proxy_fault, a_closed_link_fails_the_running_query_at_once_and_poisons_it) {
  tcp_proxy proxy{pg().port()};
  std::string app_name;
  pgorm::pool db{via(proxy, "drop", &app_name), {.max_size = 1}};
  std::thread cutter([&] {
    std::this_thread::sleep_for(200ms);
    proxy.set_mode(tcp_proxy::mode::drop);
  });
  const auto start = clock_type::now();
  EXPECT_THROW(db.exec("select pg_sleep(5)", {}), pgorm::connection_error);
  EXPECT_LT(ms_since(start), 4000);  // well before pg_sleep(5) would end
  cutter.join();
  EXPECT_EQ(db.stats().total_closed, 1U);  // poisoned: destroyed, not pooled
  proxy.set_mode(tcp_proxy::mode::pass);
  EXPECT_EQ(db.exec("select 1", {}).value(0, 0), "1");
  expect_pool_matches_backends(db, app_name, pg().conninfo());
}

// A client-side deadline on a black-holed link: exec(sql, params, fmt, timeout) must return
// within a bounded time. At the deadline the engine sends its cancel request to the same address
// (the proxy), which black-holes it too; after cancel_grace the connection is closed. Run in a
// thread with a watchdog so a hang fails the test instead of the run; resetting the proxy's
// links unblocks it afterwards.
void expect_deadline_holds_on_a_black_hole(tcp_proxy& proxy, pgorm::connection& c,
                                           std::string_view sql) {
  proxy.set_mode(tcp_proxy::mode::stall);
  const auto start = clock_type::now();
  auto done = std::async(std::launch::async, [&]() -> std::string {
    try {
      c.exec(sql, {}, pgorm::data_format::text, 300ms);
      return "returned a result";
    } catch (const pgorm::error& e) {
      return std::string(typeid(e).name()) + ": " + e.what();
    }
  });
  const bool bounded = done.wait_for(3s) == std::future_status::ready;
  EXPECT_TRUE(bounded)
      << "exec with a 300 ms timeout on a black-holed link has not returned after 3 s (sql: " << sql
      << ")";
  if (!bounded) proxy.set_mode(tcp_proxy::mode::reset);  // unblocks it
  const std::string outcome = done.get();
  if (bounded) {
    EXPECT_LE(ms_since(start), 3000) << outcome;
  }
  ::testing::Test::RecordProperty("outcome", outcome);
}

TEST_F(proxy_fault, a_query_deadline_holds_on_a_black_holed_link_for_a_prepared_statement) {
  tcp_proxy proxy{pg().port()};
  pgorm::connection c{via(proxy, "blackhole")};
  c.exec("select 1", {}, pgorm::data_format::text, 1s);  // prepared and cached
  expect_deadline_holds_on_a_black_hole(proxy, c, "select 1");
}

TEST_F(proxy_fault, a_query_deadline_holds_on_a_black_holed_link_for_a_new_statement) {
  tcp_proxy proxy{pg().port()};
  pgorm::connection c{via(proxy, "blackhole_new")};
  expect_deadline_holds_on_a_black_hole(proxy, c, "select 2");
}

TEST_F(proxy_fault, a_query_deadline_holds_on_a_black_holed_link_without_prepare) {
  tcp_proxy proxy{pg().port()};
  pgorm::connection c{via(proxy, "blackhole_unnamed"), {.prepare = false}};
  expect_deadline_holds_on_a_black_hole(proxy, c, "select 3");
}

TEST_F(proxy_fault, the_health_check_of_an_idle_connection_holds_its_deadline_on_a_black_hole) {
  tcp_proxy proxy{pg().port()};
  std::string app_name;
  pgorm::pool db{via(proxy, "health", &app_name),
                 {.max_size = 1, .acquire_timeout = 500ms, .health_check_after = 0ms}};
  EXPECT_EQ(db.exec("select 1", {}).value(0, 0), "1");
  proxy.set_mode(tcp_proxy::mode::stall);
  const auto start = clock_type::now();
  auto done = std::async(std::launch::async, [&]() -> std::string {
    try {
      auto l = db.acquire();
      return "acquired";
    } catch (const pgorm::pool_timeout& e) {
      return e.reason() == pgorm::pool_timeout_reason::unreachable ? "unreachable" : "exhausted";
    }
  });
  const bool bounded = done.wait_for(3s) == std::future_status::ready;
  EXPECT_TRUE(bounded) << "acquire hung in the health check of a black-holed connection";
  if (!bounded) proxy.set_mode(tcp_proxy::mode::reset);
  EXPECT_EQ(done.get(), "unreachable");
  EXPECT_LE(ms_since(start), 3000);
  EXPECT_EQ(db.stats().total_closed, 1U);  // the dead one was dropped
  proxy.set_mode(tcp_proxy::mode::pass);
  EXPECT_EQ(db.exec("select 1", {}).value(0, 0), "1");
  expect_pool_matches_backends(db, app_name, pg().conninfo());
}

TEST_F(proxy_fault, discard_all_holds_its_deadline_on_a_black_hole) {
  tcp_proxy proxy{pg().port()};
  pgorm::connection c{via(proxy, "discard")};
  EXPECT_EQ(c.exec("select 1").value(0, 0), "1");
  proxy.set_mode(tcp_proxy::mode::stall);
  const auto start = clock_type::now();
  auto done = std::async(std::launch::async, [&]() -> std::string {
    try {
      c.discard_all(300ms);
      return "returned";
    } catch (const pgorm::connection_error& e) {
      return e.what();
    }
  });
  const bool bounded = done.wait_for(3s) == std::future_status::ready;
  EXPECT_TRUE(bounded) << "discard_all(300ms) hung on a black-holed link";
  if (!bounded) proxy.set_mode(tcp_proxy::mode::reset);
  EXPECT_THAT(done.get(), HasSubstr("did not finish within its 300 ms deadline"));
  EXPECT_LE(ms_since(start), 3000);
  EXPECT_FALSE(c.is_open()) << "the connection is closed, not left mid-statement";
  proxy.set_mode(tcp_proxy::mode::pass);
}

TEST_F(proxy_fault, releasing_a_lease_on_a_black_hole_is_bounded_by_reset_timeout) {
  tcp_proxy proxy{pg().port()};
  std::string app_name;
  pgorm::pool db{via(proxy, "reset", &app_name),
                 {.max_size = 1, .acquire_timeout = 2s, .reset_timeout = 300ms}};
  std::optional<pgorm::lease> l = db.acquire();
  EXPECT_EQ((*l)->exec("select 1").value(0, 0), "1");
  proxy.set_mode(tcp_proxy::mode::stall);
  const auto start = clock_type::now();
  auto done = std::async(std::launch::async, [&] { l.reset(); });  // the reset runs here
  const bool bounded = done.wait_for(3s) == std::future_status::ready;
  EXPECT_TRUE(bounded) << "releasing a lease hung in DISCARD ALL on a black-holed link";
  if (!bounded) proxy.set_mode(tcp_proxy::mode::reset);
  done.get();
  EXPECT_LE(ms_since(start), 3000);
  EXPECT_EQ(db.stats().total_closed, 1U) << "the connection whose reset failed is dropped";
  proxy.set_mode(tcp_proxy::mode::pass);
  EXPECT_EQ(db.exec("select 1", {}).value(0, 0), "1");
  expect_pool_matches_backends(db, app_name, pg().conninfo());
}

// ---- transactions: the link cut as COMMIT goes out -------------------------------------------

TEST_F(proxy_fault, a_link_cut_before_commit_arrives_is_commit_outcome_unknown_and_not_committed) {
  tcp_proxy proxy{pg().port()};
  pgorm::connection c{via(proxy, "commit_before")};
  proxy.cut_when("COMMIT", tcp_proxy::cut::before_forwarding);
  try {
    c.transaction(
        [](pgorm::transaction& tx) { tx.exec("insert into ledger (id, note) values (1, 'one')"); });
    FAIL() << "the transaction reported success";
  } catch (const pgorm::commit_outcome_unknown& e) {
    EXPECT_THAT(e.what(), HasSubstr("unknown"));
    EXPECT_TRUE(e.poisons_connection());
  } catch (const std::exception& e) {
    ADD_FAILURE() << "expected commit_outcome_unknown, got " << typeid(e).name() << ": "
                  << e.what();
  }
  EXPECT_TRUE(proxy.cut_fired());
  EXPECT_FALSE(c.is_open());
  // The server never saw COMMIT: its backend aborts the transaction.
  EXPECT_TRUE(eventually([&] { return ledger_rows() == 0; }));
}

TEST_F(proxy_fault, a_link_cut_after_commit_arrives_is_commit_outcome_unknown_yet_committed) {
  tcp_proxy proxy{pg().port()};
  std::string app_name;
  pgorm::pool db{via(proxy, "commit_after", &app_name), {.max_size = 1}};
  proxy.cut_when("COMMIT", tcp_proxy::cut::after_forwarding);
  try {
    db.transaction(
        [](pgorm::transaction& tx) { tx.exec("insert into ledger (id, note) values (2, 'two')"); });
    FAIL() << "the transaction reported success";
  } catch (const pgorm::commit_outcome_unknown& e) {
    EXPECT_THAT(e.what(), HasSubstr("unknown"));
  } catch (const std::exception& e) {
    ADD_FAILURE() << "expected commit_outcome_unknown, got " << typeid(e).name() << ": "
                  << e.what();
  }
  EXPECT_TRUE(proxy.cut_fired());
  // The server did commit: this is why the outcome is "unknown", never "rolled back".
  EXPECT_EQ(ledger_rows(), 1);
  const auto s = db.stats();
  EXPECT_EQ(s.idle, 0U);  // the connection was destroyed, not pooled
  EXPECT_EQ(s.total_closed, 1U);
  EXPECT_EQ(db.exec("select count(*) from ledger", {}).value(0, 0), "1");
  expect_pool_matches_backends(db, app_name, pg().conninfo());
}

}  // namespace
