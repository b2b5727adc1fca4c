// SPDX-License-Identifier: MIT
// pgorm::cluster against real streaming replication: one primary and one hot standby started
// with pgorm::testing for this file (the run's fixture server is not touched). Writes,
// transactions and locking reads go to the primary; read() goes to the replica; a stopped
// replica sends reads to the primary (or raises no_replica_available); a session reads its own
// writes; the replica's lag reaches the observer.
#include "pgorm/cluster.hpp"

#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "pgorm/observer.hpp"
#include "pgorm/pgorm.hpp"
#include "pgorm/query/functions.hpp"
#include "pgorm/testing/replica.hpp"
#include "pgorm/testing/server.hpp"
#include "support/schema.hpp"

namespace {

using namespace std::chrono_literals;
using pgorm::col;
using pgorm::testing::server;
using qt::User;
using ::testing::HasSubstr;

// Records every replica event.
struct replica_log : pgorm::observer {
  void on_replica_event(const pgorm::replica_event& e) override {
    std::lock_guard lock(mu);
    events.push_back({e.kind, std::string(e.server), std::string(e.detail), e.lag_bytes, e.lag});
  }
  struct entry {
    pgorm::replica_event_kind kind;
    std::string server, detail;
    std::int64_t lag_bytes;
    std::chrono::milliseconds lag;
  };
  std::vector<entry> snapshot() {
    std::lock_guard lock(mu);
    return events;
  }
  std::mutex mu;
  std::vector<entry> events;
};

std::string one(pgorm::result r) { return std::string(r.value(0, 0)); }

// Where a read ran: "t" on the standby, "f" on the primary.
std::string where(pgorm::replica_reader& r) {
  return one(r.exec("select pg_is_in_recovery()", {}));
}

class cluster_test : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    primary_ = std::make_unique<server>();
    standby_ = std::make_unique<server>(pgorm::testing::start_replica(*primary_));
    pgorm::connection p{primary_->conninfo()};
    p.exec(std::string(qt::ddl));
    pgorm::testing::wait_for_replay(*primary_, *standby_, 30s);
  }
  static void TearDownTestSuite() {
    standby_.reset();
    primary_.reset();
  }
  void SetUp() override {
    if (!standby_->running()) standby_->start();
    pgorm::connection r{standby_->conninfo()};
    r.exec("select pg_wal_replay_resume()");
    pgorm::connection p{primary_->conninfo()};
    p.exec(R"(truncate "user" restart identity cascade)");
    pgorm::testing::wait_for_replay(*primary_, *standby_, 30s);
  }

  // A cluster that checks only when asked (hourly), so a test sees what one read does.
  static pgorm::cluster_options quiet(std::shared_ptr<pgorm::observer> events = nullptr) {
    pgorm::cluster_options o;
    o.primary.max_size = 4;
    o.primary.connection.events = std::move(events);
    o.replicas.max_size = 4;
    o.replicas.connection.connect_timeout = 2s;
    o.health_check_interval = std::chrono::hours(1);
    o.health_check_timeout = 2s;
    return o;
  }

  static void insert_user(pgorm::cluster_session& s, const std::string& email) {
    s.exec("insert into \"user\" (email, age, \"isEmailVerified\") values ($1, 30, true)",
           {pgorm::param::text(email)});
  }

  static std::unique_ptr<server> primary_;
  static std::unique_ptr<server> standby_;
};

std::unique_ptr<server> cluster_test::primary_;
std::unique_ptr<server> cluster_test::standby_;

