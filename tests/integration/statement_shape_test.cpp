// SPDX-License-Identifier: MIT
// The statement shape across the executor boundary: the cache keyed on it, the row layout
// checked once per prepared statement (result::checked_layout()), when that check is made again
// (statement prepared again, result type changed), and that a row type read from several
// statements, in any order, always maps the columns of the one it reads.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include <gtest/gtest.h>

#include "pgorm/connection.hpp"
#include "pgorm/error.hpp"
#include "pgorm/params.hpp"
#include "pgorm/pipeline.hpp"
#include "pgorm/query.hpp"
#include "support/db_test.hpp"

namespace stmt_it {

struct Item {
  std::int64_t id;
  std::string label;
  std::optional<std::string> note;
  bool operator==(const Item&) const = default;
};

struct Widget {
  std::int64_t v;
  std::string s;
};

}  // namespace stmt_it

template <>
struct pgorm::table_traits<stmt_it::Item> {
  static constexpr std::string_view name = "item";
  static constexpr auto primary_key = pgorm::identity(&stmt_it::Item::id);
};
template <>
struct pgorm::table_traits<stmt_it::Widget> {
  static constexpr std::string_view name = "widget";
};

namespace {

using pgorm::col;
using stmt_it::Item;
using stmt_it::Widget;

class statement_shape_test : public pgorm::test::db_test {
 protected:
  void SetUp() override {
    db_test::SetUp();
    conn().exec(
        "create table item (id bigint generated always as identity primary key, label text not "
        "null, note text)");
    conn().exec("insert into item (label, note) values ('a', null), ('b', 'x'), ('', 'y')");
  }

  static constexpr std::string_view by_id = "select id, label from item where id = $1";

