// SPDX-License-Identifier: MIT
// Composite types in the schema functions, against a real server: create<T>() makes the
// composite types a table's columns use (nested ones first) before the table, and diff<T>()
// reports a missing composite type and a changed one (an attribute of another type, one the
// struct lacks, one it lacks, attributes out of order), with SQL that brings the database in
// sync.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <gtest/gtest.h>

#include "pgorm/composite.hpp"
#include "pgorm/migrate.hpp"
#include "pgorm/pgorm.hpp"
#include "support/db_test.hpp"

namespace sc {

struct point2 {
  std::int32_t x;
  std::int32_t y;

  friend bool operator==(const point2&, const point2&) = default;
};

struct label {  // holds a composite
  std::string text;
  point2 at;
  std::optional<std::int64_t> weight;

  friend bool operator==(const label&, const label&) = default;
};

struct Sign {
  std::int64_t id;
  label main;
  std::optional<label> extra;
  std::optional<point2> origin;

  friend bool operator==(const Sign&, const Sign&) = default;
};

}  // namespace sc

template <>
struct pgorm::composite_traits<sc::point2> {
  static constexpr std::string_view type_name = "sc_point";
};
template <>
struct pgorm::composite_traits<sc::label> {
  static constexpr std::string_view type_name = "sc_label";
};
template <>
struct pgorm::table_traits<sc::Sign> {
  static constexpr std::string_view name = "sc_signs";
  static constexpr auto primary_key = pgorm::key(&sc::Sign::id);
};

namespace {

using pgorm::schema::change_kind;
using sc::label;
using sc::point2;
using sc::Sign;

class schema_composite_test : public pgorm::test::db_test {
 protected:
  // The attributes of a composite type of the test's schema: "name type, ...".
  std::string attributes(std::string_view type) {
    auto r = conn().exec(
        "select string_agg(a.attname || ' ' || format_type(a.atttypid, a.atttypmod), ', ' "
        "order by a.attnum) from pg_attribute a join pg_type t on t.typrelid = a.attrelid join "
        "pg_namespace n on n.oid = t.typnamespace where t.typname = $1 and n.nspname = "
        "current_schema() and a.attnum > 0 and not a.attisdropped",
        {pgorm::param::text(std::string(type))});
    return r.is_null(0, 0) ? "" : std::string(r.value(0, 0));
  }
  void run(const pgorm::schema::diff_result& d) {
    conn().transaction([&](pgorm::transaction& tx) {
      for (const auto& c : d.changes) {
        for (const auto& statement : pgorm::migrate::split_statements(c.sql)) tx.exec(statement);
      }
    });
  }
};

TEST_F(schema_composite_test, create_makes_the_composite_types_nested_first) {
  pgorm::schema::create<Sign>(conn());
  EXPECT_EQ(attributes("sc_point"), "x integer, y integer");
  EXPECT_EQ(attributes("sc_label"), "text text, at sc_point, weight bigint");
  // The table works with them, a composite holding a composite included.
  const Sign s{
      1, {"exit", {3, -4}, std::nullopt}, label{"\"in\", (here)", {0, 0}, 7}, point2{1, 2}};
  pgorm::insert(s).exec(conn());
  EXPECT_EQ(conn().select<Sign>().one(), s);
  const auto d = pgorm::schema::diff<Sign>(conn());
  EXPECT_TRUE(d.in_sync()) << d.report();
  // if_not_exists on an existing schema: the existing types are reused.
  pgorm::schema::create<Sign>(conn(), {.if_not_exists = true});
}

TEST_F(schema_composite_test, diff_creates_missing_composite_types_before_the_table) {
  const auto d = pgorm::schema::diff<Sign>(conn());
  ASSERT_EQ(d.changes.size(), 3U) << d.report();
  EXPECT_EQ(d.changes[0].kind, change_kind::create_composite);
  EXPECT_EQ(d.changes[0].sql, pgorm::schema::create_type<point2>());
  EXPECT_EQ(d.changes[1].kind, change_kind::create_composite);
  EXPECT_EQ(d.changes[1].sql, pgorm::schema::create_type<label>());
  EXPECT_EQ(d.changes[1].sql, "CREATE TYPE sc_label AS (text text, at sc_point, weight bigint);");
  EXPECT_EQ(d.changes[2].kind, change_kind::create_table);
  EXPECT_FALSE(d.destructive());
  run(d);
  const auto again = pgorm::schema::diff<Sign>(conn());
  EXPECT_TRUE(again.in_sync()) << again.report();
}

TEST_F(schema_composite_test, diff_reports_a_changed_composite_type_as_drift) {
  // sc_point: x has another type, z is not in the struct. sc_label: its first attributes are
  // in another order than the struct's (pgorm reads fields by position), weight is missing.
  conn().exec("create type sc_point as (x bigint, y integer, z integer)");
  conn().exec("create type sc_label as (at sc_point, text text)");
  const auto d = pgorm::schema::diff<Sign>(conn());
  std::vector<change_kind> kinds;
  for (const auto& c : d.changes) kinds.push_back(c.kind);
  const std::vector<change_kind> expected = {
      change_kind::alter_attribute, change_kind::drop_attribute, change_kind::drop_attribute,
      change_kind::drop_attribute,  change_kind::add_attribute,  change_kind::add_attribute,
      change_kind::add_attribute,   change_kind::create_table};
  ASSERT_EQ(kinds, expected) << d.report();
  EXPECT_EQ(d.changes[0].sql, "ALTER TYPE sc_point ALTER ATTRIBUTE x TYPE integer;");
  EXPECT_EQ(d.changes[0].description, "sc_point.x: bigint -> integer");
  EXPECT_EQ(d.changes[1].sql, "ALTER TYPE sc_point DROP ATTRIBUTE z;");
  EXPECT_EQ(d.changes[2].sql, "ALTER TYPE sc_label DROP ATTRIBUTE at;");
  EXPECT_NE(d.changes[2].description.find("out of the struct's order"), std::string::npos);
  EXPECT_EQ(d.changes[6].sql, "ALTER TYPE sc_label ADD ATTRIBUTE weight bigint;");
  EXPECT_TRUE(d.destructive());
  for (const auto& c : d.changes) {
    EXPECT_EQ(c.destructive, c.kind == change_kind::drop_attribute) << c.description;
  }
  EXPECT_NE(d.report().find("[destructive] drop_attribute: sc_point.z: no struct field"),
            std::string::npos)
      << d.report();
  run(d);
  EXPECT_EQ(attributes("sc_point"), "x integer, y integer");
  EXPECT_EQ(attributes("sc_label"), "text text, at sc_point, weight bigint");
  const auto again = pgorm::schema::diff<Sign>(conn());
  EXPECT_TRUE(again.in_sync()) << again.report();
}

}  // namespace
