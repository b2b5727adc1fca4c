// SPDX-License-Identifier: MIT
// Transactions and sessions under faults (docs/reliability.md, "Transactions under faults"): an
// exception inside a transaction scope, session state (search_path, role, statement_timeout)
// that must never reach the next borrower, recovery from an error through a savepoint, a
// session ended during COMMIT, and the transaction's deadlines (its timeout, COMMIT, the
// rollback) on a black-holed link. The link cut at COMMIT is in proxy_fault_test.cpp. Every
// scenario ends with the leak check.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <future>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <typeinfo>

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "fault/support/leak_check.hpp"
#include "fault/support/tcp_proxy.hpp"
#include "pgorm/connection.hpp"
#include "pgorm/error.hpp"
#include "pgorm/pool.hpp"
#include "pgorm/testing/server.hpp"
#include "pgorm/transaction.hpp"
#include "support/test_database.hpp"

namespace {

using namespace std::chrono_literals;

class tx_fault : public pgorm::fault::fault_test {
 protected:
  void SetUp() override {
    fault_test::SetUp();
    conn().exec("create table ledger (id int primary key, note text not null)");
  }
  int rows() {
    return std::stoi(std::string(conn().exec("select count(*) from ledger").value(0, 0)));
  }
};

std::string one_value(pgorm::connection& c, const std::string& sql) {
  return std::string(c.exec(sql).get(0, 0).value_or("<null>"));
}

TEST_F(tx_fault, an_exception_inside_a_transaction_rolls_back_and_keeps_the_connection) {
  std::string app;
  pgorm::pool db{pool_conninfo("tx_throw", &app), {.max_size = 1}};
  const int pid = db.with_connection([](pgorm::connection& c) { return c.backend_pid(); });
  EXPECT_THROW(db.transaction([](pgorm::transaction& tx) {
    tx.exec("insert into ledger values (1, 'a')");
    tx.exec("insert into ledger values (2, 'b')");
    throw std::runtime_error("application failure");
  }),
               std::runtime_error);
  EXPECT_EQ(rows(), 0);  // nothing half-written
  // The connection came back idle and is reused.
  EXPECT_EQ(db.with_connection([](pgorm::connection& c) {
    EXPECT_EQ(c.status(), pgorm::transaction_status::idle);
    return c.backend_pid();
  }),
            pid);
  // On a plain connection too.
  pgorm::connection c = connect();
  EXPECT_THROW(c.transaction([](pgorm::transaction& tx) {
    tx.exec("insert into ledger values (3, 'c')");
    throw std::logic_error("bug");
  }),
               std::logic_error);
  EXPECT_EQ(c.status(), pgorm::transaction_status::idle);
  EXPECT_EQ(rows(), 0);
  expect_pool_matches_backends(db, app);
}

TEST_F(tx_fault, session_state_never_reaches_the_next_borrower) {
  const std::string role = pgorm::test::unique_name("fault_role");
  conn().exec("create role " + role);
  conn().exec("grant usage on schema " + schema() + " to " + role);
  std::string app;
  {
    pgorm::pool db{pool_conninfo("session", &app), {.max_size = 1}};
    const std::string path{db.exec("show search_path", {}).value(0, 0)};
    const std::string user = one_value(*db.acquire(), "select current_user");
    {
      auto l = db.acquire();
      l->exec("set search_path = pg_catalog");
      l->exec("set role " + role);
      l->exec("set statement_timeout = '1234ms'");
      l->exec("set application_name = 'hijacked'");
      EXPECT_EQ(one_value(*l, "select current_user"), role);
    }
    {
      auto l = db.acquire();
      EXPECT_EQ(one_value(*l, "show search_path"), path);
      EXPECT_EQ(one_value(*l, "select current_user"), user);
      EXPECT_EQ(one_value(*l, "show statement_timeout"), "0");
      EXPECT_EQ(one_value(*l, "show application_name"), app);
    }
    // The same through a pool query (a SET is a session-changing statement) and with_connection.
    db.exec("set role " + role, {});
    EXPECT_EQ(db.exec("select current_user", {}).value(0, 0), user);
    db.with_connection([&](pgorm::connection& c) { c.exec("set statement_timeout = '5s'"); });
    EXPECT_EQ(db.exec("show statement_timeout", {}).value(0, 0), "0");
    // A SET LOCAL inside a transaction ends with it.
    db.transaction([&](pgorm::transaction& tx) { tx.exec("set local role " + role); });
    EXPECT_EQ(db.exec("select current_user", {}).value(0, 0), user);
    expect_pool_matches_backends(db, app);
  }
  conn().exec("revoke usage on schema " + schema() + " from " + role);
  expect_no_leak();
  conn().exec("drop role " + role);
}

TEST_F(tx_fault, an_error_inside_a_transaction_is_recovered_through_a_savepoint) {
  std::string app;
  pgorm::pool db{pool_conninfo("savepoint", &app), {.max_size = 1}};
  db.transaction([](pgorm::transaction& tx) {
    tx.exec("insert into ledger values (1, 'kept')");
    try {
      tx.savepoint([](pgorm::transaction& sp) {
        sp.exec("insert into ledger values (2, 'rolled back')");
        sp.exec("insert into ledger values (1, 'duplicate')");  // 23505
      });
      ADD_FAILURE() << "the duplicate was accepted";
    } catch (const pgorm::unique_violation& e) {
      EXPECT_EQ(e.constraint(), "ledger_pkey");
    }
    EXPECT_EQ(tx.conn().status(), pgorm::transaction_status::in_transaction);
    tx.exec("insert into ledger values (3, 'after recovery')");
  });
  EXPECT_EQ(one_value(conn(), "select string_agg(id::text, ',' order by id) from ledger"), "1,3");
  // Without a savepoint the error dooms the transaction: the commit is refused, nothing is
  // written, and the connection is usable afterwards.
  EXPECT_THROW(db.transaction([](pgorm::transaction& tx) {
    tx.exec("insert into ledger values (4, 'doomed')");
    try {
      tx.exec("insert into ledger values (1, 'duplicate')");
    } catch (const pgorm::unique_violation&) {
    }
  }),
               pgorm::usage_error);
  EXPECT_EQ(rows(), 2);
  EXPECT_EQ(db.exec("select 1", {}).value(0, 0), "1");
  expect_pool_matches_backends(db, app);
}

// A deferred constraint trigger makes COMMIT itself wait (pg_sleep in the trigger, run at
// COMMIT); the admin connection terminates the backend exactly then. The server answers the
// COMMIT with FATAL 57P01 and closes the session: pgorm cannot know whether the commit
// happened (a terminated commit may already be durable, e.g. while waiting for a synchronous
// standby), so it says commit_outcome_unknown, not a definite sql_error.
TEST_F(tx_fault, a_fatal_error_during_commit_is_commit_outcome_unknown) {
  conn().exec(
      "create function ledger_slow_commit() returns trigger language plpgsql as "
      "$$ begin perform pg_sleep(60); return null; end $$");
  conn().exec(
      "create constraint trigger ledger_slow_commit after insert on ledger deferrable initially "
      "deferred for each row execute function ledger_slow_commit()");
  pgorm::connection victim = connect();
  const int pid = victim.backend_pid();
  std::atomic<bool> terminated{false};
  std::thread admin([&] {
    try {
      pgorm::connection a = connect();
      const std::string pid_text = std::to_string(pid);  // outlives the param that views it
      const pgorm::param p = pgorm::param::text(pid_text);
      // Wait (generously) until the victim sleeps inside COMMIT, then terminate it.
      const auto give_up = std::chrono::steady_clock::now() + 30s;
      while (std::chrono::steady_clock::now() < give_up) {
        const auto r = a.exec(
            "select count(*) from pg_stat_activity where pid = $1::int and wait_event = "
            "'PgSleep' and query ilike 'commit%'",
            {p});
        if (r.value(0, 0) == "1") {
          a.exec("select pg_terminate_backend($1::int)", {p});
          terminated = true;
          return;
        }
        std::this_thread::sleep_for(20ms);
      }
    } catch (const std::exception& e) {
      ADD_FAILURE() << "the admin connection failed: " << e.what();
    }
  });
  const auto start = std::chrono::steady_clock::now();
  try {
    victim.transaction(
        [](pgorm::transaction& tx) { tx.exec("insert into ledger values (1, 'maybe')"); });
    ADD_FAILURE() << "the COMMIT succeeded";
  } catch (const pgorm::commit_outcome_unknown& e) {
    EXPECT_NE(std::string(e.what()).find("unknown"), std::string::npos) << e.what();
  } catch (const std::exception& e) {
    ADD_FAILURE() << "expected commit_outcome_unknown, got " << typeid(e).name() << ": "
                  << e.what();
  }
  admin.join();
  EXPECT_TRUE(terminated.load());
  EXPECT_LT(std::chrono::steady_clock::now() - start,
            45s);  // ended by the terminate, not the sleep
  EXPECT_FALSE(victim.is_open());
  EXPECT_EQ(rows(), 0);  // here it was in fact rolled back: the trigger never finished
}

// A COMMIT the server refuses for a reason of the transaction's own (a deferred unique
// constraint) is a definite failure: the typed sql_error, the connection usable afterwards.
TEST_F(tx_fault, a_commit_refused_by_a_deferred_constraint_stays_a_typed_error) {
  conn().exec(
      "create table once (k int, constraint once_k unique (k) deferrable initially deferred)");
  pgorm::connection c = connect();
  try {
    c.transaction([](pgorm::transaction& tx) {
      tx.exec("insert into once values (1)");
      tx.exec("insert into once values (1)");  // checked at COMMIT
      tx.exec("insert into ledger values (1, 'with it')");
    });
    ADD_FAILURE() << "the COMMIT succeeded";
  } catch (const pgorm::commit_outcome_unknown& e) {
    ADD_FAILURE() << "a definite refusal was reported as unknown: " << e.what();
  } catch (const pgorm::unique_violation& e) {
    EXPECT_EQ(e.constraint(), "once_k");
  }
  EXPECT_TRUE(c.is_open());
  EXPECT_EQ(c.status(), pgorm::transaction_status::idle);
  EXPECT_EQ(rows(), 0);
  EXPECT_EQ(one_value(c, "select 1"), "1");
}

// ---- deadlines of a transaction on a black-holed link -----------------------------------------
// Through an in-process TCP proxy (support/tcp_proxy.hpp) in front of a TCP server of the
// suite's own: `stall` black-holes the link (the cancel request too), as a partitioned network
// does. Each call runs in a thread with a watchdog: a hang fails the test instead of the run,
// and resetting the proxy's links unblocks it.

class tx_link_fault : public pgorm::fault::fault_test {
 protected:
  static void SetUpTestSuite() {
    // A backend whose client vanished while it waits notices it within 50 ms (PostgreSQL 14+),
    // so the leak check sees it gone.
    pg_ = std::make_unique<pgorm::testing::any_server>(pgorm::testing::server_options{
        .tcp = true, .settings = {{"client_connection_check_interval", "'50ms'"}}});
    pgorm::connection admin{pg_->conninfo()};
    admin.exec("create table if not exists tx_ledger (id int primary key)");
  }
  static void TearDownTestSuite() { pg_.reset(); }
  static std::uint16_t pg_port() { return pg_->port(); }
  void SetUp() override {
    fault_test::SetUp();
    admin_.emplace(pg_->conninfo());
    admin_->exec("truncate tx_ledger");
  }
  void TearDown() override {
    admin_.reset();
    fault_test::TearDown();
  }
  std::string via(const pgorm::fault::tcp_proxy& proxy, std::string_view hint) {
    return fmt::format("host=127.0.0.1 port={} user=postgres dbname=postgres application_name={}",
                       proxy.port(), app(hint, pg_->conninfo()));
  }
  int ledger_rows() {
    return std::stoi(std::string(admin_->exec("select count(*) from tx_ledger").value(0, 0)));
  }
  // Runs `call` with a watchdog of `limit`; returns the type and text of what it threw.
  static std::string bounded(pgorm::fault::tcp_proxy& proxy, std::chrono::milliseconds limit,
                             const std::function<void()>& call, std::chrono::milliseconds* took) {
    const auto start = std::chrono::steady_clock::now();
    auto done = std::async(std::launch::async, [&]() -> std::string {
      try {
        call();
        return "returned";
      } catch (const std::exception& e) {
        return std::string(typeid(e).name()) + ": " + e.what();
      }
    });
    const bool in_time = done.wait_for(limit) == std::future_status::ready;
    EXPECT_TRUE(in_time) << "the call has not returned after " << limit.count() << " ms";
    if (!in_time) proxy.set_mode(pgorm::fault::tcp_proxy::mode::reset);  // unblocks it
    std::string outcome = done.get();
    *took = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                                  start);
    return outcome;
  }