TEST_F(cluster_test, a_row_written_on_the_primary_is_read_from_the_replica) {
  pgorm::cluster db{primary_->conninfo(), {standby_->conninfo()}, quiet()};
  ASSERT_EQ(db.replicas().size(), 1U);
  EXPECT_TRUE(db.replicas()[0].up) << db.replicas()[0].last_error;

  // The cluster itself is the primary.
  EXPECT_EQ(one(db.exec("select pg_is_in_recovery()", {})), "f");
  db.exec("insert into \"user\" (email, age, \"isEmailVerified\") values ('ada@x', 36, true)", {});
  pgorm::testing::wait_for_replay(*primary_, *standby_, 30s);

  // read() is the replica, and builders run on it.
  EXPECT_EQ(where(db.read()), "t");
  const std::vector<User> users = db.read().select<User>().order_by(col<&User::id>).all();
  ASSERT_EQ(users.size(), 1U);
  EXPECT_EQ(users[0].email, "ada@x");
  EXPECT_EQ(db.read().find<User>(std::int64_t{1})->email, "ada@x");

  // A locking read through read() goes to the primary: a standby refuses FOR UPDATE (25006).
  EXPECT_EQ(db.read().select<User>().for_update().all().size(), 1U);
  // So does a write sent through read() by mistake.
  db.read().exec("update \"user\" set age = 37 where id = 1", {});
  // Transactions run on the primary.
  db.transaction([](pgorm::transaction& tx) {
    EXPECT_EQ(std::string(tx.exec("select pg_is_in_recovery()").value(0, 0)), "f");
  });
  // The replica really refuses a locking read, so the routing above is what made it work.
  pgorm::connection r{standby_->conninfo()};
  try {
    r.exec("select * from \"user\" for update");
    FAIL() << "the standby ran SELECT ... FOR UPDATE";
  } catch (const pgorm::sql_error& e) {
    EXPECT_EQ(e.sqlstate(), "25006") << e.what();
  }
}

// A select that calls a function which may write (pgorm::fn<> of a name not known to be
// read-only) is not a read: read() sends it to the primary, where the function's insert works;
// the standby would refuse it (25006). fn_reads<> declares a function that only reads.
TEST_F(cluster_test, a_select_calling_a_function_that_writes_goes_to_the_primary) {
  pgorm::connection p{primary_->conninfo()};
  p.exec(R"(create schema if not exists app;
            create table if not exists app.touched (user_id bigint not null);
            create or replace function app.touch(id bigint) returns bigint language sql as
              'insert into app.touched values (id) returning id')");
  p.exec("truncate app.touched");
  p.exec("insert into \"user\" (email, age, \"isEmailVerified\") values ('ada@x', 36, true)");
  pgorm::testing::wait_for_replay(*primary_, *standby_, 30s);
  pgorm::cluster db{primary_->conninfo(), {standby_->conninfo()}, quiet()};
  ASSERT_TRUE(db.replicas()[0].up) << db.replicas()[0].last_error;

  const auto touched =
      db.read().select(pgorm::fn<"app.touch", std::int64_t>(col<&User::id>)).from<User>().all();
  ASSERT_EQ(touched.size(), 1U);
  EXPECT_EQ(std::get<0>(touched[0]), 1);
  EXPECT_EQ(std::string(p.exec("select count(*) from app.touched").value(0, 0)), "1");

  // The same function name decides where a select runs: declared read-only, the replica.
  const auto may_write = pgorm::fn<"pg_is_in_recovery", bool>();
  const auto reads = pgorm::fn_reads<"pg_is_in_recovery", bool>();
  EXPECT_FALSE(std::get<0>(db.read().select(may_write).from<User>().one()));
  EXPECT_TRUE(std::get<0>(db.read().select(reads).from<User>().one()));
  // The replica really refuses the function's insert, so the routing above is what made it work.
  pgorm::connection r{standby_->conninfo()};
  try {
    r.exec("select app.touch(1)");
    FAIL() << "the standby ran app.touch()";
  } catch (const pgorm::sql_error& e) {
    EXPECT_EQ(e.sqlstate(), "25006") << e.what();
  }
}

TEST_F(cluster_test, a_read_goes_to_the_primary_while_the_replica_is_stopped) {
  auto log = std::make_shared<replica_log>();
  pgorm::cluster db{primary_->conninfo(), {standby_->conninfo()}, quiet(log)};
  EXPECT_EQ(where(db.read()), "t");

  standby_->stop();
  // No health check ran since: the read itself finds the replica gone and goes to the primary.
  EXPECT_EQ(where(db.read()), "f");
  const auto status = db.replicas();
  EXPECT_FALSE(status[0].up);
  EXPECT_FALSE(status[0].last_error.empty());
  const auto events = log->snapshot();
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events.back().kind, pgorm::replica_event_kind::down);
  EXPECT_EQ(events.back().server, status[0].server);
  EXPECT_FALSE(events.back().detail.empty());
  // Builders too.
  EXPECT_EQ(db.read().select<User>().all().size(), 0U);

  // Back up: the next check puts it back into rotation.
  standby_->start();
  db.check_replicas();
  EXPECT_TRUE(db.replicas()[0].up) << db.replicas()[0].last_error;
  EXPECT_EQ(where(db.read()), "t");
  EXPECT_EQ(log->snapshot().back().kind, pgorm::replica_event_kind::lag);
}

