// SPDX-License-Identifier: MIT
// pgorm::testing::start_replica, wait_for_replay and promote against real streaming
// replication: each test starts its own primary and replica (the run's fixture server is not
// touched).
#include "pgorm/testing/replica.hpp"

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "pgorm/connection.hpp"
#include "pgorm/error.hpp"
#include "pgorm/testing/server.hpp"

namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using pgorm::testing::server;
using pgorm::testing::server_error;
using ::testing::HasSubstr;

std::string one(pgorm::connection& conn, const std::string& sql) {
  return std::string(conn.exec(sql).value(0, 0));
}

TEST(replica, streams_the_primarys_writes_and_is_read_only) {
  server primary;
  auto standby = pgorm::testing::start_replica(primary);
  EXPECT_NE(standby.port(), primary.port());
  EXPECT_NE(standby.dir(), primary.dir());
  EXPECT_TRUE(standby.running());

  pgorm::connection p{primary.conninfo()};
  p.exec("create table t (id int primary key, note text)");
  p.exec("insert into t values (1, 'written on the primary')");
  pgorm::testing::wait_for_replay(primary, standby, 30s);

  pgorm::connection r{standby.conninfo()};
  EXPECT_EQ(one(r, "select pg_is_in_recovery()"), "t");
  EXPECT_EQ(one(r, "select note from t where id = 1"), "written on the primary");
  // A hot standby refuses writes: read_only_sql_transaction (25006).
  try {
    r.exec("insert into t values (2, 'on the standby')");
    FAIL() << "a standby accepted a write";
  } catch (const pgorm::sql_error& e) {
    EXPECT_EQ(e.sqlstate(), "25006") << e.what();
  }
  // The replica streams: its WAL receiver is connected to the primary.
  EXPECT_EQ(one(r, "select status from pg_stat_wal_receiver"), "streaming");
  EXPECT_EQ(one(p, "select count(*) from pg_stat_replication where state = 'streaming'"), "1");
}

TEST(replica, promote_makes_it_writable_after_the_primary_dies) {
  server primary;
  auto standby = pgorm::testing::start_replica(primary);
  {
    pgorm::connection p{primary.conninfo()};
    p.exec("create table t (id int primary key)");
    p.exec("insert into t values (1)");
  }
  pgorm::testing::wait_for_replay(primary, standby, 30s);
  primary.stop(pgorm::testing::shutdown_mode::immediate);

  pgorm::testing::promote(standby, 60s);
  pgorm::connection r{standby.conninfo()};
  EXPECT_EQ(one(r, "select pg_is_in_recovery()"), "f");
  r.exec("insert into t values (2)");
  EXPECT_EQ(one(r, "select count(*) from t"), "2");
  // Promoted: no longer a standby, so there is nothing to wait for.
  primary.start();
  EXPECT_THROW(pgorm::testing::wait_for_replay(primary, standby, 5s), server_error);
}

TEST(replica, wait_for_replay_gives_up_at_its_deadline_while_the_replica_is_cut_off) {
  server primary;
  auto standby = pgorm::testing::start_replica(primary);
  // The standby stays up but its WAL receiver cannot reach the primary: after a restart of
  // the standby with a primary_conninfo naming a closed port, nothing is replayed.
  standby.stop();
  {
    std::ofstream conf(standby.data_dir() / "postgresql.auto.conf", std::ios::app);
    conf << "\nprimary_conninfo = 'host=/nonexistent port=1 user=postgres'\n";
  }
  standby.start();
  {
    pgorm::connection p{primary.conninfo()};
    p.exec("create table t (id int)");
  }
  const auto started = std::chrono::steady_clock::now();
  try {
    pgorm::testing::wait_for_replay(primary, standby, 300ms);
    FAIL() << "wait_for_replay returned although nothing was replayed";
  } catch (const server_error& e) {
    EXPECT_THAT(e.what(), HasSubstr("not yet"));
  }
  // Generous bound: it gave up within 10 s of a 300 ms deadline.
  EXPECT_LT(std::chrono::steady_clock::now() - started, 10s);
}

TEST(replica, a_stopped_replica_restarts_and_catches_up_and_is_deleted_with_its_object) {
  server primary;
  fs::path dir;
  {
    auto standby = pgorm::testing::start_replica(primary);
    dir = standby.dir();
    standby.stop();
    EXPECT_FALSE(standby.running());
    {
      pgorm::connection p{primary.conninfo()};
      p.exec("create table written_while_down (id int)");
    }
    standby.start();
    pgorm::testing::wait_for_replay(primary, standby, 30s);
    pgorm::connection r{standby.conninfo()};
    EXPECT_EQ(one(r, "select count(*) from written_while_down"), "0");
  }
  EXPECT_FALSE(fs::exists(dir));
}

TEST(replica, refuses_a_primary_that_is_not_running) {
  server primary;
  primary.stop();
  try {
    (void)pgorm::testing::start_replica(primary);
    FAIL() << "start_replica accepted a stopped primary";
  } catch (const server_error& e) {
    EXPECT_THAT(e.what(), HasSubstr("not running"));
  }
}

TEST(replica, promote_refuses_a_server_that_is_not_a_standby) {
  server primary;
  EXPECT_THROW(pgorm::testing::promote(primary, 10s), server_error);
}

}  // namespace