 private:
  static inline std::unique_ptr<pgorm::testing::any_server> pg_;
  std::optional<pgorm::connection> admin_;
};

struct app_failure : std::runtime_error {
  using std::runtime_error::runtime_error;
};

TEST_F(tx_link_fault, the_transaction_timeout_holds_on_a_black_holed_link) {
  using pgorm::fault::tcp_proxy;
  tcp_proxy proxy{pg_port()};
  pgorm::connection c{via(proxy, "tx_budget")};
  std::chrono::milliseconds took{};
  bool threw_connection_error = false;
  const std::string outcome = bounded(
      proxy, 10s,
      [&] {
        try {
          c.transaction(
              [&](pgorm::transaction& tx) {
                tx.exec("insert into tx_ledger values (1)");
                proxy.set_mode(tcp_proxy::mode::stall);
                tx.exec("insert into tx_ledger values (2)");
              },
              {.timeout = 500ms});
        } catch (const pgorm::connection_error&) {
          threw_connection_error = true;
          throw;
        }
      },
      &took);
  EXPECT_TRUE(threw_connection_error) << outcome;
  EXPECT_LT(took, 5s) << outcome;  // a 500 ms budget (+ the cancel grace), generously
  EXPECT_FALSE(c.is_open());
  proxy.set_mode(tcp_proxy::mode::drop);  // the server's side of the link ends too
  EXPECT_TRUE(pgorm::fault::eventually([&] { return ledger_rows() == 0; }));
}

