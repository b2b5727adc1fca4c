// SPDX-License-Identifier: MIT
// The binary COPY format byte by byte (PostgreSQL docs, COPY, "Binary Format"): header,
// tuples with their field count, -1 for NULL, the trailer; and the decoder on whole and
// chunked streams, including malformed ones. No server.

#include "pgorm/copy.hpp"

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "pgorm/table.hpp"
#include "pgorm/types.hpp"

namespace copy_unit {

struct Row {
  std::int64_t id;
  std::int32_t qty;
  std::optional<std::string> note;
  bool flag;
};

enum class mood { calm, loud };

}  // namespace copy_unit

template <>
struct pgorm::enum_traits<copy_unit::mood> {
  static constexpr std::string_view type_name = "mood";
  static constexpr std::array values{std::pair{copy_unit::mood::calm, "calm"},
                                     std::pair{copy_unit::mood::loud, "loud"}};
};

template <>
struct pgorm::table_traits<copy_unit::Row> {
  static constexpr std::string_view name = "rows";
  static constexpr auto primary_key = pgorm::identity(&copy_unit::Row::id);
};

namespace {

using copy_unit::Row;
using namespace std::string_view_literals;
using namespace std::string_literals;

std::string bytes_of(const pgorm::byte_buffer& b) { return std::string(b.view()); }

using fields_t = std::vector<std::optional<std::string>>;

std::vector<fields_t> decode_all(std::string_view stream, std::size_t chunk,
                                 std::size_t expected = 0) {
  pgorm::detail::copy_decoder d;
  std::vector<fields_t> rows;
  const pgorm::detail::copy_decoder::row_fn on_row =
      [&](std::span<const std::optional<std::string_view>> f) {
        fields_t row;
        for (const auto& v : f) row.push_back(v ? std::optional<std::string>(*v) : std::nullopt);
        rows.push_back(std::move(row));
      };
  for (std::size_t at = 0; at < stream.size(); at += chunk) {
    d.feed(stream.substr(at, chunk), on_row, expected);
  }
  d.finish();
  EXPECT_EQ(d.rows(), static_cast<std::int64_t>(rows.size()));
  return rows;
}

TEST(copy_format, header_is_signature_flags_and_extension_length) {
  pgorm::byte_buffer out;
  pgorm::detail::copy_write_header(out);
  EXPECT_EQ(bytes_of(out),
            "PGCOPY\n\377\r\n\0"sv
            "\0\0\0\0"sv
            "\0\0\0\0"sv);
  EXPECT_EQ(out.size(), 19U);
}

TEST(copy_format, trailer_is_minus_one_as_int16) {
  pgorm::byte_buffer out;
  pgorm::detail::copy_write_trailer(out);
  EXPECT_EQ(bytes_of(out), "\xff\xff"sv);
}

TEST(copy_format, field_is_length_then_bytes_and_null_is_minus_one) {
  pgorm::byte_buffer out;
  pgorm::detail::copy_write_field(std::int32_t{42}, out);
  EXPECT_EQ(bytes_of(out), "\0\0\0\x04\0\0\0\x2a"sv);
  out.clear();
  pgorm::detail::copy_write_field(std::optional<std::string>{}, out);
  EXPECT_EQ(bytes_of(out), "\xff\xff\xff\xff"sv);
  out.clear();
  pgorm::detail::copy_write_field(std::optional<std::string>{"ab"}, out);
  EXPECT_EQ(bytes_of(out),
            "\0\0\0\x02"
            "ab"sv);
  out.clear();
  pgorm::detail::copy_write_field(std::string{}, out);
  EXPECT_EQ(bytes_of(out), "\0\0\0\0"sv) << "an empty string is not NULL";
}

TEST(copy_format, an_enum_array_field_carries_the_looked_up_element_oid) {
  using moods = std::vector<copy_unit::mood>;
  static_assert(pgorm::detail::runtime_oid_field<moods>);
  static_assert(pgorm::detail::runtime_oid_field<std::vector<std::optional<copy_unit::mood>>>);
  static_assert(!pgorm::detail::runtime_oid_field<std::vector<std::int32_t>>);
  static_assert(!pgorm::detail::runtime_oid_field<copy_unit::mood>);
  EXPECT_EQ(pgorm::pg_type<moods>::element_type_name, "mood");
  pgorm::byte_buffer out;
  pgorm::detail::copy_write_field(moods{copy_unit::mood::loud}, out, 0x4010);
  EXPECT_EQ(bytes_of(out),
            "\0\0\0\x1c"sv            // field length 28
            "\0\0\0\x01\0\0\0\0"sv    // 1 dimension, no NULLs
            "\0\0\x40\x10"sv          // element type: the OID given
            "\0\0\0\x01\0\0\0\x01"sv  // 1 element, lower bound 1
            "\0\0\0\x04loud"sv);
}

TEST(copy_format, row_writes_field_count_and_skips_identity_columns) {
  constexpr auto mask = pgorm::detail::copy_default_mask<Row>();
  EXPECT_FALSE(mask[0]) << "identity column id is not written";
  EXPECT_TRUE(mask[1] && mask[2] && mask[3]);
  pgorm::byte_buffer out;
  pgorm::detail::copy_write_row(Row{7, 3, std::nullopt, true}, mask, 3, out);
  EXPECT_EQ(bytes_of(out),
            "\0\x03"sv                // 3 fields
            "\0\0\0\x04\0\0\0\x03"sv  // qty = 3
            "\xff\xff\xff\xff"sv      // note = NULL
            "\0\0\0\x01\x01"sv);      // flag = true
}

TEST(copy_format, copy_in_sql_lists_the_masked_columns) {
  EXPECT_EQ(pgorm::detail::copy_in_sql<Row>(pgorm::detail::copy_default_mask<Row>()),
            "COPY rows (qty, note, flag) FROM STDIN (FORMAT binary)");
}

std::string sample_stream() {
  pgorm::byte_buffer out;
  constexpr auto mask = pgorm::detail::copy_default_mask<Row>();
  pgorm::detail::copy_write_header(out);
  pgorm::detail::copy_write_row(Row{0, 1, std::string("x"), false}, mask, 3, out);
  pgorm::detail::copy_write_row(Row{0, -2, std::nullopt, true}, mask, 3, out);
  pgorm::detail::copy_write_trailer(out);
  return bytes_of(out);
}

TEST(copy_decoder, decodes_what_the_encoder_wrote_whole_and_in_every_chunk_size) {
  const std::string stream = sample_stream();
  for (std::size_t chunk = 1; chunk <= stream.size(); ++chunk) {
    const auto rows = decode_all(stream, chunk, 3);
    ASSERT_EQ(rows.size(), 2U) << "chunk " << chunk;
    EXPECT_EQ(rows[0][0], std::string("\0\0\0\x01", 4));
    EXPECT_EQ(rows[0][1], "x");
    EXPECT_EQ(rows[0][2], std::string("\0", 1));
    EXPECT_EQ(rows[1][1], std::nullopt);
    EXPECT_EQ(rows[1][2], std::string("\x01", 1));
  }
}

TEST(copy_decoder, skips_the_header_extension) {
  std::string stream(
      "PGCOPY\n\377\r\n\0"
      "\0\0\0\0"
      "\0\0\0\x03"
      "abc"
      "\0\x01\0\0\0\x01z"
      "\xff\xff",
      11 + 4 + 4 + 3 + 7 + 2);
  const auto rows = decode_all(stream, stream.size());
  ASSERT_EQ(rows.size(), 1U);
  EXPECT_EQ(rows[0][0], "z");
}

TEST(copy_decoder, zero_rows_is_header_and_trailer) {
  pgorm::byte_buffer out;
  pgorm::detail::copy_write_header(out);
  pgorm::detail::copy_write_trailer(out);
  EXPECT_TRUE(decode_all(out.view(), 5).empty());
}

TEST(copy_decoder, rejects_malformed_streams) {
  const pgorm::detail::copy_decoder::row_fn ignore = [](auto) {};
  std::string stream = sample_stream();
  {
    std::string bad = stream;
    bad[0] = 'X';
    pgorm::detail::copy_decoder d;
    EXPECT_THROW(d.feed(bad, ignore), pgorm::conversion_error) << "signature";
  }
  {
    std::string bad = stream;
    bad[12] = '\x01';  // flags, big-endian at byte 11: bit 16 = OIDs included
    pgorm::detail::copy_decoder d;
    EXPECT_THROW(d.feed(bad, ignore), pgorm::conversion_error) << "OIDs";
  }
  {
    pgorm::detail::copy_decoder d;
    EXPECT_THROW(d.feed(stream, ignore, 4), pgorm::conversion_error) << "field count";
  }
  {
    pgorm::detail::copy_decoder d;
    d.feed(std::string_view(stream).substr(0, stream.size() - 2), ignore);
    EXPECT_THROW(d.finish(), pgorm::conversion_error) << "no trailer";
  }
  {
    pgorm::detail::copy_decoder d;
    EXPECT_THROW(d.feed(stream + "\0\x01"s, ignore), pgorm::conversion_error) << "after trailer";
  }
  {
    pgorm::detail::copy_decoder d;
    d.feed("PGCOPY", ignore);
    EXPECT_THROW(d.finish(), pgorm::conversion_error) << "no header";
  }
}

}  // namespace
