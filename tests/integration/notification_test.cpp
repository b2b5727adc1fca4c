// SPDX-License-Identifier: MIT
// LISTEN/NOTIFY against the real server (docs/notifications.md): notifications from another
// session with their channel, payload and sender; payloads up to the server's limit and one
// over it; channel names that need quoting; bounded waits; notifications that arrive while
// other statements run are kept; notify through a transaction and a pool; a lost connection.
// Time bounds are generous on purpose (a busy machine): only "within seconds" is asserted.
#include "pgorm/notification.hpp"

#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "pgorm/connection.hpp"
#include "pgorm/pool.hpp"
#include "pgorm/transaction.hpp"
#include "support/db_test.hpp"

namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;
using clock_type = std::chrono::steady_clock;

class notification_test : public pgorm::test::db_test {
 protected:
  // Channel names unique to the test (the run's server is shared by tests running in
  // parallel), short enough for the 63-byte limit: the test connection's backend pid.
  [[nodiscard]] std::string channel(std::string_view name) {
    return "c" + std::to_string(conn().backend_pid()) + "_" + std::string(name);
  }
  static long long ms_since(clock_type::time_point t) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(clock_type::now() - t).count();
  }
};

TEST_F(notification_test, a_notify_from_another_connection_arrives_with_channel_payload_and_pid) {
  const std::string jobs = channel("jobs");
  conn().listen(jobs);
  pgorm::connection sender = connect();
  sender.notify(jobs, R"({"id": 42})");

  const auto n = conn().wait_for_notification(20s);
  ASSERT_TRUE(n.has_value());
  EXPECT_EQ(n->channel, jobs);
  EXPECT_EQ(n->payload, R"({"id": 42})");
  EXPECT_EQ(n->sender_pid, sender.backend_pid());
  EXPECT_NE(n->sender_pid, conn().backend_pid());

  // Nothing else was sent: the next wait times out.
  EXPECT_FALSE(conn().wait_for_notification(100ms).has_value());
}

TEST_F(notification_test, raw_notify_and_unlisten_interoperate_with_the_typed_calls) {
  const std::string jobs = channel("raw");  // lower case: the same name quoted or not
  conn().listen(jobs);
  pgorm::connection sender = connect();
  sender.exec("NOTIFY " + jobs + ", 'plain sql'");
  auto n = conn().wait_for_notification(20s);
  ASSERT_TRUE(n.has_value());
  EXPECT_EQ(n->payload, "plain sql");
  EXPECT_EQ(n->channel, jobs);

  pgorm::notify(sender, jobs);  // the free function, no payload
  n = conn().wait_for_notification(20s);
  ASSERT_TRUE(n.has_value());
  EXPECT_EQ(n->payload, "");

  conn().unlisten(jobs);
  sender.notify(jobs, "after unlisten");
  EXPECT_FALSE(conn().wait_for_notification(300ms).has_value());

  conn().listen(jobs);
  conn().unlisten_all();
  sender.notify(jobs, "after unlisten *");
  EXPECT_FALSE(conn().wait_for_notification(300ms).has_value());
}

TEST_F(notification_test, a_wait_with_nothing_sent_returns_nullopt_after_its_timeout) {
  conn().listen(channel("quiet"));
  auto start = clock_type::now();
  EXPECT_FALSE(conn().wait_for_notification(300ms).has_value());
  const auto took = ms_since(start);
  EXPECT_GE(took, 290);  // never early
  EXPECT_LT(took, 5000);

  start = clock_type::now();
  EXPECT_FALSE(conn().wait_for_notification(clock_type::now() + 200ms).has_value());
  EXPECT_GE(ms_since(start), 190);

  start = clock_type::now();
  EXPECT_FALSE(conn().wait_for_notification(0ms).has_value());
  EXPECT_LT(ms_since(start), 2000);

  EXPECT_THROW((void)conn().wait_for_notification(pgorm::no_timeout), pgorm::usage_error);
  // The connection is still fine.
  EXPECT_EQ(conn().exec("select 1").value(0, 0), "1");
}