TEST_F(tx_link_fault, a_commit_on_a_black_holed_link_is_commit_outcome_unknown_within_the_timeout) {
  using pgorm::fault::tcp_proxy;
  tcp_proxy proxy{pg_port()};
  pgorm::connection c{via(proxy, "tx_commit")};
  std::chrono::milliseconds took{};
  bool unknown = false;
  const std::string outcome = bounded(
      proxy, 10s,
      [&] {
        try {
          c.transaction(
              [&](pgorm::transaction& tx) {
                tx.exec("insert into tx_ledger values (1)");
                proxy.set_mode(tcp_proxy::mode::stall);
              },
              {.timeout = 500ms});
        } catch (const pgorm::commit_outcome_unknown&) {
          unknown = true;
          throw;
        }
      },
      &took);
  EXPECT_TRUE(unknown) << outcome;
  EXPECT_LT(took, 5s) << outcome;
  EXPECT_FALSE(c.is_open());
  proxy.set_mode(tcp_proxy::mode::drop);
  EXPECT_TRUE(pgorm::fault::eventually([&] { return ledger_rows() == 0; }));
}

// The rollback after an exception has a bound of its own (2 s), with or without a transaction
// timeout: past it the connection is closed, and the application's exception propagates.
TEST_F(tx_link_fault, the_rollback_after_an_exception_is_bounded_and_then_closes) {
  using pgorm::fault::tcp_proxy;
  tcp_proxy proxy{pg_port()};
  pgorm::connection c{via(proxy, "tx_rollback")};
  std::chrono::milliseconds took{};
  bool propagated = false;
  const std::string outcome = bounded(
      proxy, 15s,
      [&] {
        try {
          c.transaction([&](pgorm::transaction& tx) {
            tx.exec("insert into tx_ledger values (1)");
            proxy.set_mode(tcp_proxy::mode::stall);
            throw app_failure("the application gave up");
          });
        } catch (const app_failure&) {
          propagated = true;
          throw;
        }
      },
      &took);
  EXPECT_TRUE(propagated) << outcome;
  EXPECT_LT(took, 8s) << outcome;  // 2 s for ROLLBACK (+ the cancel grace), generously
  EXPECT_FALSE(c.is_open());       // closed rather than left in an unknown state
  proxy.set_mode(tcp_proxy::mode::drop);
  EXPECT_TRUE(pgorm::fault::eventually([&] { return ledger_rows() == 0; }));
}

}  // namespace
