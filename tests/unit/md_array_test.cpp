// SPDX-License-Identifier: MIT
// Multi-dimensional arrays as nested std::vector without a server: array_send's format with
// one dimension entry per level, ragged input refused naming the parameter, and the malformed
// headers the decoder must refuse.
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "pgorm/error.hpp"
#include "pgorm/params.hpp"
#include "pgorm/types.hpp"

namespace mdu {
enum class mood { calm, odd };
}  // namespace mdu

template <>
struct pgorm::enum_traits<mdu::mood> {
  static constexpr std::string_view type_name = "mdu_mood";
  static constexpr std::array values{std::pair{mdu::mood::calm, "calm"},
                                     std::pair{mdu::mood::odd, "a \"b\",{c}"}};
};

namespace {

using grid = std::vector<std::vector<std::int32_t>>;

std::string be32(std::int32_t v) {
  pgorm::byte_buffer out;
  out.append_be(v);
  return {out.data(), out.size()};
}

template <class T>
std::string encode(const T& value) {
  pgorm::byte_buffer out;
  pgorm::pg_type<T>::encode(value, out);
  return {out.data(), out.size()};
}

template <class T>
T decode(const std::string& bytes) {
  T out{};
  pgorm::pg_type<T>::decode(bytes, pgorm::oids::int4_array, out);
  return out;
}

TEST(md_array, writes_one_dimension_entry_per_level_in_row_major_order) {
  const grid g{{1, 2, 3}, {4, 5, 6}};
  std::string want = be32(2) + be32(0) + be32(23) + be32(2) + be32(1) + be32(3) + be32(1);
  for (int v = 1; v <= 6; ++v) want += be32(4) + be32(v);
  EXPECT_EQ(encode(g), want);
  EXPECT_EQ(decode<grid>(want), g);
  static_assert(pgorm::pg_type<grid>::oid == pgorm::oids::int4_array);
  static_assert(pgorm::pg_type<grid>::sql_name == "integer[]");
}

TEST(md_array, empty_dimensions_make_the_empty_array) {
  const std::string empty = be32(0) + be32(0) + be32(23);
  EXPECT_EQ(encode(grid{}), empty);
  EXPECT_EQ(encode(grid{{}, {}}), empty);
  EXPECT_EQ(decode<grid>(empty), grid{});
}

TEST(md_array, nulls_and_three_levels) {
  using cube = std::vector<std::vector<std::vector<std::optional<std::int32_t>>>>;
  const cube c{{{1, std::nullopt}, {3, 4}}, {{5, 6}, {std::nullopt, 8}}};
  const std::string bytes = encode(c);
  EXPECT_EQ(bytes.substr(0, 8), be32(3) + be32(1));  // 3 dimensions, has NULLs
  EXPECT_EQ(decode<cube>(bytes), c);
}

TEST(md_array, ragged_input_is_a_conversion_error_naming_the_parameter) {
  const grid ragged{{1, 2}, {3}};
  try {
    (void)pgorm::encode_params(std::int32_t{7}, ragged);
    FAIL() << "no error";
  } catch (const pgorm::conversion_error& e) {
    EXPECT_EQ(e.column(), "$2");
    EXPECT_NE(std::string(e.what()).find("rectangular"), std::string::npos) << e.what();
  }
  pgorm::byte_buffer out;
  EXPECT_THROW(pgorm::pg_type<grid>::encode(grid{{}, {1}}, out), pgorm::conversion_error);
}

TEST(md_array, enum_grids_are_text_parameters_quoted_per_element) {
  using mdu::mood;
  using mood_grid = std::vector<std::vector<std::optional<mood>>>;
  const mood_grid g{{mood::calm, std::nullopt}, {mood::odd, mood::calm}};
  const auto p = pgorm::encode_params(g, std::vector<std::vector<mood>>{{}, {}});
  ASSERT_EQ(p.size(), 2U);
  const auto first = p.params()[0];
  EXPECT_EQ(first.format(), pgorm::data_format::text);
  EXPECT_EQ(first.type(), 0U);  // the server takes the enum type from the context
  EXPECT_EQ(std::string(first.bytes().data(), first.bytes().size()),
            R"({{"calm",NULL},{"a \"b\",{c}","calm"}})");
  const auto second = p.params()[1];
  EXPECT_EQ(std::string(second.bytes().data(), second.bytes().size()), "{}");
  static_assert(pgorm::pg_type<mood_grid>::sql_name == "mdu_mood[]");
  static_assert(pgorm::pg_type<mood_grid>::element_type_name == "mdu_mood");
  try {
    (void)pgorm::encode_params(std::vector<std::vector<mood>>{{mood::calm}, {}});
    FAIL() << "no error";
  } catch (const pgorm::conversion_error& e) {
    EXPECT_EQ(e.column(), "$1");
  }
}

TEST(md_array, refuses_malformed_headers) {
  const std::string head2 = be32(2) + be32(0) + be32(23);
  for (const std::string& bad : {
           std::string("\0\0\0", 3),                                              // short header
           be32(1) + be32(0) + be32(23) + be32(1) + be32(1) + be32(4) + be32(1),  // 1-D
           be32(-2) + be32(0) + be32(23),                                         // negative ndim
           head2 + be32(1) + be32(1),                                             // dims cut short
           head2 + be32(1) + be32(1) + be32(-1) + be32(1),                        // negative size
           head2 + be32(65536) + be32(1) + be32(65536) + be32(1),     // more than the bytes hold
           head2 + be32(1) + be32(1) + be32(1) + be32(1) + be32(4),   // element cut short
           head2 + be32(1) + be32(1) + be32(1) + be32(1) + be32(-1),  // NULL, not optional
           be32(2) + be32(2) + be32(23),                              // bad flags
       }) {
    EXPECT_THROW((void)decode<grid>(bad), pgorm::conversion_error) << bad.size();
  }
  // Text elements into an integer grid.
  EXPECT_THROW((void)decode<grid>(be32(2) + be32(0) + be32(25) + be32(1) + be32(1) + be32(1) +
                                  be32(1) + be32(1) + "x"),
               pgorm::conversion_error);
}

}  // namespace
