// SPDX-License-Identifier: MIT
// Codecs without a server: exact wire bytes for known values, round trips, and the errors.
// read_field is exercised on results built with libpq's PQmakeEmptyPGresult/PQsetvalue.
#include "pgorm/types.hpp"

#include <array>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>
#include <libpq-fe.h>

#include "pgorm/params.hpp"

namespace {

using namespace std::chrono_literals;
using std::chrono::days;
using std::chrono::microseconds;
using std::chrono::sys_days;

enum class role { admin, member, guest };
enum class color { red, green };
enum class quirky { quote, backslash };

}  // namespace

template <>
struct pgorm::enum_traits<role> {
  static constexpr std::string_view type_name = "user_role";
  static constexpr std::array values{std::pair{role::admin, "admin"},
                                     std::pair{role::member, "member"}};
};

template <>
struct pgorm::enum_traits<quirky> {
  static constexpr std::string_view type_name = "quirky";
  static constexpr std::array values{std::pair{quirky::quote, "say \"hi\""},
                                     std::pair{quirky::backslash, "back\\slash"}};
};

template <>
struct pgorm::enum_traits<color> {
  static constexpr std::array values{std::pair{color::red, "red"},
                                     std::pair{color::green, "green"}};
};

namespace {

// The binary form of `value` as lower-case hex bytes separated by spaces.
template <class T>
std::string encode_hex(const T& value) {
  pgorm::byte_buffer out;
  pgorm::pg_type<T>::encode(value, out);
  std::string hex;
  for (const char c : out.view()) {
    static constexpr char digits[] = "0123456789abcdef";
    const auto b = static_cast<unsigned char>(c);
    if (!hex.empty()) hex.push_back(' ');
    hex.push_back(digits[b >> 4]);
    hex.push_back(digits[b & 0xF]);
  }
  return hex;
}

std::string unhex(std::string_view hex) {
  std::string bytes;
  for (std::size_t i = 0; i + 1 < hex.size() + 1; i += 3) {
    bytes.push_back(static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
  }
  return bytes;
}

template <class T>
T decode(std::string_view bytes, pgorm::oid type = pgorm::pg_type<T>::oid) {
  T out{};
  pgorm::pg_type<T>::decode(bytes, type, out);
  return out;
}

template <class T>
T decode_hex(std::string_view hex, pgorm::oid type = pgorm::pg_type<T>::oid) {
  return decode<T>(unhex(hex), type);
}

template <class T>
T round_trip(const T& value) {
  pgorm::byte_buffer out;
  pgorm::pg_type<T>::encode(value, out);
  return decode<T>(out.view());
}

// ---- scalars ------------------------------------------------------------------------------------

TEST(types_scalar, integers_are_big_endian) {
  EXPECT_EQ(encode_hex(std::int32_t{42}), "00 00 00 2a");
  EXPECT_EQ(encode_hex(std::int16_t{-2}), "ff fe");
  EXPECT_EQ(encode_hex(std::numeric_limits<std::int64_t>::min()), "80 00 00 00 00 00 00 00");
  EXPECT_EQ(encode_hex(std::numeric_limits<std::int64_t>::max()), "7f ff ff ff ff ff ff ff");
  EXPECT_EQ(decode_hex<std::int32_t>("00 00 00 2a"), 42);
  EXPECT_EQ(round_trip(std::numeric_limits<std::int64_t>::min()),
            std::numeric_limits<std::int64_t>::min());
  EXPECT_EQ(round_trip(std::int16_t{-32768}), -32768);
}

TEST(types_scalar, integer_oids_and_names) {
  EXPECT_EQ(pgorm::pg_type<std::int16_t>::oid, 21u);
  EXPECT_EQ(pgorm::pg_type<std::int32_t>::oid, 23u);
  EXPECT_EQ(pgorm::pg_type<std::int64_t>::oid, 20u);
  EXPECT_EQ(pgorm::pg_type<long long>::oid, 20u);
  EXPECT_EQ(pgorm::pg_type<std::int16_t>::sql_name, "smallint");
  EXPECT_EQ(pgorm::pg_type<std::int32_t>::sql_name, "integer");
  EXPECT_EQ(pgorm::pg_type<std::int64_t>::sql_name, "bigint");
}

TEST(types_scalar, integers_widen_from_narrower_columns) {
  EXPECT_EQ(decode_hex<std::int64_t>("ff fe", pgorm::oids::int2), -2);
  EXPECT_EQ(decode_hex<std::int64_t>("00 00 00 2a", pgorm::oids::int4), 42);
  EXPECT_TRUE(pgorm::pg_type<std::int64_t>::accepts(pgorm::oids::int2));
  EXPECT_TRUE(pgorm::pg_type<std::int16_t>::accepts(pgorm::oids::int8));
  EXPECT_FALSE(pgorm::pg_type<std::int32_t>::accepts(pgorm::oids::numeric));
  EXPECT_FALSE(pgorm::pg_type<std::int32_t>::accepts(pgorm::oids::text));
}

TEST(types_scalar, narrowing_is_range_checked) {
  EXPECT_EQ(decode_hex<std::int32_t>("00 00 00 00 00 00 00 07", pgorm::oids::int8), 7);
  EXPECT_EQ(decode_hex<std::int16_t>("ff ff ff ff ff ff 80 00", pgorm::oids::int8), -32768);
  EXPECT_THROW(decode_hex<std::int32_t>("00 00 00 01 2a 05 f2 00", pgorm::oids::int8),
               pgorm::conversion_error);  // 5000000000
  EXPECT_THROW(decode_hex<std::int16_t>("00 01 00 00", pgorm::oids::int4), pgorm::conversion_error);
  try {
    (void)decode_hex<std::int32_t>("00 00 00 01 2a 05 f2 00", pgorm::oids::int8);
  } catch (const pgorm::conversion_error& e) {
    EXPECT_NE(std::string(e.what()).find("5000000000"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("std::int32_t"), std::string::npos) << e.what();
  }
}

TEST(types_scalar, wrong_length_throws) {
  EXPECT_THROW(decode_hex<std::int32_t>("00 00 2a"), pgorm::conversion_error);
  EXPECT_THROW(decode_hex<bool>("01 00"), pgorm::conversion_error);
  EXPECT_THROW(decode_hex<double>("00 00 00"), pgorm::conversion_error);
  EXPECT_THROW(decode_hex<float>("00 00 00 00 00 00 00 00"), pgorm::conversion_error);
  EXPECT_THROW(decode_hex<pgorm::uuid>("00 01"), pgorm::conversion_error);
  EXPECT_THROW(decode_hex<pgorm::timestamptz>("00 00 00 00"), pgorm::conversion_error);
  EXPECT_THROW(decode_hex<pgorm::interval>("00 00 00 00 00 00 00 00"), pgorm::conversion_error);
}

TEST(types_scalar, bool_and_floats) {
  EXPECT_EQ(encode_hex(true), "01");
  EXPECT_EQ(encode_hex(false), "00");
  EXPECT_TRUE(decode_hex<bool>("01"));
  EXPECT_EQ(encode_hex(1.5f), "3f c0 00 00");
  EXPECT_EQ(encode_hex(-2.25), "c0 02 00 00 00 00 00 00");
  EXPECT_EQ(decode_hex<double>("3f c0 00 00", pgorm::oids::float4), 1.5);  // real widens
  EXPECT_TRUE(std::isnan(round_trip(std::numeric_limits<double>::quiet_NaN())));
  EXPECT_EQ(round_trip(-std::numeric_limits<float>::infinity()),
            -std::numeric_limits<float>::infinity());
  EXPECT_EQ(pgorm::pg_type<double>::sql_name, "double precision");
  EXPECT_EQ(pgorm::pg_type<float>::sql_name, "real");
  EXPECT_FALSE(pgorm::pg_type<float>::accepts(pgorm::oids::float8));
}

// ---- text, bytea, json --------------------------------------------------------------------------

TEST(types_text, strings_are_raw_bytes) {
  EXPECT_EQ(encode_hex(std::string{"abc"}), "61 62 63");
  EXPECT_EQ(encode_hex(std::string_view{"abc"}), "61 62 63");
  EXPECT_EQ(encode_hex(static_cast<const char*>("ab")), "61 62");
  EXPECT_EQ(encode_hex(std::string{}), "");
  EXPECT_EQ(decode<std::string>("h\xc3\xa9llo"), "h\xc3\xa9llo");
  EXPECT_TRUE(pgorm::pg_type<std::string>::accepts(pgorm::oids::varchar));
  EXPECT_TRUE(pgorm::pg_type<std::string>::accepts(pgorm::oids::bpchar));
  EXPECT_FALSE(pgorm::pg_type<std::string>::accepts(pgorm::oids::int4));
}

TEST(types_text, null_const_char_pointer_is_an_error) {
  pgorm::byte_buffer out;
  EXPECT_THROW(pgorm::pg_type<const char*>::encode(nullptr, out), pgorm::conversion_error);
}

TEST(types_text, bytea_is_not_an_array) {
  const std::vector<std::byte> blob{std::byte{0}, std::byte{0xff}, std::byte{0x10}};
  EXPECT_EQ(encode_hex(blob), "00 ff 10");
  EXPECT_EQ(round_trip(blob), blob);
  EXPECT_EQ(pgorm::pg_type<std::vector<std::byte>>::oid, pgorm::oids::bytea);
  EXPECT_EQ(pgorm::pg_type<std::vector<std::byte>>::sql_name, "bytea");
  EXPECT_EQ(encode_hex(std::span<const std::byte>(blob)), "00 ff 10");
}

TEST(types_text, json_and_jsonb) {
  EXPECT_EQ(encode_hex(pgorm::json{"{}"}), "7b 7d");
  EXPECT_EQ(encode_hex(pgorm::jsonb{"{}"}), "01 7b 7d");  // version byte 1
  EXPECT_EQ(decode_hex<pgorm::jsonb>("01 5b 5d").text, "[]");
  EXPECT_EQ(round_trip(pgorm::json{R"({"a": [1, 2]})"}).text, R"({"a": [1, 2]})");
  EXPECT_THROW(decode_hex<pgorm::jsonb>("02 5b 5d"), pgorm::conversion_error);
  EXPECT_THROW(decode<pgorm::jsonb>(""), pgorm::conversion_error);
}

// ---- date and time ------------------------------------------------------------------------------

TEST(types_time, timestamptz_counts_from_2000) {
  const pgorm::timestamptz y2k{sys_days{std::chrono::year{2000} / 1 / 1}};
  EXPECT_EQ(encode_hex(y2k), "00 00 00 00 00 00 00 00");
  EXPECT_EQ(encode_hex(pgorm::timestamptz{}), "ff fc a2 fe c4 c8 20 00");  // 1970-01-01
  EXPECT_EQ(decode_hex<pgorm::timestamptz>("00 00 00 00 00 00 00 00"), y2k);
  const pgorm::timestamptz t = y2k + 1234567us;
  EXPECT_EQ(round_trip(t), t);
  const pgorm::timestamptz before_1970{sys_days{std::chrono::year{1900} / 2 / 3} + 5us};
  EXPECT_EQ(round_trip(before_1970), before_1970);
}

TEST(types_time, infinity_is_time_point_max_and_min) {
  EXPECT_EQ(encode_hex(pgorm::timestamptz::max()), "7f ff ff ff ff ff ff ff");
  EXPECT_EQ(encode_hex(pgorm::timestamptz::min()), "80 00 00 00 00 00 00 00");
  EXPECT_EQ(decode_hex<pgorm::timestamptz>("7f ff ff ff ff ff ff ff"), pgorm::timestamptz::max());
  EXPECT_EQ(decode_hex<pgorm::timestamptz>("80 00 00 00 00 00 00 00"), pgorm::timestamptz::min());
  EXPECT_EQ(round_trip(pgorm::timestamp::max()), pgorm::timestamp::max());
  EXPECT_EQ(round_trip(pgorm::timestamp::min()), pgorm::timestamp::min());
  EXPECT_EQ(encode_hex(pgorm::date::max()), "7f ff ff ff");
  EXPECT_EQ(encode_hex(pgorm::date::min()), "80 00 00 00");
  EXPECT_EQ(round_trip(pgorm::date::max()), pgorm::date::max());
  EXPECT_EQ(round_trip(pgorm::date::min()), pgorm::date::min());
}

TEST(types_time, out_of_range_timestamp_throws) {
  pgorm::byte_buffer out;
  EXPECT_THROW(pgorm::pg_type<pgorm::timestamptz>::encode(pgorm::timestamptz::min() + 1us, out),
               pgorm::conversion_error);
  EXPECT_THROW(pgorm::pg_type<pgorm::date>::encode(pgorm::date::max() - days{1}, out),
               pgorm::conversion_error);
}

TEST(types_time, timestamp_is_a_distinct_type) {
  static_assert(!std::is_same_v<pgorm::timestamp, pgorm::timestamptz>);
  EXPECT_EQ(pgorm::pg_type<pgorm::timestamp>::oid, pgorm::oids::timestamp);
  EXPECT_EQ(pgorm::pg_type<pgorm::timestamptz>::oid, pgorm::oids::timestamptz);
  EXPECT_EQ(pgorm::pg_type<pgorm::timestamp>::sql_name, "timestamp");
  const pgorm::timestamp local{std::chrono::local_days{std::chrono::year{2000} / 1 / 1} + 1h};
  EXPECT_EQ(encode_hex(local), "00 00 00 00 d6 93 a4 00");
}

TEST(types_time, date_time_interval) {
  EXPECT_EQ(encode_hex(pgorm::date{std::chrono::year{2000} / 1 / 1}), "00 00 00 00");
  EXPECT_EQ(encode_hex(pgorm::date{}), "ff ff d5 33");  // 1970-01-01 is day -10957
  const pgorm::date old{std::chrono::year{1900} / 1 / 1};
  const pgorm::date future{std::chrono::year{2200} / 12 / 31};
  EXPECT_EQ(round_trip(old), old);
  EXPECT_EQ(round_trip(future), future);
  EXPECT_EQ(encode_hex(pgorm::time_of_day{1h}), "00 00 00 00 d6 93 a4 00");
  EXPECT_EQ(round_trip(pgorm::time_of_day{24h}), pgorm::time_of_day{24h});
  const pgorm::interval i{.months = 1, .days = 2, .time = 3h};
  EXPECT_EQ(encode_hex(i), "00 00 00 02 83 ba ec 00 00 00 00 02 00 00 00 01");
  EXPECT_EQ(round_trip(i), i);
  const pgorm::interval negative{.months = -14, .days = -3, .time = -1us};
  EXPECT_EQ(round_trip(negative), negative);
}

// ---- uuid ---------------------------------------------------------------------------------------

TEST(types_uuid, parses_both_cases_and_prints_canonical) {
  const auto lower = pgorm::uuid::parse("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11");
  const auto upper = pgorm::uuid::parse("A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11");
  EXPECT_EQ(lower, upper);
  EXPECT_EQ(upper.to_string(), "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11");
  EXPECT_EQ(pgorm::uuid::parse("a0eebc999c0b4ef8bb6d6bb9bd380a11"), lower);
  EXPECT_EQ(pgorm::uuid::parse("{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11}"), lower);
  EXPECT_EQ(pgorm::uuid::parse("a0ee-bc99-9c0b-4ef8-bb6d-6bb9-bd38-0a11"), lower);
  EXPECT_EQ(encode_hex(lower), "a0 ee bc 99 9c 0b 4e f8 bb 6d 6b b9 bd 38 0a 11");
  EXPECT_EQ(round_trip(lower), lower);
  EXPECT_TRUE(pgorm::uuid{}.is_nil());
}

TEST(types_uuid, rejects_malformed_text) {
  for (const std::string_view bad :
       {"", "a0eebc99", "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a1",
        "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a111", "a0eebc99--9c0b-4ef8-bb6d-6bb9bd380a11",
        "-a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11-",
        "g0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", "a0eeb-c99-9c0b-4ef8-bb6d-6bb9bd380a11",
        "{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"}) {
    EXPECT_FALSE(pgorm::uuid::try_parse(bad).has_value()) << bad;
  }
  EXPECT_THROW((void)pgorm::uuid::parse("nope"), pgorm::usage_error);
}

// ---- numeric ------------------------------------------------------------------------------------

TEST(types_numeric, canonical_text) {
  EXPECT_EQ(pgorm::numeric{}.str(), "0");
  EXPECT_EQ(pgorm::numeric{"12345.678"}.str(), "12345.678");
  EXPECT_EQ(pgorm::numeric{"  +007.50 "}.str(), "7.50");
  EXPECT_EQ(pgorm::numeric{"-0.00"}.str(), "0.00");
  EXPECT_EQ(pgorm::numeric{".5"}.str(), "0.5");
  EXPECT_EQ(pgorm::numeric{"5."}.str(), "5");
  EXPECT_EQ(pgorm::numeric{"1.5e3"}.str(), "1500");
  EXPECT_EQ(pgorm::numeric{"1.25E-3"}.str(), "0.00125");
  EXPECT_EQ(pgorm::numeric{"nan"}.str(), "NaN");
  EXPECT_EQ(pgorm::numeric{"-inf"}.str(), "-Infinity");
  EXPECT_EQ(pgorm::numeric{"Infinity"}.str(), "Infinity");
  EXPECT_EQ(pgorm::numeric{std::int64_t{-42}}.str(), "-42");
  EXPECT_EQ(pgorm::numeric{"1.50"}.scale(), 2);
  EXPECT_DOUBLE_EQ(pgorm::numeric{"-12.5"}.to_double(), -12.5);
  EXPECT_TRUE(std::isnan(pgorm::numeric{"NaN"}.to_double()));
  for (const std::string_view bad : {"", "-", ".", "1.2.3", "1e", "abc", "1 2", "--1", "-nan"}) {
    EXPECT_THROW(pgorm::numeric{bad}, pgorm::usage_error) << bad;
  }
}

TEST(types_numeric, wire_format_is_base_10000) {
  // ndigits 3, weight 1, sign +, dscale 3, digits 1 2345 6780
  EXPECT_EQ(encode_hex(pgorm::numeric{"12345.678"}), "00 03 00 01 00 00 00 03 00 01 09 29 1a 7c");
  EXPECT_EQ(decode_hex<pgorm::numeric>("00 03 00 01 00 00 00 03 00 01 09 29 1a 7c").str(),
            "12345.678");
  EXPECT_EQ(encode_hex(pgorm::numeric{"0"}), "00 00 00 00 00 00 00 00");
  EXPECT_EQ(encode_hex(pgorm::numeric{"0.00"}), "00 00 00 00 00 00 00 02");
  EXPECT_EQ(encode_hex(pgorm::numeric{"-0.5"}), "00 01 ff ff 40 00 00 01 13 88");
  EXPECT_EQ(encode_hex(pgorm::numeric{"1e20"}), "00 01 00 05 00 00 00 00 00 01");
  EXPECT_EQ(encode_hex(pgorm::numeric{"NaN"}), "00 00 00 00 c0 00 00 00");
  EXPECT_EQ(encode_hex(pgorm::numeric{"Infinity"}), "00 00 00 00 d0 00 00 00");
  EXPECT_EQ(encode_hex(pgorm::numeric{"-Infinity"}), "00 00 00 00 f0 00 00 00");
  EXPECT_EQ(decode_hex<pgorm::numeric>("00 00 00 00 f0 00 00 00").str(), "-Infinity");
}

TEST(types_numeric, forty_digits_round_trip) {
  const pgorm::numeric big{"1234567890123456789012345678901234567890"};
  EXPECT_EQ(encode_hex(big),
            "00 0a 00 09 00 00 00 00 04 d2 16 2e 23 34 0d 80 1e d2 04 d2 16 2e 23 34 0d 80 1e d2");
  EXPECT_EQ(round_trip(big), big);
  for (const std::string_view text :
       {"-98765432109876543210.01234567890123456789", "0.000000000000000000000000000001",
        "100000000", "0.0001", "-1.10", "9999.9999", "10000", "0.00001000", "123.4"}) {
    const pgorm::numeric n{text};
    EXPECT_EQ(round_trip(n).str(), text);
  }
}

TEST(types_numeric, malformed_binary_throws) {
  EXPECT_THROW(decode_hex<pgorm::numeric>("00 01 00 00"), pgorm::conversion_error);
  EXPECT_THROW(decode_hex<pgorm::numeric>("00 01 00 00 00 00 00 00"), pgorm::conversion_error);
  EXPECT_THROW(decode_hex<pgorm::numeric>("00 01 00 00 00 00 00 00 27 10"),
               pgorm::conversion_error);  // digit 10000
  EXPECT_THROW(decode_hex<pgorm::numeric>("00 00 00 00 12 34 00 00"), pgorm::conversion_error);
}

// ---- enums --------------------------------------------------------------------------------------

TEST(types_enum, labels_travel_as_text) {
  EXPECT_EQ(encode_hex(role::admin), "61 64 6d 69 6e");
  EXPECT_EQ(decode<role>("member"), role::member);
  EXPECT_EQ(pgorm::pg_type<role>::oid, 0u);  // assigned by create type: known at run time
  EXPECT_EQ(pgorm::pg_type<role>::sql_name, "user_role");
  EXPECT_TRUE(pgorm::pg_type<role>::accepts(16390));
  EXPECT_TRUE(pgorm::pg_type<role>::accepts(pgorm::oids::text));
  EXPECT_FALSE(pgorm::pg_type<role>::accepts(pgorm::oids::int4));
  EXPECT_EQ(pgorm::pg_type<color>::oid, pgorm::oids::text);
  EXPECT_EQ(pgorm::pg_type<color>::sql_name, "text");
  EXPECT_FALSE(pgorm::pg_type<color>::accepts(16390));
  EXPECT_EQ(round_trip(color::green), color::green);
  EXPECT_THROW(decode<role>("root"), pgorm::conversion_error);
  pgorm::byte_buffer out;
  EXPECT_THROW(pgorm::pg_type<role>::encode(role::guest, out), pgorm::conversion_error);
}

// ---- arrays and optional ------------------------------------------------------------------------

TEST(types_array, int4_array_with_nulls) {
  const std::vector<std::optional<std::int32_t>> v{1, std::nullopt, 3};
  EXPECT_EQ(encode_hex(v),
            "00 00 00 01 00 00 00 01 00 00 00 17 00 00 00 03 00 00 00 01 "  // header
            "00 00 00 04 00 00 00 01 ff ff ff ff 00 00 00 04 00 00 00 03");
  EXPECT_EQ(round_trip(v), v);
  EXPECT_EQ(pgorm::pg_type<std::remove_const_t<decltype(v)>>::oid, pgorm::oids::int4_array);
  EXPECT_EQ(pgorm::pg_type<std::remove_const_t<decltype(v)>>::sql_name, "integer[]");
}

TEST(types_array, empty_array_has_no_dimensions) {
  EXPECT_EQ(encode_hex(std::vector<std::int64_t>{}), "00 00 00 00 00 00 00 00 00 00 00 14");
  EXPECT_TRUE(decode_hex<std::vector<std::int64_t>>("00 00 00 00 00 00 00 00 00 00 00 14").empty());
}

TEST(types_array, names_and_oids) {
  EXPECT_EQ(pgorm::pg_type<std::vector<std::int64_t>>::sql_name, "bigint[]");
  EXPECT_EQ(pgorm::pg_type<std::vector<std::string>>::sql_name, "text[]");
  EXPECT_EQ(pgorm::pg_type<std::vector<double>>::sql_name, "double precision[]");
  EXPECT_EQ(pgorm::pg_type<std::vector<role>>::sql_name, "user_role[]");
  EXPECT_EQ(pgorm::pg_type<std::vector<std::string>>::oid, pgorm::oids::text_array);
  EXPECT_EQ(pgorm::pg_type<std::vector<std::vector<std::byte>>>::oid, pgorm::oids::bytea_array);
  EXPECT_TRUE(pgorm::pg_type<std::vector<std::int64_t>>::accepts(pgorm::oids::int4_array));
  EXPECT_FALSE(pgorm::pg_type<std::vector<std::int64_t>>::accepts(pgorm::oids::text_array));
  EXPECT_FALSE(pgorm::pg_type<std::vector<std::int64_t>>::accepts(pgorm::oids::int8));
  EXPECT_TRUE(pgorm::pg_type<std::vector<role>>::accepts(16391));
}

TEST(types_array, pg_enum_arrays_are_text_parameters_typed_by_the_server) {
  const auto p = pgorm::encode_params(
      std::vector<role>{role::member, role::admin},
      std::vector<std::optional<role>>{std::nullopt, role::admin}, std::vector<role>{},
      std::vector<quirky>{quirky::quote, quirky::backslash}, std::vector<color>{color::red});
  const auto params = p.params();
  for (std::size_t i = 0; i != 4; ++i) {
    EXPECT_EQ(params[i].format(), pgorm::data_format::text) << i;
    EXPECT_EQ(params[i].type(), 0U) << i;
    EXPECT_FALSE(params[i].is_null()) << i;
  }
  EXPECT_EQ(params[0].bytes(), R"({"member","admin"})");
  EXPECT_EQ(params[1].bytes(), R"({NULL,"admin"})");
  EXPECT_EQ(params[2].bytes(), "{}");
  EXPECT_EQ(params[3].bytes(), R"({"say \"hi\"","back\\slash"})");
  // A text enum (no PostgreSQL type) is a binary text[] as before.
  EXPECT_EQ(params[4].format(), pgorm::data_format::binary);
  EXPECT_EQ(params[4].type(), pgorm::oids::text_array);
  // Copies keep the format.
  pgorm::detail::param_list list;
  list.add(std::vector<role>{role::admin});
  pgorm::detail::param_list copy = list;
  copy.add_encoded(params[0]);
  EXPECT_EQ(copy.params()[0].format(), pgorm::data_format::text);
  EXPECT_EQ(copy.params()[0].bytes(), R"({"admin"})");
  EXPECT_EQ(copy.params()[1].format(), pgorm::data_format::text);
  EXPECT_EQ(copy.params()[1].bytes(), R"({"member","admin"})");
}

TEST(types_array, an_enum_array_element_without_a_label_names_the_parameter) {
  try {
    (void)pgorm::encode_params(1, std::vector<role>{role::admin, role::guest});
    FAIL() << "no exception";
  } catch (const pgorm::conversion_error& e) {
    EXPECT_NE(std::string(e.what()).find("$2"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("no label"), std::string::npos) << e.what();
  }
}

TEST(types_array, round_trips) {
  const std::vector<std::string> words{"", "a", "h\xc3\xa9", std::string(300, 'x')};
  EXPECT_EQ(round_trip(words), words);
  const std::vector<bool> flags{true, false, true};
  EXPECT_EQ(round_trip(flags), flags);
  const std::vector<pgorm::numeric> nums{pgorm::numeric{"1.5"}, pgorm::numeric{"NaN"}};
  EXPECT_EQ(round_trip(nums), nums);
  const std::vector<std::optional<std::string>> maybe{std::nullopt, "x"};
  EXPECT_EQ(round_trip(maybe), maybe);
}

TEST(types_array, decoding_errors) {
  // NULL element into a non-optional element type
  EXPECT_THROW(decode_hex<std::vector<std::int32_t>>(
                   "00 00 00 01 00 00 00 01 00 00 00 17 00 00 00 01 00 00 00 01 ff ff ff ff"),
               pgorm::conversion_error);
  // two dimensions
  EXPECT_THROW(decode_hex<std::vector<std::int32_t>>("00 00 00 02 00 00 00 00 00 00 00 17 00 00 00 "
                                                     "01 00 00 00 01 00 00 00 01 00 00 00 01"),
               pgorm::conversion_error);
  // element type text into integers
  EXPECT_THROW(decode_hex<std::vector<std::int32_t>>(
                   "00 00 00 01 00 00 00 00 00 00 00 19 00 00 00 01 00 00 00 01 00 00 00 01 61"),
               pgorm::conversion_error);
  // truncated element and absurd counts
  EXPECT_THROW(decode_hex<std::vector<std::int32_t>>(
                   "00 00 00 01 00 00 00 00 00 00 00 17 00 00 00 01 00 00 00 01 00 00 00 04 00"),
               pgorm::conversion_error);
  EXPECT_THROW(decode_hex<std::vector<std::int32_t>>(
                   "00 00 00 01 00 00 00 00 00 00 00 17 7f ff ff ff 00 00 00 01"),
               pgorm::conversion_error);
  EXPECT_THROW(decode_hex<std::vector<std::int32_t>>("00 00 00 01"), pgorm::conversion_error);
}

TEST(types_optional, maps_to_the_same_sql_type_and_null) {
  using opt = std::optional<std::int64_t>;
  static_assert(pgorm::pg_type<opt>::nullable && !pgorm::pg_type<std::int64_t>::nullable);
  EXPECT_EQ(pgorm::pg_type<opt>::oid, pgorm::oids::int8);
  EXPECT_EQ(pgorm::pg_type<opt>::sql_name, "bigint");
  EXPECT_TRUE(pgorm::pg_type<opt>::is_null(opt{}));
  opt value = 5;
  pgorm::pg_type<opt>::set_null(value);
  EXPECT_FALSE(value.has_value());
  EXPECT_EQ(round_trip(opt{7}), opt{7});
}

// ---- byte_buffer --------------------------------------------------------------------------------

TEST(types_byte_buffer, grows_past_inline_storage_and_moves) {
  pgorm::byte_buffer out;
  for (int i = 0; i < 1000; ++i) out.append_be(static_cast<std::int32_t>(i));
  EXPECT_EQ(out.size(), 4000u);
  EXPECT_EQ(pgorm::load_be<std::int32_t>(out.data() + 4 * 999), 999);
  pgorm::byte_buffer moved = std::move(out);
  EXPECT_EQ(moved.size(), 4000u);
  pgorm::byte_buffer small;
  small.append("abc");
  pgorm::byte_buffer small_moved = std::move(small);
  EXPECT_EQ(small_moved.view(), "abc");
  pgorm::byte_buffer copy = small_moved;
  EXPECT_EQ(copy.view(), "abc");
}

// ---- encode_params ------------------------------------------------------------------------------

TEST(types_params, encodes_a_pack_into_typed_binary_params) {
  const std::optional<std::string> none;
  const auto p = pgorm::encode_params(std::int32_t{42}, "ab", std::string{"cd"}, none, std::nullopt,
                                      pgorm::numeric{"1.5"});
  const auto params = p.params();
  ASSERT_EQ(params.size(), 6u);
  EXPECT_EQ(params[0].type(), pgorm::oids::int4);
  EXPECT_EQ(params[0].format(), pgorm::data_format::binary);
  EXPECT_EQ(params[0].bytes(), std::string_view("\0\0\0\x2a", 4));
  EXPECT_EQ(params[1].type(), pgorm::oids::text);
  EXPECT_EQ(params[1].bytes(), "ab");
  EXPECT_EQ(params[2].bytes(), "cd");
  EXPECT_TRUE(params[3].is_null());
  EXPECT_EQ(params[3].type(), pgorm::oids::text);  // a typed NULL
  EXPECT_TRUE(params[4].is_null());
  EXPECT_EQ(params[4].type(), 0u);
  EXPECT_EQ(params[5].type(), pgorm::oids::numeric);
}

TEST(types_params, survive_moves_and_large_values) {
  auto make = [] { return pgorm::encode_params(std::string(1000, 'x'), std::int64_t{7}); };
  auto p = make();
  auto moved = std::move(p);
  EXPECT_EQ(moved.params()[0].bytes(), std::string(1000, 'x'));
  EXPECT_EQ(moved.params()[1].bytes().size(), 8u);
  auto small = pgorm::encode_params(std::int16_t{1});
  auto small_copy = small;
  EXPECT_EQ(small_copy.params()[0].bytes().data(), small_copy.bytes().data());
}

TEST(types_params, encoding_errors_name_the_parameter) {
  try {
    (void)pgorm::encode_params(1, pgorm::timestamptz::min() + 1us);
    FAIL() << "no exception";
  } catch (const pgorm::conversion_error& e) {
    EXPECT_EQ(e.column(), "$2");
    EXPECT_EQ(e.sql_type(), "timestamptz");
    EXPECT_NE(std::string(e.what()).find("parameter $2"), std::string::npos) << e.what();
  }
}

TEST(types_params, param_list_grows_at_run_time) {
  pgorm::detail::param_list p;
  EXPECT_EQ(p.add(1), 1u);
  EXPECT_EQ(p.add(std::string(500, 'y')), 2u);
  EXPECT_EQ(p.add(std::optional<double>{}), 3u);
  const auto params = p.params();
  ASSERT_EQ(params.size(), 3u);
  EXPECT_EQ(params[1].bytes(), std::string(500, 'y'));
  EXPECT_TRUE(params[2].is_null());
  EXPECT_EQ(params[2].type(), pgorm::oids::float8);
}

// ---- read_field on hand-made results ------------------------------------------------------------

// A one-column binary result (PQmakeEmptyPGresult needs no connection).
pgorm::result make_result(pgorm::oid type, std::optional<std::string> value, int format = 1) {
  PGresult* res = PQmakeEmptyPGresult(nullptr, PGRES_TUPLES_OK);
  char name[] = "col";
  PGresAttDesc desc{name, 0, 0, format, type, -1, -1};
  EXPECT_TRUE(PQsetResultAttrs(res, 1, &desc));
  if (value) {
    EXPECT_TRUE(PQsetvalue(res, 0, 0, value->data(), static_cast<int>(value->size())));
  } else {
    EXPECT_TRUE(PQsetvalue(res, 0, 0, nullptr, -1));
  }
  return pgorm::result{res};
}

TEST(types_read_field, decodes_into_the_field) {
  const auto res = make_result(pgorm::oids::int8, unhex("00 00 00 00 00 00 00 2a"));
  std::int64_t id = 0;
  pgorm::read_field(res, 0, 0, id, {"users", "id"});
  EXPECT_EQ(id, 42);
  std::int32_t narrow = 0;
  pgorm::read_field(res, 0, 0, narrow, {"users", "id"});
  EXPECT_EQ(narrow, 42);
  std::optional<std::int64_t> maybe;
  pgorm::read_field(res, 0, 0, maybe, {"users", "id"});
  EXPECT_EQ(maybe, 42);
}

TEST(types_read_field, type_mismatch_names_table_column_and_types) {
  const auto res = make_result(pgorm::oids::text, "abc");
  std::int32_t age = 0;
  try {
    pgorm::read_field(res, 0, 0, age, {"users", "age"});
    FAIL() << "no exception";
  } catch (const pgorm::conversion_error& e) {
    EXPECT_EQ(e.table(), "users");
    EXPECT_EQ(e.column(), "age");
    EXPECT_EQ(e.sql_type(), "text");
    EXPECT_EQ(e.cpp_type(), "std::int32_t");
    EXPECT_NE(std::string(e.what()).find("users.age"), std::string::npos) << e.what();
  }
}

TEST(types_read_field, out_of_range_names_the_column) {
  const auto res = make_result(pgorm::oids::int8, unhex("00 00 00 01 2a 05 f2 00"));
  std::int32_t n = 0;
  try {
    pgorm::read_field(res, 0, 0, n, {"t", "n"});
    FAIL() << "no exception";
  } catch (const pgorm::conversion_error& e) {
    EXPECT_EQ(e.column(), "n");
    EXPECT_EQ(e.sql_type(), "int8");
    EXPECT_NE(std::string(e.what()).find("5000000000"), std::string::npos) << e.what();
  }
}

TEST(types_read_field, null_into_non_optional_throws_unexpected_null) {
  const auto res = make_result(pgorm::oids::text, std::nullopt);
  std::string name = "unchanged";
  try {
    pgorm::read_field(res, 0, 0, name, {"users", "name"});
    FAIL() << "no exception";
  } catch (const pgorm::unexpected_null& e) {
    EXPECT_EQ(e.column(), "name");
    EXPECT_NE(std::string(e.what()).find("std::optional<std::string>"), std::string::npos)
        << e.what();
  }
  std::optional<std::string> maybe = "old";
  pgorm::read_field(res, 0, 0, maybe, {"users", "name"});
  EXPECT_FALSE(maybe.has_value());
}

TEST(types_read_field, text_format_is_a_usage_error) {
  const auto res = make_result(pgorm::oids::int4, "42", 0);
  std::int32_t n = 0;
  EXPECT_THROW(pgorm::read_field(res, 0, 0, n, {"", "n"}), pgorm::usage_error);
}

TEST(types_names, sql_type_names_for_messages) {
  EXPECT_EQ(pgorm::detail::sql_type_name(pgorm::oids::int8), "int8");
  EXPECT_EQ(pgorm::detail::sql_type_name(pgorm::oids::int4_array), "int4[]");
  EXPECT_EQ(pgorm::detail::sql_type_name(16390), "oid 16390");
  EXPECT_EQ(pgorm::detail::cpp_type_name<std::optional<std::int16_t>>(),
            "std::optional<std::int16_t>");
  EXPECT_EQ(pgorm::detail::cpp_type_name<pgorm::uuid>(), "pgorm::uuid");
}

}  // namespace

namespace {

// The table of built-in types (pgorm::oids::builtin_types) is where names and array element
// types come from: these pin the look-ups over it.
TEST(types_names, every_builtin_type_is_named_and_so_is_its_array) {
  for (const pgorm::oids::builtin_type& t : pgorm::oids::builtin_types) {
    EXPECT_EQ(pgorm::detail::sql_type_name(t.type), t.name);
    if (t.array != 0) {
      EXPECT_EQ(pgorm::detail::sql_type_name(t.array), std::string(t.name) + "[]");
      EXPECT_EQ(pgorm::detail::array_element_oid(t.array), t.type) << t.name;
    }
    EXPECT_EQ(pgorm::detail::array_element_oid(t.type), 0U) << t.name;
  }
  EXPECT_EQ(pgorm::detail::array_element_oid(0), 0U);  // unknown and void have no array type
  EXPECT_EQ(pgorm::detail::sql_type_name(pgorm::oids::point), "point");
  EXPECT_EQ(pgorm::detail::sql_type_name(pgorm::oids::void_), "void");
  EXPECT_EQ(pgorm::detail::sql_type_name(pgorm::oids::first_user_defined), "oid 16384");
}

TEST(types_names, array_codecs_accept_the_arrays_of_what_their_elements_accept) {
  using ints = pgorm::pg_type<std::vector<std::int32_t>>;
  EXPECT_TRUE(ints::accepts(pgorm::oids::int4_array));
  EXPECT_TRUE(ints::accepts(pgorm::oids::int8_array));
  EXPECT_TRUE(ints::accepts(pgorm::oids::int2_array));
  EXPECT_FALSE(ints::accepts(pgorm::oids::text_array));
  EXPECT_FALSE(ints::accepts(pgorm::oids::oid_array));
  EXPECT_FALSE(ints::accepts(pgorm::oids::int4));
  using texts = pgorm::pg_type<std::vector<std::string>>;
  EXPECT_TRUE(texts::accepts(pgorm::oids::varchar_array));
  EXPECT_TRUE(texts::accepts(pgorm::oids::name_array));
  EXPECT_FALSE(texts::accepts(pgorm::oids::xml_array));
}

TEST(types_bytes, store_be_and_load_be_are_network_order) {
  char b[8] = {};
  pgorm::store_be(b, std::int32_t{0x01020304});
  EXPECT_EQ(std::string_view(b, 4), std::string_view("\x01\x02\x03\x04", 4));
  EXPECT_EQ(pgorm::load_be<std::int32_t>(b), 0x01020304);
  pgorm::store_be(b, -2.5);
  EXPECT_EQ(pgorm::load_be<double>(b), -2.5);
  EXPECT_EQ(static_cast<unsigned char>(b[0]), 0xC0);  // sign and exponent first
}

}  // namespace