TEST_F(notification_test, a_zero_timeout_takes_what_has_arrived) {
  const std::string ch = channel("poll");
  conn().listen(ch);
  pgorm::connection sender = connect();
  sender.notify(ch, "x");
  // Delivery takes a moment; polling with zero timeouts finds it without ever blocking.
  std::optional<pgorm::notification> n;
  const auto end = clock_type::now() + 20s;
  while (!n && clock_type::now() < end) {
    n = conn().wait_for_notification(0ms);
    if (!n) std::this_thread::sleep_for(5ms);
  }
  ASSERT_TRUE(n.has_value());
  EXPECT_EQ(n->payload, "x");
}

TEST_F(notification_test, payloads_up_to_the_server_limit_arrive_intact_and_one_over_it_fails) {
  const std::string ch = channel("big");
  conn().listen(ch);
  pgorm::connection sender = connect();
  std::string longest;
  for (std::size_t i = 0; longest.size() < pgorm::max_notification_payload; ++i) {
    longest += static_cast<char>('a' + i % 26);
  }
  ASSERT_EQ(longest.size(), 7999U);
  sender.notify(ch, longest);
  const std::string multibyte = "€ ü 𝄞 'quotes' \"double\" \\ $1";
  sender.notify(ch, multibyte);

  auto n = conn().wait_for_notification(20s);
  ASSERT_TRUE(n.has_value());
  EXPECT_EQ(n->payload, longest);
  n = conn().wait_for_notification(20s);
  ASSERT_TRUE(n.has_value());
  EXPECT_EQ(n->payload, multibyte);

  try {
    sender.notify(ch, longest + "z");
    FAIL() << "an 8000-byte payload was accepted";
  } catch (const pgorm::sql_error& e) {
    EXPECT_EQ(e.sqlstate(), "22023");
    EXPECT_THAT(e.what(), HasSubstr("payload string too long"));
  }
  EXPECT_THROW(sender.notify(ch, std::string_view("a\0b", 3)), pgorm::conversion_error);
  // Both connections remain usable and nothing else arrived.
  EXPECT_FALSE(conn().wait_for_notification(200ms).has_value());
  EXPECT_EQ(sender.exec("select 1").value(0, 0), "1");
}

TEST_F(notification_test, channel_names_that_need_quoting_are_kept_exactly) {
  pgorm::connection sender = connect();
  const std::string base = channel("");
  const std::vector<std::string> names = {
      base + "MixedCase",
      base + "with space",
      base + R"(quote"inside)",
      base + "semi;colon",
      base + "ünïcödé",
      "select",
      base + std::string(pgorm::max_channel_length - base.size(), 'q')};
  for (const std::string& name : names) conn().listen(name);
  for (const std::string& name : names) sender.notify(name, "to " + name);
  std::vector<std::string> got;
  for (std::size_t i = 0; i < names.size(); ++i) {
    auto n = conn().wait_for_notification(20s);
    ASSERT_TRUE(n.has_value()) << "after " << i;
    EXPECT_EQ(n->payload, "to " + n->channel);
    got.push_back(n->channel);
  }
  EXPECT_THAT(got, ::testing::ElementsAreArray(names));

  // Case matters once quoted: a lower-case sender reaches another channel.
  sender.notify(base + "mixedcase", "other channel");
  EXPECT_FALSE(conn().wait_for_notification(300ms).has_value());

  EXPECT_THROW(conn().listen(""), pgorm::usage_error);
  EXPECT_THROW(conn().listen(std::string(pgorm::max_channel_length + 1, 'q')), pgorm::usage_error);
  EXPECT_THROW(sender.notify(std::string(pgorm::max_channel_length + 1, 'q'), "x"),
               pgorm::usage_error);
  EXPECT_EQ(conn().exec("select 1").value(0, 0), "1");
}

