// SPDX-License-Identifier: MIT
// pgorm::pipeline against a real server: mixed builders in one round trip, a failing middle
// statement (its own typed error, the rest pipeline_aborted, the connection usable after),
// sync() batches, 256 point selects, and handles read before run().

#include "pgorm/pipeline.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include <gtest/gtest.h>

#include "pgorm/connection.hpp"
#include "pgorm/error.hpp"
#include "pgorm/query.hpp"
#include "pgorm/types.hpp"
#include "support/db_test.hpp"
#include "support/members_schema.hpp"

namespace {

using members_schema::Member;
using members_schema::member;
using pgorm::col;

class pipeline_test : public pgorm::test::db_test {
 protected:
  void SetUp() override {
    db_test::SetUp();
    conn().exec(std::string(members_schema::ddl));
  }

  std::int64_t count() {
    return std::stoll(std::string(conn().exec("select count(*) from members").value(0, 0)));
  }

  void seed(int n) {
    std::vector<Member> rows;
    for (int i = 1; i <= n; ++i) rows.push_back(member("m" + std::to_string(i) + "@x.org", i));
    pgorm::insert(rows).exec(conn());
  }
};

TEST_F(pipeline_test, mixed_builders_in_one_round_trip) {
  seed(3);
  pgorm::pipeline p{conn()};
  auto sel = p.add(pgorm::select<Member>().where(col<&Member::id> == std::int64_t{2}));
  auto ins = p.add(pgorm::insert(member("new@x.org", 40)).returning(col<&Member::id>));
  auto raw = p.add(pgorm::query<std::tuple<int>>("select $1::int", 5));
  // clang-format 14 rewrites `col<&T::m> = v` as `col<& T::m> = v`.
  // clang-format off
  auto upd =
      p.add(pgorm::update<Member>().set(col<&Member::age> = 99).where(col<&Member::age> < 3));
  // clang-format on
  auto del = p.add(pgorm::remove<Member>().where(col<&Member::id> == std::int64_t{3}));
  auto cnt = p.add(pgorm::query<std::int64_t>("select count(*) from members"));
  auto all = p.add(pgorm::select<Member>().order_by(col<&Member::id>));
  EXPECT_EQ(p.size(), 7U);
  EXPECT_FALSE(sel.ready());
  p.run();
  EXPECT_TRUE(p.empty());

  const Member two = sel.one();
  EXPECT_EQ(two.id, 2);
  EXPECT_EQ(two.email, "m2@x.org");
  EXPECT_EQ(std::get<0>(ins.one()), 4);
  EXPECT_EQ(std::get<0>(raw.one()), 5);
  EXPECT_EQ(upd.exec(), 2);
  EXPECT_EQ(del.exec(), 1);
  EXPECT_EQ(cnt.one(), 3) << "statements run in order: 3 + 1 inserted - 1 removed";
  const std::vector<Member> rows = all.all();
  ASSERT_EQ(rows.size(), 3U);
  EXPECT_EQ(rows[0].age, 99);
  EXPECT_EQ(rows[2].email, "new@x.org");
  EXPECT_EQ(sel.first()->id, 2);
  EXPECT_TRUE(sel.ok());
  EXPECT_EQ(sel.index(), 0U);
  EXPECT_EQ(all.index(), 6U);
}

TEST_F(pipeline_test, sql_with_a_nul_byte_is_refused_when_added_not_cut_by_libpq) {
  pgorm::pipeline p{conn()};
  auto before = p.add(pgorm::query<int>("select 1"));
  // libpq reads SQL up to its first NUL: this would run as "select 2" and drop the rest.
  const std::string cut("select 2\0; drop table members", 30);
  try {
    (void)p.add(pgorm::query<int>(pgorm::unsafe_sql(cut)));
    FAIL() << "a statement with a NUL byte was queued";
  } catch (const pgorm::usage_error& e) {
    EXPECT_NE(std::string_view(e.what()).find("NUL byte at offset 8"), std::string_view::npos)
        << e.what();
  }
  p.run();  // what was queued before still runs
  EXPECT_EQ(before.one(), 1);
}

TEST_F(pipeline_test, failing_middle_statement_throws_its_own_error_and_aborts_the_rest) {
  seed(1);
  pgorm::pipeline p{conn()};
  auto first = p.add(pgorm::query<int>("select 1"));
  auto dup = p.add(pgorm::insert(member("m1@x.org", 5)));  // unique violation
  auto later = p.add(pgorm::select<Member>());
  auto last = p.add(pgorm::insert(member("other@x.org", 6)));
  p.run();

  EXPECT_EQ(first.one(), 1) << "the statement before the failure succeeded";
  EXPECT_TRUE(first.ok());
  EXPECT_FALSE(dup.ok());
  EXPECT_THROW(dup.exec(), pgorm::unique_violation);
  try {
    (void)later.all();
    FAIL() << "expected pipeline_aborted";
  } catch (const pgorm::pipeline_aborted& e) {
    EXPECT_EQ(e.index(), 2U);
    EXPECT_EQ(e.failed_index(), 1U);
    EXPECT_NE(std::string_view(e.what()).find("statement 1"), std::string_view::npos) << e.what();
    EXPECT_NE(std::string_view(e.what()).find("23505"), std::string_view::npos) << e.what();
  }
  EXPECT_THROW(last.exec(), pgorm::pipeline_aborted);
  EXPECT_THROW(last.exec(), pgorm::pipeline_aborted) << "reading twice throws again";

  // The connection left pipeline mode cleanly and works.
  EXPECT_EQ(conn().exec("select 41 + 1").value(0, 0), "42");
  EXPECT_EQ(count(), 1) << "the batch's implicit transaction was rolled back";
  EXPECT_EQ(pgorm::select<Member>().all(conn()).size(), 1U);

  // ... and pipelines again.
  auto again = p.add(pgorm::query<int>("select 7"));
  p.run();
  EXPECT_EQ(again.one(), 7);
}

TEST_F(pipeline_test, sync_isolates_batches) {
  seed(1);
  pgorm::pipeline p{conn()};
  auto a = p.add(pgorm::insert(member("a@x.org", 1)));
  p.sync();
  auto dup = p.add(pgorm::insert(member("m1@x.org", 5)));
  auto skipped = p.add(pgorm::insert(member("b@x.org", 2)));
  p.sync();
  auto c = p.add(pgorm::insert(member("c@x.org", 3)));
  p.run();
  EXPECT_EQ(a.exec(), 1);
  EXPECT_THROW(dup.exec(), pgorm::unique_violation);
  EXPECT_THROW(skipped.exec(), pgorm::pipeline_aborted);
  EXPECT_EQ(c.exec(), 1) << "a new batch after sync() is not aborted";
  EXPECT_EQ(count(), 3) << "m1, a (own batch, committed) and c";
}

TEST_F(pipeline_test, explicit_transaction_spans_the_pipeline) {
  conn().exec("begin");
  pgorm::pipeline p{conn()};
  auto a = p.add(pgorm::insert(member("a@x.org", 1)));
  p.sync();
  auto b = p.add(pgorm::insert(member("b@x.org", 2)));
  p.run();
  EXPECT_EQ(a.exec() + b.exec(), 2);
  conn().exec("rollback");
  EXPECT_EQ(count(), 0);
}

TEST_F(pipeline_test, two_hundred_fifty_six_point_selects) {
  seed(300);
  pgorm::pipeline p{conn()};
  std::vector<pgorm::pipeline_result<Member>> handles;
  for (std::int64_t id = 1; id <= 256; ++id) {
    handles.push_back(p.add(pgorm::select<Member>().where(col<&Member::id> == id)));
  }
  p.run();
  for (std::size_t i = 0; i != handles.size(); ++i) {
    const Member m = handles[i].one();
    EXPECT_EQ(m.id, static_cast<std::int64_t>(i + 1));
    EXPECT_EQ(m.email, "m" + std::to_string(i + 1) + "@x.org");
    EXPECT_EQ(m.age, static_cast<std::int32_t>(i + 1));
  }
}

TEST_F(pipeline_test, add_each_batches_identical_point_selects) {
  seed(10);
  std::vector<std::int64_t> ids{3, 1, 42, 10};
  pgorm::pipeline p{conn()};
  auto found = p.add_each(
      ids, [](std::int64_t id) { return pgorm::select<Member>().where(col<&Member::id> == id); });
  p.run();
  ASSERT_EQ(found.size(), 4U);
  EXPECT_EQ(found[0].one().email, "m3@x.org");
  EXPECT_EQ(found[1].one().email, "m1@x.org");
  EXPECT_EQ(found[2].first(), std::nullopt);
  EXPECT_THROW(found[2].one(), pgorm::not_found);
  EXPECT_EQ(found[3].one().age, 10);
}

TEST_F(pipeline_test, many_statements_with_large_results_do_not_deadlock) {
  seed(2000);
  pgorm::pipeline p{conn()};
  std::vector<pgorm::pipeline_result<Member>> handles;
  for (int i = 0; i != 100; ++i) handles.push_back(p.add(pgorm::select<Member>()));
  p.run();
  for (const auto& h : handles) EXPECT_EQ(h.all().size(), 2000U);
}

TEST_F(pipeline_test, handle_read_before_run_is_a_usage_error) {
  pgorm::pipeline p{conn()};
  auto h = p.add(pgorm::query<int>("select 1"));
  EXPECT_THROW(h.one(), pgorm::usage_error);
  p.run();
  EXPECT_EQ(h.one(), 1);
  p.run();  // empty: nothing to do
}

TEST_F(pipeline_test, syntax_error_and_conversion_error_are_reported_per_statement) {
  pgorm::pipeline p{conn()};
  p.sync();  // a sync before any statement is harmless
  auto bad = p.add(pgorm::query<int>("select nope from nowhere"));
  p.sync();
  auto text = p.add(pgorm::query<int>("select 'abc'::text"));
  p.run();
  try {
    (void)bad.all();
    FAIL();
  } catch (const pgorm::sql_error& e) {
    EXPECT_EQ(e.sqlstate(), "42P01");
  }
  EXPECT_THROW(text.one(), pgorm::conversion_error) << "text column read as int";
  EXPECT_EQ(text.exec(), 1);
}

TEST_F(pipeline_test, rows_read_on_arrival_outlive_the_pipeline_and_a_bad_value_throws_on_read) {
  seed(3);
  std::optional<pgorm::pipeline_result<Member>> all;
  std::optional<pgorm::pipeline_result<int>> null_second;
  std::optional<pgorm::pipeline_result<int>> null_first;
  {
    pgorm::pipeline p{conn()};
    all = p.add(pgorm::select<Member>().order_by(col<&Member::id>));
    null_second =
        p.add(pgorm::query<int>("select v from (values (1, 1), (2, null)) t(k, v) order by k"));
    null_first = p.add(pgorm::query<int>("select null::int"));
    p.run();
  }  // the handles keep their rows
  const std::vector<Member> rows = all->all();
  ASSERT_EQ(rows.size(), 3U);
  EXPECT_EQ(rows[2].email, "m3@x.org");
  EXPECT_EQ(all->all().size(), 3U) << "a second read sees the same rows";
  EXPECT_EQ(all->first()->email, "m1@x.org");
  EXPECT_EQ(all->exec(), 3);
  // A NULL read into an int: only the reads that reach its row throw, as they did when rows
  // were read from the result on demand.
  EXPECT_TRUE(null_second->ok());
  EXPECT_EQ(null_second->first(), 1);
  EXPECT_THROW((void)null_second->all(), pgorm::unexpected_null);
  EXPECT_THROW((void)null_second->one(), pgorm::usage_error) << "two rows";
  EXPECT_EQ(null_second->exec(), 2);
  EXPECT_THROW((void)null_first->first(), pgorm::unexpected_null);
  EXPECT_THROW((void)null_first->one(), pgorm::unexpected_null);
  EXPECT_EQ(null_first->exec(), 1);
}

// run() copies each result's values out of it (pipeline_rows) and frees it; the handles decode
// the copies at each read: NULLs, empty values, a result too large for a shared chunk, and the
// column names that errors about a value read by position give; a small result is copied into
// the arena's free space in one pass, a large one (many rows, or one wide value) apart.
TEST_F(pipeline_test, kept_rows_hold_nulls_empty_values_large_results_and_column_names) {
  using row = std::tuple<std::optional<std::string>, std::string, std::int64_t>;
  std::optional<pgorm::pipeline_result<row>> values;
  std::optional<pgorm::pipeline_result<std::string>> large;
  std::optional<pgorm::pipeline_result<int>> after;
  std::optional<pgorm::pipeline_result<std::string>> wide;
  std::optional<pgorm::pipeline_result<std::tuple<int, int>>> null_by_position;
  {
    pgorm::pipeline p{conn()};
    values = p.add(pgorm::query<row>("select null::text as a, ''::text as b, 7::int8 as c"));
    large = p.add(pgorm::query<std::string>(
        "select repeat('x', 100) || g from generate_series(1, 500) g order by g"));
    after = p.add(pgorm::query<int>("select 41 + 1"));
    wide = p.add(pgorm::query<std::string>("select repeat('y', 10000)"));  // one value, 10 KB
    null_by_position =
        p.add(pgorm::query<std::tuple<int, int>>("select 1 as one, null::int as gap"));
    p.run();
  }
  const std::optional<row> v = values->first();
  ASSERT_TRUE(v.has_value());
  EXPECT_FALSE(std::get<0>(*v).has_value());
  EXPECT_EQ(std::get<1>(*v), "");
  EXPECT_EQ(std::get<2>(*v), 7);
  const std::vector<std::string> rows = large->all();
  ASSERT_EQ(rows.size(), 500U);
  EXPECT_EQ(rows.front(), std::string(100, 'x') + "1");
  EXPECT_EQ(rows.back(), std::string(100, 'x') + "500");
  EXPECT_EQ(large->all(), rows) << "a second read decodes the same rows";
  EXPECT_EQ(after->one(), 42);
  EXPECT_EQ(wide->one(), std::string(10000, 'y'));
  try {
    (void)null_by_position->one();
    ADD_FAILURE() << "a NULL read into an int";
  } catch (const pgorm::unexpected_null& e) {
    EXPECT_NE(std::string_view(e.what()).find("gap"), std::string_view::npos) << e.what();
  }
}

TEST_F(pipeline_test, run_on_a_closed_connection_throws_connection_error) {
  pgorm::connection other = connect();
  pgorm::pipeline p{other};
  auto h = p.add(pgorm::query<int>("select 1"));
  other.close();
  EXPECT_THROW(p.run(), pgorm::connection_error);
  EXPECT_THROW(h.one(), pgorm::connection_error);
}

}  // namespace
