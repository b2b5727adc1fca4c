// SPDX-License-Identifier: MIT
// pgorm::range<T> without a server: equality, and the binary codec (range_send's format) both
// ways, including the malformed inputs the decoder must refuse.
#include "pgorm/range.hpp"

#include <cstdint>
#include <string>

#include <gtest/gtest.h>

#include "pgorm/error.hpp"
#include "pgorm/types.hpp"

namespace {

using int_range = pgorm::range<std::int32_t>;

std::string encode(const int_range& r) {
  pgorm::byte_buffer out;
  pgorm::pg_type<int_range>::encode(r, out);
  return {out.data(), out.size()};
}

int_range decode(const std::string& bytes) {
  int_range r{5, 6};
  pgorm::pg_type<int_range>::decode(bytes, pgorm::oids::int4range, r);
  return r;
}

const std::string one_to_ten = std::string("\x02\0\0\0\x04\0\0\0\x01\0\0\0\x04\0\0\0\x0a", 17);

TEST(range, equality_ignores_the_inclusivity_of_absent_bounds) {
  EXPECT_EQ(int_range{}, (int_range{std::nullopt, std::nullopt, false, true}));
  int_range emptied{1, 2};
  emptied.empty = true;
  EXPECT_EQ(emptied, int_range::empty_range());  // the bounds of an empty range do not count
  EXPECT_NE(int_range{}, int_range::empty_range());
  EXPECT_NE((int_range{1, 5}), (int_range{1, 5, true, true}));
  EXPECT_EQ(int_range::at_least(3), (int_range{3, std::nullopt, true, true}));
}

TEST(range_codec, writes_range_send_format) {
  EXPECT_EQ(encode(int_range{1, 10}), one_to_ten);
  EXPECT_EQ(encode(int_range::empty_range()), std::string("\x01", 1));
  EXPECT_EQ(encode(int_range{}), std::string("\x18", 1));
  EXPECT_EQ(encode(int_range::below(7)), std::string("\x08\0\0\0\x04\0\0\0\x07", 9));
  EXPECT_EQ(encode(int_range{1, 2, false, true}),
            std::string("\x04\0\0\0\x04\0\0\0\x01\0\0\0\x04\0\0\0\x02", 17));
}

TEST(range_codec, reads_what_it_writes) {
  for (const int_range& r :
       {int_range{1, 10}, int_range::empty_range(), int_range{}, int_range::below(-3),
        int_range::at_least(0), int_range{-5, 5, false, true}}) {
    EXPECT_EQ(decode(encode(r)), r);
  }
}

TEST(range_codec, refuses_malformed_values) {
  for (const std::string& bad : {
           std::string(),                           // no flags
           std::string("\x01\x00", 2),              // empty with trailing bytes
           std::string("\x02", 1),                  // lower bound missing
           std::string("\x02\0\0\0\x04\0\0", 7),    // bound cut short
           std::string("\x18\x00", 2),              // trailing byte
           std::string("\x12\xff\xff\xff\xff", 5),  // negative length
           std::string("\x12\0\0\0\x03\0\0\0", 8),  // int4 bound of 3 bytes
           one_to_ten + "x",                        // trailing byte after the bounds
       }) {
    EXPECT_THROW((void)decode(bad), pgorm::conversion_error) << bad.size();
  }
}

}  // namespace