  pgorm::result select_by_id(pgorm::connection& c, std::int64_t id,
                             pgorm::data_format format = pgorm::data_format::binary) {
    const auto p = pgorm::encode_params(id);
    return c.exec(by_id, p.params(), format);
  }
};

using id_label = std::tuple<std::int64_t, std::string>;

// statement_key is the same function at compile time and at run time.
static_assert(pgorm::statement_key("select 1") != 0);
static_assert(pgorm::statement_key("select 1") != pgorm::statement_key("select 2"));

TEST_F(statement_shape_test, binary_results_of_a_cached_statement_carry_the_checked_layout) {
  const pgorm::row_layout* layout = &pgorm::row_layout_v<id_label>;
  const pgorm::statement_shape shape{.sql = by_id,
                                     .key = pgorm::statement_key(by_id),
                                     .layout = layout,
                                     .origin = pgorm::sql_origin::raw};
  const auto p = pgorm::encode_params(std::int64_t{2});
  for (int round = 0; round < 3; ++round) {  // checked by the first, remembered for the rest
    const pgorm::result r = conn().exec(shape, p.params(), pgorm::data_format::binary);
    EXPECT_EQ(r.checked_layout(), layout) << round;
    EXPECT_EQ(std::get<1>(pgorm::row_reader<id_label>(r).read(0)), "b");
  }
  // The same text without a key finds the same statement (the key is the text's hash).
  const std::size_t prepared = conn().prepared_statements();
  const pgorm::result plain = conn().exec(pgorm::statement_shape{.sql = by_id, .layout = layout},
                                          p.params(), pgorm::data_format::binary);
  EXPECT_EQ(plain.checked_layout(), layout);
  EXPECT_EQ(conn().prepared_statements(), prepared);
  // prepare_cached() names the same statement, and the server knows it under that name.
  const pgorm::prepared_statement s = conn().prepare_cached(by_id, p.params());
  ASSERT_FALSE(s.name.empty());
  EXPECT_EQ(conn()
                .exec("select count(*) from pg_prepared_statements where name = '" + s.name + "'")
                .value(0, 0),
            "1");
  EXPECT_EQ(conn().prepared_name(by_id, p.params()), s.name);
}

TEST_F(statement_shape_test, a_layout_the_columns_do_not_have_is_not_marked) {
  const auto p = pgorm::encode_params(std::int64_t{2});
  // Other types (text, bigint), names that differ, another column count.
  using swapped = std::tuple<std::string, std::int64_t>;
  using wider = std::tuple<std::int64_t, std::string, std::string>;
  for (const pgorm::row_layout* layout :
       {&pgorm::row_layout_v<swapped>, &pgorm::row_layout_v<wider>, &pgorm::row_layout_v<Widget>}) {
    const pgorm::result r = conn().exec(pgorm::statement_shape{.sql = by_id, .layout = layout},
                                        p.params(), pgorm::data_format::binary);
    EXPECT_EQ(r.checked_layout(), nullptr);
    EXPECT_FALSE(r.columns_match(*layout));
  }
  // And then the right one is.
  const pgorm::result r =
      conn().exec(pgorm::statement_shape{.sql = by_id, .layout = &pgorm::row_layout_v<id_label>},
                  p.params(), pgorm::data_format::binary);
  EXPECT_EQ(r.checked_layout(), &pgorm::row_layout_v<id_label>);
}

TEST_F(statement_shape_test, text_results_simple_queries_and_unnamed_statements_are_not_marked) {
  const auto p = pgorm::encode_params(std::int64_t{1});
  const pgorm::statement_shape shape{.sql = by_id, .layout = &pgorm::row_layout_v<id_label>};
  EXPECT_EQ(conn().exec(shape, p.params(), pgorm::data_format::text).checked_layout(), nullptr);
  EXPECT_EQ(conn().exec("select 1").checked_layout(), nullptr);
  EXPECT_EQ(pgorm::result{}.checked_layout(), nullptr);
  // Moving a result moves its mark.
  pgorm::result r = conn().exec(shape, p.params(), pgorm::data_format::binary);
  ASSERT_NE(r.checked_layout(), nullptr);
  pgorm::result moved = std::move(r);
  EXPECT_EQ(moved.checked_layout(), shape.layout);
  EXPECT_EQ(r.checked_layout(), nullptr);  // NOLINT(bugprone-use-after-move): moved-from is empty

  pgorm::connection c{conninfo(), {.prepare = false}};
  c.exec("set search_path = " + schema());
  EXPECT_EQ(c.exec(shape, p.params(), pgorm::data_format::binary).checked_layout(), nullptr);
  EXPECT_EQ(c.prepare_cached(by_id, p.params()).name, "");
  // Rows still map (matched for every result).
  EXPECT_EQ(
      c.query<Item>("select id, label, note from item where id = $1", std::int64_t{2}).one().note,
      std::optional<std::string>("x"));
}

TEST_F(statement_shape_test, a_statement_prepared_again_is_checked_again) {
  const auto p = pgorm::encode_params(std::int64_t{1});
  const pgorm::statement_shape shape{.sql = by_id, .layout = &pgorm::row_layout_v<id_label>};
  const std::string before = conn().prepared_name(by_id, p.params());
  EXPECT_EQ(conn().exec(shape, p.params(), pgorm::data_format::binary).checked_layout(),
            shape.layout);
  conn().discard_all();
  conn().exec("set search_path = " + schema());
  EXPECT_EQ(conn().exec(shape, p.params(), pgorm::data_format::binary).checked_layout(),
            shape.layout);
  const std::string after = conn().prepared_name(by_id, p.params());
  EXPECT_NE(after, "");
  EXPECT_NE(after, before);
}

TEST_F(statement_shape_test, one_row_type_from_several_statements_maps_each_ones_columns) {
  const std::vector<Item> expected{{1, "a", std::nullopt}, {2, "b", "x"}, {3, "", "y"}};
  // The same struct from statements whose columns come in different orders, interleaved, so
  // that a column match reused from the wrong statement would swap fields.
  for (int round = 0; round < 3; ++round) {
    EXPECT_EQ(conn().query<Item>("select id, label, note from item order by id").all(), expected);
    EXPECT_EQ(conn().query<Item>("select note, label, id from item order by id").all(), expected);
    EXPECT_EQ(conn().select<Item>().order_by(col<&Item::id>).all(), expected);
    EXPECT_EQ(*conn().find<Item>(std::int64_t{2}), expected[1]);
  }
  // The same statement read as another row type keeps its own match.
  using row = std::tuple<std::optional<std::string>, std::string, std::int64_t>;
  const std::vector<row> rows =
      conn().query<row>("select note, label, id from item order by id").all();
  ASSERT_EQ(rows.size(), 3U);
  EXPECT_EQ(std::get<1>(rows[1]), "b");
  EXPECT_EQ(std::get<2>(rows[2]), 3);
}

TEST_F(statement_shape_test, the_column_match_follows_a_changed_result_type) {
  conn().exec("create table widget (v int not null, s text not null)");
  conn().exec("insert into widget values (7, 'seven')");
  const auto read = [&] { return conn().query<Widget>("select * from widget").one(); };
  EXPECT_EQ(read().v, 7);
  EXPECT_EQ(read().s, "seven");
  // int4 -> int8: the statement is prepared again (0A000), and the reader decodes 8 bytes.
  conn().exec("alter table widget alter column v type bigint");
  conn().exec("update widget set v = 5000000000");
  EXPECT_EQ(read().v, 5000000000);
  // A new column: the match is made again, and the extra column is reported by name.
  conn().exec("alter table widget add column extra int");
  try {
    (void)read();
    ADD_FAILURE() << "expected usage_error";
  } catch (const pgorm::usage_error& e) {
    EXPECT_NE(std::string_view(e.what()).find("\"extra\""), std::string_view::npos) << e.what();
  }
}

TEST_F(statement_shape_test, column_names_match_exactly) {
  // "id" must not match a column named "idx" or "i" (prefix comparisons).
  try {
    (void)conn().query<Item>("select 1::bigint as idx, 'l' as label, null::text as note").one();
    ADD_FAILURE() << "expected usage_error";
  } catch (const pgorm::usage_error& e) {
    EXPECT_NE(std::string_view(e.what()).find("\"id\""), std::string_view::npos) << e.what();
  }
  try {
    (void)conn().query<Item>("select 1::bigint as i, 'l' as label, null::text as note").one();
    ADD_FAILURE() << "expected usage_error";
  } catch (const pgorm::usage_error& e) {
    EXPECT_NE(std::string_view(e.what()).find("\"id\""), std::string_view::npos) << e.what();
  }
}

TEST_F(statement_shape_test, a_single_value_error_names_its_column_every_time) {
  for (int i = 0; i < 2; ++i) {  // the second read reuses the first one's match
    try {
      (void)conn().query<std::int64_t>("select null::bigint as missing_total").one();
      ADD_FAILURE() << "expected unexpected_null";
    } catch (const pgorm::unexpected_null& e) {
      EXPECT_NE(std::string_view(e.what()).find("missing_total"), std::string_view::npos)
          << e.what();
    }
  }
  try {
    (void)conn().query<std::int32_t>("select 5000000000::bigint as too_big").one();
    ADD_FAILURE() << "expected conversion_error";
  } catch (const pgorm::conversion_error& e) {
    EXPECT_NE(std::string_view(e.what()).find("too_big"), std::string_view::npos) << e.what();
  }
}

TEST_F(statement_shape_test, pipelined_statements_read_with_the_cached_match) {
  for (int round = 0; round < 2; ++round) {
    pgorm::pipeline p{conn()};
    const std::vector<std::int64_t> ids{3, 1, 2, 3};
    const auto handles = p.add_each(
        ids, [](std::int64_t id) { return pgorm::select<Item>().where(col<&Item::id> == id); });
    const auto labels =
        p.add(pgorm::query<std::tuple<std::string>>("select label from item order by id desc"));
    p.run();
    ASSERT_EQ(handles.size(), 4U);
    EXPECT_EQ(handles[0].one().note, std::optional<std::string>("y"));
    EXPECT_EQ(handles[1].one().label, "a");
    EXPECT_EQ(handles[2].one().note, std::optional<std::string>("x"));
    EXPECT_EQ(handles[3].one().id, 3);
    const auto all = labels.all();
    ASSERT_EQ(all.size(), 3U);
    EXPECT_EQ(std::get<0>(all[1]), "b");
  }
}

}  // namespace

