// SPDX-License-Identifier: MIT
// A pipeline past its deadline against a real server: the statements of the batches already
// sent do not go on running on the server after run() has thrown (closing the connection
// would not stop them: the backend reads and runs the next batch from its socket buffer before
// it notices), and the connection stays usable.

#include <chrono>
#include <cstdint>
#include <string>
#include <tuple>
#include <vector>

#include <gtest/gtest.h>

#include "pgorm/error.hpp"
#include "pgorm/pipeline.hpp"
#include "pgorm/query.hpp"
#include "support/db_test.hpp"

namespace {

using namespace std::chrono_literals;

class pipeline_deadline_test : public pgorm::test::db_test {};

TEST_F(pipeline_deadline_test, no_statement_of_it_runs_on_after_the_run) {
  pgorm::connect_options o = pgorm::test::test_options();
  o.cancel_grace = 2s;
  pgorm::connection c(conninfo(), o);
  pgorm::pipeline p{c};
  std::vector<pgorm::pipeline_result<std::tuple<int>>> handles;
  for (int i = 0; i != 12; ++i) {
    handles.push_back(p.add(pgorm::query<std::tuple<int>>(pgorm::unsafe_sql(
        "select 1 from pg_sleep(30) /* sync-deadline " + std::to_string(i) + " */"))));
    p.sync();
  }
  const auto start = std::chrono::steady_clock::now();
  EXPECT_THROW(p.run(300ms), pgorm::query_canceled);
  // Not 6 minutes of sleeps: every batch was cancelled.
  EXPECT_LT(std::chrono::steady_clock::now() - start, 60s);
  EXPECT_EQ(running_statements("sync-deadline"), 0);
  for (auto& h : handles) EXPECT_THROW((void)h.one(), pgorm::error);
  ASSERT_TRUE(c.is_open());
  EXPECT_EQ(c.exec("select 42").value(0, 0), "42");
}

}  // namespace
