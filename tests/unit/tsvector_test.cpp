// SPDX-License-Identifier: MIT
// pgorm::tsvector's binary codec without a server: tsvectorsend's bytes, the checks on encode,
// and the malformed input the decoder must refuse.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include "pgorm/error.hpp"
#include "pgorm/params.hpp"
#include "pgorm/types.hpp"

namespace {

using pgorm::tsvector;

template <class T>
std::string be(T v) {
  pgorm::byte_buffer out;
  out.append_be(v);
  return {out.data(), out.size()};
}

std::string encode(const tsvector& v) {
  pgorm::byte_buffer out;
  pgorm::pg_type<tsvector>::encode(v, out);
  return {out.data(), out.size()};
}

tsvector decode(const std::string& bytes) {
  tsvector out;
  pgorm::pg_type<tsvector>::decode(bytes, pgorm::oids::tsvector, out);
  return out;
}

TEST(tsvector, writes_lexemes_positions_and_weights_as_tsvectorsend) {
  const tsvector v{{{"fox", {{3, 'D'}}}, {"quick", {{2, 'A'}, {7, 'c'}}}, {"lazy", {}}}};
  const std::string want =
      be(std::int32_t{3}) + std::string("fox\0", 4) + be(std::uint16_t{1}) + be(std::uint16_t{3}) +
      std::string("quick\0", 6) + be(std::uint16_t{2}) + be(std::uint16_t{(3U << 14U) | 2U}) +
      be(std::uint16_t{(1U << 14U) | 7U}) + std::string("lazy\0", 5) + be(std::uint16_t{0});
  EXPECT_EQ(encode(v), want);
  tsvector back = decode(want);
  EXPECT_EQ(back.lexemes[1].positions[1].weight, 'C');  // read back upper case
  back.lexemes[1].positions[1].weight = 'c';
  EXPECT_EQ(back, v);
  EXPECT_EQ(encode(tsvector{}), be(std::int32_t{0}));
  EXPECT_EQ(decode(be(std::int32_t{0})), tsvector{});
  static_assert(pgorm::pg_type<tsvector>::sql_name == "tsvector");
  static_assert(pgorm::pg_type<std::vector<tsvector>>::oid == pgorm::oids::tsvector_array);
}

TEST(tsvector, refuses_what_the_server_would_refuse_before_sending) {
  const auto refused = [](const tsvector& v) {
    pgorm::byte_buffer out;
    EXPECT_THROW(pgorm::pg_type<tsvector>::encode(v, out), pgorm::conversion_error);
  };
  refused(tsvector{{{"", {}}}});                       // empty word
  refused(tsvector{{{std::string("a\0b", 3), {}}}});   // NUL byte
  refused(tsvector{{{std::string(2048, 'x'), {}}}});   // too long
  refused(tsvector{{{"fox", {{0, 'D'}}}}});            // positions start at 1
  refused(tsvector{{{"fox", {{16384, 'D'}}}}});        // past 16383
  refused(tsvector{{{"fox", {{3, 'D'}, {3, 'A'}}}}});  // not increasing
  refused(tsvector{{{"fox", {{3, 'E'}}}}});            // no such weight
  tsvector many{{{"fox", {}}}};
  for (std::uint16_t i = 1; i <= 257; ++i) many.lexemes[0].positions.push_back({i, 'D'});
  refused(many);
  // As a parameter, the error names it.
  try {
    (void)pgorm::encode_params(std::int32_t{1}, tsvector{{{"", {}}}});
    FAIL() << "no error";
  } catch (const pgorm::conversion_error& e) {
    EXPECT_EQ(e.column(), "$2");
  }
}

TEST(tsvector, refuses_malformed_binary_input) {
  const std::string fox = std::string("fox\0", 4) + be(std::uint16_t{1}) + be(std::uint16_t{3});
  for (const std::string& bad : {
           std::string{},                                     // no count
           be(std::int32_t{-1}),                              // negative count
           be(std::int32_t{1}),                               // no lexeme
           be(std::int32_t{1000000}) + fox,                   // count past the bytes
           be(std::int32_t{1}) + std::string("fox", 3),       // unterminated
           be(std::int32_t{1}) + std::string("\0\0\0\0", 4),  // empty word
           be(std::int32_t{1}) + std::string("fox\0", 4),     // no position count
           be(std::int32_t{1}) + std::string("fox\0", 4) + be(std::uint16_t{2}) +
               be(std::uint16_t{3}),         // a position short
           be(std::int32_t{1}) + fox + "x",  // trailing bytes
           be(std::int32_t{1}) + std::string("fox\0", 4) + be(std::uint16_t{1}) +
               be(std::uint16_t{0}),  // position 0
           be(std::int32_t{1}) + std::string("fox\0", 4) + be(std::uint16_t{2}) +
               be(std::uint16_t{5}) + be(std::uint16_t{(3U << 14U) | 5U}),  // repeated
           be(std::int32_t{1}) + std::string(2048, 'x') + std::string("\0", 1) +
               be(std::uint16_t{0}),  // too long a word
           be(std::int32_t{1}) + std::string("fox\0", 4) + be(std::uint16_t{257}) +
               std::string(514, '\x01'),  // too many positions
       }) {
    SCOPED_TRACE(bad.size());
    EXPECT_THROW((void)decode(bad), pgorm::conversion_error);
  }
}

}  // namespace
