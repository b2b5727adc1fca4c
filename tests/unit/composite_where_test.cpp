// SPDX-License-Identifier: MIT
// A composite column compared with structs in where(), without a server: the SQL text (the
// parameter cast to the type, `= ANY(...)` for in()) and the parameters pgorm sends, for a
// plain composite and for one holding a composite (sent as text, its record literal). The
// same statements run against the server in tests/integration/composite_test.cpp.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include "pgorm/composite.hpp"
#include "pgorm/query.hpp"

namespace composite_where_unit {

struct address {
  std::string street;
  std::string city;
  std::optional<std::string> zip;
};

struct located {  // a composite holding a composite
  std::int32_t id;
  address where;
};

struct Place {
  std::int64_t id;
  located at;
  std::optional<located> also;
};

}  // namespace composite_where_unit

template <>
struct pgorm::composite_traits<composite_where_unit::address> {
  static constexpr std::string_view type_name = "address";
};
template <>
struct pgorm::composite_traits<composite_where_unit::located> {
  static constexpr std::string_view type_name = "located";
};
template <>
struct pgorm::table_traits<composite_where_unit::Place> {
  static constexpr std::string_view name = "places";
  static constexpr auto primary_key = pgorm::key(&composite_where_unit::Place::id);
};

namespace {

using composite_where_unit::located;
using composite_where_unit::Place;
using pgorm::col;

TEST(composite_where, in_on_a_nested_composite_column_is_one_text_array_parameter) {
  const located a{7, {"Elm \"2\", (back)", "x", std::nullopt}};
  const located b{-1, {"s", "c", std::string("9")}};
  const auto s =
      pgorm::select<Place>().where(col<&Place::at>.in(std::vector<located>{a, b})).to_sql();
  EXPECT_EQ(s.sql, "SELECT id, at, also FROM places WHERE at = ANY($1::located[])");
  const auto params = s.params.params();
  ASSERT_EQ(params.size(), 1U);
  // The nested composite has no binary parameter form the client can type (its OID is the
  // server's): the array goes out as text, each record quoted, its quotes and backslashes
  // escaped once more at each level (the record in the array, the record in the record).
  EXPECT_EQ(params[0].format(), pgorm::data_format::text);
  EXPECT_EQ(params[0].type(), 0U);
  EXPECT_EQ(
      params[0].bytes(),
      R"x({"(\"7\",\"(\\\"Elm \\\\\\\"2\\\\\\\", (back)\\\",\\\"x\\\",)\")","(\"-1\",\"(\\\"s\\\",\\\"c\\\",\\\"9\\\")\")"})x");
}

TEST(composite_where, equality_on_a_nullable_nested_composite_column_casts_the_parameter) {
  const located a{1, {"a", "b", std::nullopt}};
  const auto s = pgorm::select<Place>().where(col<&Place::also> == a).to_sql();
  EXPECT_EQ(s.sql, "SELECT id, at, also FROM places WHERE also = $1::located");
  ASSERT_EQ(s.params.params().size(), 1U);
  EXPECT_FALSE(s.params.params()[0].is_null());
}

TEST(composite_where, in_with_no_struct_sends_an_empty_array) {
  const auto s = pgorm::select<Place>().where(col<&Place::at>.in(std::vector<located>{})).to_sql();
  EXPECT_EQ(s.sql, "SELECT id, at, also FROM places WHERE at = ANY($1::located[])");
  ASSERT_EQ(s.params.params().size(), 1U);
  EXPECT_EQ(s.params.params()[0].bytes(), "{}");
}

}  // namespace