TEST_F(notification_test, notifications_arriving_during_other_statements_are_not_lost) {
  const std::string ch = channel("busy");
  conn().listen(ch);
  pgorm::connection sender = connect();

  // Sent while the listener is inside a transaction: the server holds them until it ends, and
  // they reach the client among the results of the statements that follow.
  conn().exec("begin");
  for (int i = 1; i <= 3; ++i) sender.notify(ch, "during transaction " + std::to_string(i));
  conn().exec("select 1");
  conn().exec("commit");

  // Sent while the listener runs a long statement, from another thread.
  std::thread t([&] {
    std::this_thread::sleep_for(100ms);
    sender.notify(ch, "during sleep");
  });
  conn().exec("select pg_sleep(0.5)");
  t.join();

  // Several statements of every kind read the socket before the wait does.
  for (int i = 0; i < 3; ++i) {
    const std::string text = std::to_string(i);  // param::text views it
    const pgorm::param p[] = {pgorm::param::text(text)};
    conn().exec("select $1::int", p);
    conn().exec_each("select generate_series(1, 3)", {}, pgorm::data_format::binary,
                     [](const pgorm::result&) {});
    conn().exec("select pg_sleep(0.05)");
  }

  std::vector<std::string> got;
  while (auto n = conn().wait_for_notification(got.size() < 4 ? 20s : 200ms)) {
    got.push_back(n->payload);
  }
  EXPECT_THAT(got, ::testing::ElementsAre("during transaction 1", "during transaction 2",
                                          "during transaction 3", "during sleep"));
}

TEST_F(notification_test, a_transaction_sends_on_commit_and_never_on_rollback) {
  const std::string ch = channel("tx");
  conn().listen(ch);
  pgorm::connection sender = connect();
  EXPECT_THROW(sender.transaction([&](pgorm::transaction& tx) {
    pgorm::notify(tx, ch, "rolled back");
    throw std::runtime_error("give up");
  }),
               std::runtime_error);
  sender.transaction([&](pgorm::transaction& tx) {
    pgorm::notify(tx, ch, "committed");
    pgorm::notify(tx, ch, "committed");  // the same pair twice in one transaction: once
  });
  auto n = conn().wait_for_notification(20s);
  ASSERT_TRUE(n.has_value());
  EXPECT_EQ(n->payload, "committed");
  EXPECT_FALSE(conn().wait_for_notification(300ms).has_value());
}

// Records the statements a pool runs.
struct statement_log : pgorm::observer {
  std::mutex mu;
  std::vector<std::string> sql;
  void on_query_end(const pgorm::query_event& q, const pgorm::query_outcome& /*o*/) override {
    const std::lock_guard lock(mu);
    sql.emplace_back(q.sql);
  }
};

TEST_F(notification_test, notify_through_a_pool_needs_no_session_reset) {
  const std::string ch = channel("pool");
  conn().listen(ch);
  auto log = std::make_shared<statement_log>();
  pgorm::connect_options o = pgorm::test::test_options();
  o.events = log;
  pgorm::pool db{conninfo(), {.max_size = 1, .connection = o}};
  pgorm::notify(db, ch, "from the pool");
  auto n = conn().wait_for_notification(20s);
  ASSERT_TRUE(n.has_value());
  EXPECT_EQ(n->payload, "from the pool");
  const std::lock_guard lock(log->mu);
  EXPECT_THAT(log->sql, ::testing::Contains("select pg_notify($1, $2)"));
  EXPECT_THAT(log->sql, ::testing::Not(::testing::Contains(HasSubstr("DISCARD"))));
}

TEST_F(notification_test, a_lost_connection_throws_connection_error_from_the_wait) {
  pgorm::connection listener = connect();
  listener.listen(channel("lost"));
  const int pid = listener.backend_pid();
  const std::string pid_text = std::to_string(pid);  // param::text views it
  const pgorm::param p[] = {pgorm::param::text(pid_text)};
  conn().exec("select pg_terminate_backend($1::int)", p);
  const auto start = clock_type::now();
  try {
    // The termination reaches the socket at some point within the waits.
    while (ms_since(start) < 20000) (void)listener.wait_for_notification(1s);
    FAIL() << "the terminated session was not noticed";
  } catch (const pgorm::connection_error& e) {
    // The server's reason (57P01 admin_shutdown), not only libpq's "closed unexpectedly".
    EXPECT_THAT(e.what(), HasSubstr("57P01"));
    EXPECT_THAT(e.what(), HasSubstr("terminating connection"));
  }
  EXPECT_LT(ms_since(start), 20000);
  EXPECT_FALSE(listener.is_open());
}

}  // namespace
