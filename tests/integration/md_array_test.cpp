// SPDX-License-Identifier: MIT
// Multi-dimensional arrays as nested std::vector through a real server: binary parameters
// out, binary results back, and the server's text output; NULL elements, empty arrays, three
// dimensions, a table column, and a ragged parameter refused before anything is sent.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include "pgorm/connection.hpp"
#include "pgorm/error.hpp"
#include "pgorm/params.hpp"
#include "pgorm/read_field.hpp"
#include "pgorm/types.hpp"
#include "support/value_test.hpp"

namespace {

class md_array_test : public pgorm::test::value_test {};

TEST_F(md_array_test, two_and_three_dimensions_with_nulls_round_trip) {
  using grid = std::vector<std::vector<std::int64_t>>;
  EXPECT_EQ(round_trip(grid{{1, 2, 3}, {4, 5, 6}}), "{{1,2,3},{4,5,6}}");
  EXPECT_EQ(text("select array_dims($1)", grid{{1, 2, 3}, {4, 5, 6}}), "[1:2][1:3]");
  using names = std::vector<std::vector<std::optional<std::string>>>;
  EXPECT_EQ(round_trip(names{{"a", std::nullopt}, {"c d", "e\"f"}}),
            "{{a,NULL},{\"c d\",\"e\\\"f\"}}");
  using cube = std::vector<std::vector<std::vector<std::int32_t>>>;
  EXPECT_EQ(round_trip(cube{{{1}, {2}}, {{3}, {4}}}), "{{{1},{2}},{{3},{4}}}");
  // The server's own multi-dimensional literal reads in binary.
  EXPECT_EQ(binary<grid>("select '{{1,2},{3,4},{5,6}}'::int8[]"), (grid{{1, 2}, {3, 4}, {5, 6}}));
  // int4 elements read into int64 leaves (the scalar codec widens).
  EXPECT_EQ(binary<grid>("select '{{7},{8}}'::int4[]"), (grid{{7}, {8}}));
}

TEST_F(md_array_test, empty_arrays_nulls_and_wrong_dimensions) {
  using grid = std::vector<std::vector<std::int32_t>>;
  EXPECT_EQ(round_trip(grid{}), "{}");
  // A zero-length dimension is the empty array, which reads back as an empty outer vector.
  EXPECT_EQ(text("select $1::text", grid{{}, {}}), "{}");
  EXPECT_EQ(binary<grid>("select $1", grid{{}, {}}), grid{});
  EXPECT_EQ(binary<std::optional<grid>>("select null::int4[]"), std::nullopt);
  EXPECT_EQ(text("select $1::text", std::optional<grid>{}), "NULL");
  // A one-dimensional array does not read into two levels, nor a 2-D one into one level.
  EXPECT_THROW((void)binary<grid>("select '{1,2}'::int4[]"), pgorm::conversion_error);
  EXPECT_THROW((void)binary<std::vector<std::int32_t>>("select '{{1},{2}}'::int4[]"),
               pgorm::conversion_error);
}

TEST_F(md_array_test, a_ragged_parameter_is_refused_naming_it) {
  using grid = std::vector<std::vector<std::int32_t>>;
  try {
    (void)text("select $1::text, $2::text", std::int32_t{1}, grid{{1, 2}, {3}});
    FAIL() << "no error";
  } catch (const pgorm::conversion_error& e) {
    EXPECT_EQ(e.column(), "$2") << e.what();
  }
}

TEST_F(md_array_test, a_table_column_stores_and_returns_a_matrix) {
  conn().exec("create table m (id int primary key, cells float8[] not null)");
  using matrix = std::vector<std::vector<double>>;
  const matrix m{{1.5, -2}, {0, 1e300}};
  const auto p = pgorm::encode_params(std::int32_t{1}, m);
  conn().exec("insert into m values ($1, $2)", p.params());
  EXPECT_EQ(binary<matrix>("select cells from m where id = 1"), m);
  EXPECT_EQ(text("select cells[2][2]::text from m"), "1e+300");
}

}  // namespace
