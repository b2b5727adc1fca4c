// SPDX-License-Identifier: MIT
// The observer of a synchronous connection sees a streamed statement (each(), exec_each())
// against a real server: one on_query_start and one on_query_end, with the rows it streamed,
// or with the SQLSTATE and error of a stream that failed part way.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "pgorm/connection.hpp"
#include "pgorm/error.hpp"
#include "pgorm/observer.hpp"
#include "pgorm/query.hpp"
#include "support/db_test.hpp"

namespace observer_each_it {

struct Reading {
  std::int64_t id;
  std::int32_t value;
};

}  // namespace observer_each_it

template <>
struct pgorm::table_traits<observer_each_it::Reading> {
  static constexpr std::string_view name = "readings";
  static constexpr auto primary_key = pgorm::identity(&observer_each_it::Reading::id);
};

namespace {

using observer_each_it::Reading;

struct ended {
  std::string sql;
  std::string operation;
  std::int64_t rows = -1;
  std::string sqlstate;
  std::string error;
};

struct recorder : pgorm::observer {
  int started = 0;
  std::vector<ended> events;
  void on_query_start(const pgorm::query_event&) override { ++started; }
  void on_query_end(const pgorm::query_event& q, const pgorm::query_outcome& o) override {
    events.push_back({std::string(q.sql), std::string(q.operation), o.rows, std::string(o.sqlstate),
                      std::string(o.error)});
  }
};

class observer_each_test : public pgorm::test::db_test {
 protected:
  void SetUp() override {
    db_test::SetUp();
    conn().exec(
        "create table readings (id bigint generated always as identity primary key, "
        "value integer not null)");
    conn().exec("insert into readings (value) select g from generate_series(1, 7) g");
  }
  pgorm::connection observed(const std::shared_ptr<recorder>& rec) {
    pgorm::connect_options o = pgorm::test::test_options();
    o.events = rec;
    return pgorm::connection(conninfo(), o);
  }
};

TEST_F(observer_each_test, a_stream_is_reported_once_with_its_rows) {
  auto rec = std::make_shared<recorder>();
  pgorm::connection c = observed(rec);
  int seen = 0;
  c.select<Reading>().where(pgorm::col<&Reading::value> > 2).each([&](const Reading&) { ++seen; });
  EXPECT_EQ(seen, 5);
  ASSERT_EQ(rec->events.size(), 1U);
  EXPECT_EQ(rec->started, 1);
  EXPECT_EQ(rec->events[0].operation, "SELECT");
  EXPECT_EQ(rec->events[0].rows, 5);
  EXPECT_EQ(rec->events[0].sqlstate, "");
}

TEST_F(observer_each_test, a_stream_that_fails_part_way_is_reported_with_its_error) {
  auto rec = std::make_shared<recorder>();
  pgorm::connection c = observed(rec);
  int seen = 0;
  // Row 5 divides by zero after four rows have been streamed.
  EXPECT_THROW(c.exec_each("select 10 / (5 - value) from readings order by id", {},
                           pgorm::data_format::text, [&](const pgorm::result&) { ++seen; }),
               pgorm::sql_error);
  ASSERT_EQ(rec->events.size(), 1U);
  EXPECT_EQ(rec->started, 1);
  EXPECT_EQ(rec->events[0].sqlstate, "22012");
  EXPECT_NE(rec->events[0].error.find("division by zero"), std::string::npos)
      << rec->events[0].error;
  // The connection goes on after the failed stream.
  EXPECT_EQ(c.exec("select 3").value(0, 0), "3");
  EXPECT_EQ(rec->events.size(), 2U);
}

}  // namespace
