// SPDX-License-Identifier: MIT
// Server notices reach the observer (observer::on_notice): RAISE NOTICE / WARNING with their
// fields, notices of ordinary statements and of a pool's connections, the FATAL message of an
// idle session that is terminated; passwords are masked; without an observer nothing is
// printed; set_observer() redirects them; an observer that throws does not break the statement.
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "pgorm/connection.hpp"
#include "pgorm/observer.hpp"
#include "pgorm/pool.hpp"
#include "support/db_test.hpp"

namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;

struct seen_notice {
  std::string severity, sqlstate, message, detail, hint, server;
};

struct notice_log : pgorm::observer {
  std::mutex mu;
  std::vector<seen_notice> notices;
  void on_notice(const pgorm::notice_event& n) override {
    const std::lock_guard lock(mu);
    notices.push_back({std::string(n.severity), std::string(n.sqlstate), std::string(n.message),
                       std::string(n.detail), std::string(n.hint), std::string(n.server)});
  }
  std::vector<seen_notice> take() {
    const std::lock_guard lock(mu);
    return std::exchange(notices, {});
  }
};

class notice_test : public pgorm::test::db_test {};

TEST_F(notice_test, raise_notice_and_warning_reach_the_observer_with_their_fields) {
  auto log = std::make_shared<notice_log>();
  pgorm::connect_options o = pgorm::test::test_options();
  o.events = log;
  pgorm::connection c{conninfo(), o};
  c.exec(R"(do $$ begin
      raise notice 'hello %', 42;
      raise warning 'careful' using detail = 'the detail', hint = 'the hint', errcode = '01007';
    end $$)");
  const auto got = log->take();
  ASSERT_EQ(got.size(), 2U);
  EXPECT_EQ(got[0].severity, "NOTICE");
  EXPECT_EQ(got[0].sqlstate, "00000");
  EXPECT_EQ(got[0].message, "hello 42");
  EXPECT_EQ(got[0].server, c.description());
  EXPECT_EQ(got[1].severity, "WARNING");
  EXPECT_EQ(got[1].sqlstate, "01007");
  EXPECT_EQ(got[1].message, "careful");
  EXPECT_EQ(got[1].detail, "the detail");
  EXPECT_EQ(got[1].hint, "the hint");

  // A notice of an ordinary statement, through the extended protocol.
  c.exec("drop table if exists no_such_table_here", {});
  const auto drop = log->take();
  ASSERT_EQ(drop.size(), 1U);
  EXPECT_EQ(drop[0].severity, "NOTICE");
  EXPECT_THAT(drop[0].message, HasSubstr("does not exist, skipping"));
}

TEST_F(notice_test, set_observer_redirects_notices_and_none_means_quiet) {
  auto first = std::make_shared<notice_log>();
  auto second = std::make_shared<notice_log>();
  pgorm::connect_options o = pgorm::test::test_options();
  o.events = first;
  pgorm::connection c{conninfo(), o};
  c.exec("do $$ begin raise notice 'one'; end $$");
  c.set_observer(second);
  c.exec("do $$ begin raise notice 'two'; end $$");
  EXPECT_EQ(first->take().size(), 1U);
  auto got = second->take();
  ASSERT_EQ(got.size(), 1U);
  EXPECT_EQ(got[0].message, "two");

  // Moved connections keep delivering to the same observer.
  pgorm::connection moved = std::move(c);
  moved.exec("do $$ begin raise notice 'three'; end $$");
  got = second->take();
  ASSERT_EQ(got.size(), 1U);
  EXPECT_EQ(got[0].message, "three");

  // Without an observer: nothing on stderr (libpq's default would print the notice).
  moved.set_observer(nullptr);
  ::testing::internal::CaptureStderr();
  moved.exec("do $$ begin raise warning 'not printed'; end $$");
  EXPECT_EQ(::testing::internal::GetCapturedStderr(), "");
}

struct throwing_observer : pgorm::observer {
  int calls = 0;
  void on_notice(const pgorm::notice_event& /*n*/) override {
    ++calls;
    throw std::runtime_error("observer failed");
  }
};

TEST_F(notice_test, an_observer_that_throws_does_not_break_the_statement) {
  auto obs = std::make_shared<throwing_observer>();
  pgorm::connect_options o = pgorm::test::test_options();
  o.events = obs;
  pgorm::connection c{conninfo(), o};
  EXPECT_EQ(c.exec("do $$ begin raise notice 'x'; end $$; select 7").value(0, 0), "7");
  EXPECT_EQ(obs->calls, 1);
  EXPECT_EQ(c.exec("select 8").value(0, 0), "8");
}

TEST_F(notice_test, passwords_in_notices_are_masked) {
  auto log = std::make_shared<notice_log>();
  pgorm::connect_options o = pgorm::test::test_options();
  o.events = log;
  // The test server trusts local connections: the password is sent to nobody, but it is a
  // secret of this connection all the same.
  pgorm::connection c{conninfo() + " password=Sw0rdfish-notice", o};
  c.exec("do $$ begin raise notice 'the password is Sw0rdfish-notice'; end $$");
  const auto got = log->take();
  ASSERT_EQ(got.size(), 1U);
  EXPECT_EQ(got[0].message, "the password is ***");
}

TEST_F(notice_test, a_pools_connections_report_notices_and_stderr_logger_prints_them) {
  auto log = std::make_shared<notice_log>();
  pgorm::connect_options o = pgorm::test::test_options();
  o.events = log;
  pgorm::pool db{conninfo(), {.max_size = 1, .connection = o}};
  db.exec("do $$ begin raise notice 'from the pool'; end $$", {});
  const auto got = log->take();
  ASSERT_FALSE(got.empty());
  EXPECT_EQ(got[0].message, "from the pool");

  pgorm::connect_options l = pgorm::test::test_options();
  l.events = std::make_shared<pgorm::stderr_logger>(std::chrono::hours(1));
  pgorm::connection c{conninfo(), l};
  ::testing::internal::CaptureStderr();
  c.exec("do $$ begin raise warning 'logged' using hint = 'look'; end $$");
  const std::string err = ::testing::internal::GetCapturedStderr();
  EXPECT_THAT(err, HasSubstr("pgorm: WARNING 01000 logged hint=look"));
}

TEST_F(notice_test, an_idle_session_that_is_terminated_reports_the_servers_last_words) {
  auto log = std::make_shared<notice_log>();
  pgorm::connect_options o = pgorm::test::test_options();
  o.events = log;
  pgorm::connection c{conninfo(), o};
  c.listen("notice_test_idle");
  const std::string pid = std::to_string(c.backend_pid());  // param::text views it
  const pgorm::param p[] = {pgorm::param::text(pid)};
  conn().exec("select pg_terminate_backend($1::int)", p);
  EXPECT_THROW(
      {
        for (int i = 0; i < 20; ++i) (void)c.wait_for_notification(1s);
      },
      pgorm::connection_error);
  const auto got = log->take();
  ASSERT_EQ(got.size(), 1U);
  EXPECT_EQ(got[0].severity, "FATAL");
  EXPECT_EQ(got[0].sqlstate, "57P01");  // admin_shutdown
}

}  // namespace