TEST_F(cluster_test, without_fallback_a_read_with_no_replica_up_raises_no_replica_available) {
  auto o = quiet();
  o.fallback_to_primary = false;
  pgorm::cluster db{primary_->conninfo(), {standby_->conninfo()}, o};
  EXPECT_EQ(where(db.read()), "t");

  standby_->stop();
  const auto started = std::chrono::steady_clock::now();
  try {
    (void)db.read().exec("select 1", {});
    FAIL() << "a read ran with the only replica stopped and no fallback";
  } catch (const pgorm::no_replica_available& e) {
    EXPECT_THAT(e.what(), HasSubstr("fallback_to_primary is off"));
    EXPECT_THAT(e.what(), HasSubstr("1 configured"));
  }
  // Now known down: refused at once, builders included; writes still go to the primary.
  EXPECT_THROW((void)db.read().select<User>().all(), pgorm::no_replica_available);
  EXPECT_EQ(one(db.exec("select pg_is_in_recovery()", {})), "f");
  EXPECT_LT(std::chrono::steady_clock::now() - started, 20s);  // generous: no long waits

  // A cluster created while the replica is down knows it from its first check.
  pgorm::cluster later{primary_->conninfo(), {standby_->conninfo()}, o};
  EXPECT_FALSE(later.replicas()[0].up);
  EXPECT_THROW((void)later.read().exec("select 1", {}), pgorm::no_replica_available);
}

TEST_F(cluster_test, a_session_reads_its_own_writes_from_the_primary) {
  auto o = quiet();
  o.read_your_writes = 60s;  // generous: the test must not depend on the machine's speed
  pgorm::cluster db{primary_->conninfo(), {standby_->conninfo()}, o};
  // Replay paused: the replica serves a stale snapshot until it resumes.
  pgorm::connection r{standby_->conninfo()};
  r.exec("select pg_wal_replay_pause()");

  pgorm::cluster_session s{db};
  EXPECT_FALSE(s.reads_on_primary());
  EXPECT_EQ(where(s.read()), "t");  // no write yet: reads go to the replica
  insert_user(s, "mine@x");
  EXPECT_TRUE(s.reads_on_primary());
  // The session sees its row; a read outside the session, on the paused replica, does not.
  const auto mine = s.read().select<User>().where(col<&User::email> == "mine@x").all();
  ASSERT_EQ(mine.size(), 1U);
  EXPECT_TRUE(db.read().select<User>().where(col<&User::email> == "mine@x").all().empty());
  // Another session, with no write of its own, reads from the replica.
  pgorm::cluster_session other{db};
  EXPECT_EQ(where(other.read()), "t");
  // A transaction starts the window too, as does a write sent through the session's read().
  pgorm::cluster_session tx_session{db};
  tx_session.transaction([](pgorm::transaction&) {});
  EXPECT_TRUE(tx_session.reads_on_primary());
  pgorm::cluster_session read_write{db};
  read_write.read().exec("update \"user\" set age = 31 where email = 'mine@x'", {});
  EXPECT_TRUE(read_write.reads_on_primary());
  EXPECT_EQ(where(read_write.read()), "f");
  r.exec("select pg_wal_replay_resume()");
}

TEST_F(cluster_test, the_window_ends_and_reads_go_back_to_the_replica) {
  auto o = quiet();
  o.read_your_writes = 100ms;
  pgorm::cluster db{primary_->conninfo(), {standby_->conninfo()}, o};
  pgorm::cluster_session s{db};
  insert_user(s, "w@x");
  // A plain read through the session does not start a window of its own.
  pgorm::cluster_session reader{db};
  (void)reader.select<User>().all();
  EXPECT_FALSE(reader.reads_on_primary());
  std::this_thread::sleep_for(300ms);
  EXPECT_FALSE(s.reads_on_primary());
  EXPECT_EQ(where(s.read()), "t");
}