namespace {

// A few static statements taking turns (a transaction's) are found again without a map lookup
// (statement_lru::find_recent): each keeps its one prepared statement, and one evicted or
// dropped with DISCARD ALL is prepared again, never run by a name the server no longer has.
TEST_F(statement_shape_test, statements_taking_turns_keep_their_prepared_statements) {
  // A string, not the string_view value() returns: that points into the result, which dies here.
  const auto server_count = [](pgorm::connection& c) {
    return std::string(c.exec("select count(*) from pg_prepared_statements").value(0, 0));
  };
  const auto take_turns = [](pgorm::connection& c) {
    for (int round = 0; round < 3; ++round) {
      EXPECT_EQ(pgorm::select<Item>().where(col<&Item::id> == std::int64_t{2}).one(c).label, "b");
      EXPECT_EQ(pgorm::select<Item>().where(col<&Item::label> == std::string("")).one(c).id, 3);
      EXPECT_EQ(pgorm::select<Item>().where(col<&Item::note> == std::string("x")).one(c).id, 2);
    }
  };
  pgorm::connection roomy{conninfo(), {.statement_cache_size = 8}};
  take_turns(roomy);
  EXPECT_EQ(roomy.prepared_statements(), 3U);
  if (!pgorm::test::behind_pooler()) {
    EXPECT_EQ(server_count(roomy), "3");
  }
  roomy.discard_all();
  roomy.exec("set search_path = " + schema());
  take_turns(roomy);
  EXPECT_EQ(roomy.prepared_statements(), 3U);
  if (!pgorm::test::behind_pooler()) {
    EXPECT_EQ(server_count(roomy), "3");
  }

  // Room for two: every turn evicts the statement that comes next.
  pgorm::connection tight{conninfo(), {.statement_cache_size = 2}};
  take_turns(tight);
  EXPECT_EQ(tight.prepared_statements(), 2U);
  if (!pgorm::test::behind_pooler()) {
    EXPECT_EQ(server_count(tight), "2");
  }
}

TEST_F(statement_shape_test, a_reused_buffer_with_another_text_gets_its_own_statement) {
  // A buffer (same address, same size) holding another text must find (or prepare) that
  // text's statement: only static text (a shape with a key) is recognized by its address.
  std::string sql = "select $1::bigint + 1";
  const auto p = pgorm::encode_params(std::int64_t{41});
  const std::size_t before = conn().prepared_statements();
  const pgorm::result a = conn().exec(sql, p.params(), pgorm::data_format::binary);
  const std::string first = conn().prepared_name(sql, p.params());
  const char* buffer = sql.data();
  sql.replace(0, sql.size(), "select $1::bigint + 2");
  ASSERT_EQ(sql.data(), buffer);
  const pgorm::result b = conn().exec(sql, p.params(), pgorm::data_format::binary);
  EXPECT_EQ(conn().prepared_statements(), before + 2);
  EXPECT_NE(conn().prepared_name(sql, p.params()), first);
  std::int64_t sum = 0;
  pgorm::read_field(b, 0, 0, sum, {"", "sum"});
  EXPECT_EQ(sum, 43);
  // And back to the first text: its statement again.
  sql.replace(0, sql.size(), "select $1::bigint + 1");
  EXPECT_EQ(conn().prepared_name(sql, p.params()), first);
  EXPECT_EQ(conn().prepared_statements(), before + 2);
}

}  // namespace

namespace {

TEST_F(statement_shape_test, a_pipeline_reuses_a_lookup_only_for_the_same_text_and_types) {
  pgorm::pipeline p{conn()};
  using text_row = std::tuple<std::string>;
  // Same text, parameter types text then bigint then text: three lookups, two statements.
  const auto a = p.add(pgorm::query<text_row>("select $1::text", std::string("a")));
  const auto b = p.add(pgorm::query<text_row>("select $1::text", std::int64_t{5}));
  const auto c = p.add(pgorm::query<text_row>("select $1::text", std::string("c")));
  // Same types, a text of the same length that differs.
  const auto d = p.add(pgorm::query<text_row>("select $1::TEXT", std::string("d")));
  const std::size_t before = conn().prepared_statements();
  p.run();
  EXPECT_EQ(std::get<0>(a.one()), "a");
  EXPECT_EQ(std::get<0>(b.one()), "5");
  EXPECT_EQ(std::get<0>(c.one()), "c");
  EXPECT_EQ(std::get<0>(d.one()), "d");
  EXPECT_EQ(conn().prepared_statements(), before + 3);
}

}  // namespace
