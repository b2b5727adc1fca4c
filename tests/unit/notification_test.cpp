// SPDX-License-Identifier: MIT
// LISTEN/NOTIFY without a server: channel names are always quoted identifiers (never spliced
// bare), bad names are usage errors naming the call, and notify() sends pg_notify($1, $2) with
// the channel and payload as parameters, marked as a builder statement when the executor takes
// the mark (so a pool does not reset the session after it).
#include "pgorm/notification.hpp"

#include <string>
#include <string_view>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "pgorm/error.hpp"
#include "pgorm/executor.hpp"

namespace {

using ::testing::HasSubstr;

TEST(notification_sql, channels_are_quoted_identifiers) {
  EXPECT_EQ(pgorm::detail::listen_sql("jobs"), R"(LISTEN "jobs")");
  EXPECT_EQ(pgorm::detail::listen_sql("Jobs"), R"(LISTEN "Jobs")");
  EXPECT_EQ(pgorm::detail::unlisten_sql("with space"), R"(UNLISTEN "with space")");
  EXPECT_EQ(pgorm::detail::listen_sql(R"(a"b)"), R"(LISTEN "a""b")");
  EXPECT_EQ(pgorm::detail::listen_sql(R"(x"; drop table users; --)"),
            R"(LISTEN "x""; drop table users; --")");
  EXPECT_EQ(pgorm::detail::listen_sql("\""), R"(LISTEN """")");
  EXPECT_EQ(pgorm::detail::listen_sql("ünï"), "LISTEN \"ünï\"");
}

TEST(notification_sql, names_the_server_would_truncate_or_reject_are_usage_errors) {
  const std::string longest(pgorm::max_channel_length, 'c');
  EXPECT_EQ(pgorm::detail::listen_sql(longest), "LISTEN \"" + longest + "\"");
  try {
    (void)pgorm::detail::listen_sql(longest + "c");
    FAIL() << "a 64-byte channel name was accepted";
  } catch (const pgorm::usage_error& e) {
    EXPECT_THAT(e.what(), HasSubstr("listen"));
    EXPECT_THAT(e.what(), HasSubstr("64 bytes"));
  }
  try {
    (void)pgorm::detail::unlisten_sql("");
    FAIL() << "an empty channel name was accepted";
  } catch (const pgorm::usage_error& e) {
    EXPECT_THAT(e.what(), HasSubstr("unlisten"));
    EXPECT_THAT(e.what(), HasSubstr("empty"));
  }
  EXPECT_THROW((void)pgorm::detail::listen_sql(std::string_view("a\0b", 3)), pgorm::usage_error);
}

// Records what notify() asks an executor to run.
struct recording_executor {
  std::string sql;
  std::vector<std::string> values;
  bool marked = false;
  pgorm::result exec(std::string_view q, std::span<const pgorm::param> params,
                     pgorm::data_format /*format*/) {
    sql = q;
    for (const pgorm::param& p : params) values.emplace_back(p.bytes());
    return {};
  }
};
struct marking_executor : recording_executor {
  using recording_executor::exec;
  pgorm::result exec(const pgorm::statement_shape& shape, std::span<const pgorm::param> params,
                     pgorm::data_format format) {
    marked = shape.origin == pgorm::sql_origin::builder;
    return exec(shape.sql, params, format);
  }
};

TEST(notification_sql, notify_sends_channel_and_payload_as_parameters) {
  recording_executor plain;
  pgorm::notify(plain, R"(Jobs"; --)", "it's {\"id\": 1}");
  EXPECT_EQ(plain.sql, "select pg_notify($1, $2)");
  EXPECT_THAT(plain.values, ::testing::ElementsAre(R"(Jobs"; --)", "it's {\"id\": 1}"));
  EXPECT_FALSE(plain.marked);

  marking_executor pooled;
  pgorm::notify(pooled, "jobs");
  EXPECT_TRUE(pooled.marked);
  EXPECT_THAT(pooled.values, ::testing::ElementsAre("jobs", ""));

  EXPECT_THROW(pgorm::notify(plain, std::string(64, 'x'), "p"), pgorm::usage_error);
}

}  // namespace