TEST_F(cluster_test, replication_lag_reaches_the_observer) {
  auto log = std::make_shared<replica_log>();
  auto o = quiet(log);
  o.max_replica_lag = 50ms;
  pgorm::cluster db{primary_->conninfo(), {standby_->conninfo()}, o};
  // The constructor's check: up, then caught up.
  auto events = log->snapshot();
  ASSERT_GE(events.size(), 2U);
  EXPECT_EQ(events[0].kind, pgorm::replica_event_kind::up);
  EXPECT_EQ(events[1].kind, pgorm::replica_event_kind::lag);
  EXPECT_EQ(events[1].lag_bytes, 0);

  pgorm::connection r{standby_->conninfo()};
  r.exec("select pg_wal_replay_pause()");
  db.exec("insert into \"user\" (email, age, \"isEmailVerified\") values ('lag@x', 1, true)", {});
  std::this_thread::sleep_for(200ms);  // the replica's last replayed commit ages
  db.check_replicas();
  events = log->snapshot();
  ASSERT_EQ(events.back().kind, pgorm::replica_event_kind::lag);
  EXPECT_GT(events.back().lag_bytes, 0);
  EXPECT_GE(events.back().lag, 200ms);
  // Beyond max_replica_lag: no reads go to it.
  EXPECT_FALSE(db.replicas()[0].up);
  EXPECT_THAT(db.replicas()[0].last_error, HasSubstr("max_replica_lag"));
  EXPECT_EQ(where(db.read()), "f");

  r.exec("select pg_wal_replay_resume()");
  pgorm::testing::wait_for_replay(*primary_, *standby_, 30s);
  db.check_replicas();
  EXPECT_EQ(log->snapshot().back().lag_bytes, 0);
  EXPECT_EQ(log->snapshot().back().lag, 0ms);
  EXPECT_TRUE(db.replicas()[0].up);
  EXPECT_EQ(where(db.read()), "t");
}

TEST_F(cluster_test, reads_go_on_on_the_replica_while_the_primary_is_down) {
  auto log = std::make_shared<replica_log>();
  auto o = quiet(log);
  o.max_replica_lag = 50ms;
  pgorm::cluster db{primary_->conninfo(), {standby_->conninfo()}, o};
  primary_->stop();
  std::this_thread::sleep_for(200ms);
  db.check_replicas();
  // The lag cannot be measured without the primary: unknown (-1 bytes), and max_replica_lag
  // does not take the replica out of rotation for it.
  EXPECT_TRUE(db.replicas()[0].up) << db.replicas()[0].last_error;
  EXPECT_EQ(db.replicas()[0].lag_bytes, -1);
  EXPECT_EQ(log->snapshot().back().lag_bytes, -1);
  EXPECT_EQ(where(db.read()), "t");
  EXPECT_THROW((void)db.exec("select 1", {}), pgorm::error);  // writes have nowhere to go
  primary_->start();
}

TEST_F(cluster_test, the_background_check_finds_a_replica_that_came_back) {
  auto log = std::make_shared<replica_log>();
  auto o = quiet(log);
  o.health_check_interval = 100ms;
  pgorm::cluster db{primary_->conninfo(), {standby_->conninfo()}, o};
  standby_->stop();
  // Generous bounds: the 100 ms checks notice within seconds on a busy machine.
  const auto until = [](auto pred) {
    const auto deadline = std::chrono::steady_clock::now() + 20s;
    while (!pred() && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(20ms);
    }
    return pred();
  };
  EXPECT_TRUE(until([&] { return !db.replicas()[0].up; }));
  standby_->start();
  EXPECT_TRUE(until([&] { return db.replicas()[0].up; }));
  bool saw_down = false;
  for (const auto& e : log->snapshot()) {
    saw_down = saw_down || e.kind == pgorm::replica_event_kind::down;
  }
  EXPECT_TRUE(saw_down);
}

}  // namespace
