// SPDX-License-Identifier: MIT
// Every codec through a real server: values go out as binary parameters and come back in
// binary (decoded by the codec) and as the server's own text output (which proves the encoding
// independently of our decoder).
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

#include "pgorm/params.hpp"
#include "support/db_test.hpp"

namespace {

enum class role { admin, member };

}  // namespace

template <>
struct pgorm::enum_traits<role> {
  static constexpr std::string_view type_name = "user_role";
  static constexpr std::array values{std::pair{role::admin, "admin"},
                                     std::pair{role::member, "member"}};
};

namespace {

using namespace std::chrono_literals;
using std::chrono::sys_days;
using std::chrono::year;

class types_test : public pgorm::test::db_test {
 protected:
  void SetUp() override {
    db_test::SetUp();
    conn().exec("set timezone = 'UTC'; set datestyle = 'ISO'; set intervalstyle = 'postgres'");
  }

  // The first column of the first row of `sql` run with `args` as binary parameters, decoded
  // from binary into T.
  template <class T, class... Args>
  T binary(std::string_view sql, const Args&... args) {
    const auto params = pgorm::encode_params(args...);
    const auto res = conn().exec(sql, params.params(), pgorm::data_format::binary);
    T out{};
    pgorm::read_field(res, 0, 0, out, {"", "value"});
    return out;
  }

  // The server's text output for the first column of the first row.
  template <class... Args>
  std::string text(std::string_view sql, const Args&... args) {
    const auto params = pgorm::encode_params(args...);
    const auto res = conn().exec(sql, params.params(), pgorm::data_format::text);
    return std::string(res.value(0, 0));
  }

  // Sends `value`, reads it back in binary, and returns the server's text for it.
  template <class T>
  std::string round_trip(const T& value) {
    EXPECT_EQ(binary<T>("select $1", value), value);
    return text("select $1::text", value);
  }
};

TEST_F(types_test, integers_at_their_limits) {
  EXPECT_EQ(round_trip(std::numeric_limits<std::int64_t>::min()), "-9223372036854775808");
  EXPECT_EQ(round_trip(std::numeric_limits<std::int64_t>::max()), "9223372036854775807");
  EXPECT_EQ(round_trip(std::numeric_limits<std::int32_t>::min()), "-2147483648");
  EXPECT_EQ(round_trip(std::int16_t{-32768}), "-32768");
  EXPECT_EQ(text("select pg_typeof($1)::text", std::int16_t{1}), "smallint");
  EXPECT_EQ(text("select pg_typeof($1)::text", std::int64_t{1}), "bigint");
}

TEST_F(types_test, integers_widen_and_narrow_with_range_checks) {
  EXPECT_EQ(binary<std::int64_t>("select 42::int2"), 42);
  EXPECT_EQ(binary<std::int64_t>("select -7::int4"), -7);
  EXPECT_EQ(binary<std::int32_t>("select 2147483647::int8"), 2147483647);
  EXPECT_THROW(binary<std::int32_t>("select 5000000000::int8"), pgorm::conversion_error);
  EXPECT_THROW(binary<std::int16_t>("select 40000::int4"), pgorm::conversion_error);
}

TEST_F(types_test, bool_float_double_with_nan_and_infinity) {
  EXPECT_EQ(round_trip(true), "true");
  EXPECT_EQ(round_trip(false), "false");
  EXPECT_EQ(round_trip(1.5f), "1.5");
  EXPECT_EQ(round_trip(-2.25), "-2.25");
  EXPECT_EQ(round_trip(std::numeric_limits<double>::infinity()), "Infinity");
  EXPECT_EQ(round_trip(-std::numeric_limits<float>::infinity()), "-Infinity");
  EXPECT_EQ(text("select $1::text", std::numeric_limits<double>::quiet_NaN()), "NaN");
  EXPECT_EQ(text("select $1::text", std::numeric_limits<float>::quiet_NaN()), "NaN");
  EXPECT_TRUE(std::isnan(binary<double>("select 'NaN'::float8")));
  EXPECT_TRUE(std::isnan(binary<float>("select 'NaN'::float4")));
  EXPECT_EQ(binary<double>("select '-Infinity'::float8"), -std::numeric_limits<double>::infinity());
  EXPECT_EQ(binary<double>("select 0.5::float4"), 0.5);
}

TEST_F(types_test, text_values) {
  EXPECT_EQ(round_trip(std::string{}), "");
  EXPECT_EQ(round_trip(std::string{"h\xc3\xa9llo, w\xc3\xb6rld"}), "h\xc3\xa9llo, w\xc3\xb6rld");
  EXPECT_EQ(text("select $1 || $2", "ab", std::string_view{"cd"}), "abcd");
  EXPECT_EQ(binary<std::string>("select 'x'::varchar(5)"), "x");
  EXPECT_EQ(binary<std::string>("select 'ab'::char(4)"), "ab  ");
  EXPECT_EQ(binary<std::string>("select 'pg_class'::name"), "pg_class");
  EXPECT_EQ(text("select pg_typeof($1)::text", "x"), "text");
}

TEST_F(types_test, one_megabyte_bytea) {
  std::vector<std::byte> blob(1 << 20);
  for (std::size_t i = 0; i < blob.size(); ++i) blob[i] = static_cast<std::byte>(i * 7 + i / 256);
  EXPECT_EQ(binary<std::vector<std::byte>>("select $1", blob), blob);
  EXPECT_EQ(text("select length($1)::text", blob), "1048576");
  EXPECT_EQ(text("select encode(substring($1 from 1 for 4), 'hex')", blob), "00070e15");
  EXPECT_EQ(text("select length($1)::text", std::span<const std::byte>(blob).first(10)), "10");
  EXPECT_TRUE(binary<std::vector<std::byte>>("select ''::bytea").empty());
}

TEST_F(types_test, timestamps_with_infinity) {
  const pgorm::timestamptz y2k{sys_days{year{2000} / 1 / 1}};
  EXPECT_EQ(round_trip(y2k), "2000-01-01 00:00:00+00");
  EXPECT_EQ(round_trip(y2k + 1h + 2min + 3s + 456789us), "2000-01-01 01:02:03.456789+00");
  EXPECT_EQ(round_trip(pgorm::timestamptz{sys_days{year{1969} / 7 / 20} + 20h + 17min}),
            "1969-07-20 20:17:00+00");
  EXPECT_EQ(round_trip(pgorm::timestamptz::max()), "infinity");
  EXPECT_EQ(round_trip(pgorm::timestamptz::min()), "-infinity");
  EXPECT_EQ(binary<pgorm::timestamptz>("select 'infinity'::timestamptz"),
            pgorm::timestamptz::max());
  EXPECT_EQ(binary<pgorm::timestamptz>("select '2024-02-29 12:00:00+02'::timestamptz"),
            pgorm::timestamptz{sys_days{year{2024} / 2 / 29} + 10h});

  const pgorm::timestamp local{std::chrono::local_days{year{2100} / 12 / 31} + 23h + 59min};
  EXPECT_EQ(round_trip(local), "2100-12-31 23:59:00");
  EXPECT_EQ(round_trip(pgorm::timestamp::max()), "infinity");
  EXPECT_EQ(round_trip(pgorm::timestamp::min()), "-infinity");
  EXPECT_EQ(text("select pg_typeof($1)::text", local), "timestamp without time zone");
  EXPECT_THROW(binary<pgorm::timestamptz>("select now()::timestamp"), pgorm::conversion_error);
}

TEST_F(types_test, dates_before_1970_and_after_2100) {
  EXPECT_EQ(round_trip(pgorm::date{year{1900} / 1 / 1}), "1900-01-01");
  EXPECT_EQ(round_trip(pgorm::date{year{1583} / 10 / 15}), "1583-10-15");
  EXPECT_EQ(round_trip(pgorm::date{year{2200} / 12 / 31}), "2200-12-31");
  EXPECT_EQ(round_trip(pgorm::date{year{9999} / 12 / 31}), "9999-12-31");
  EXPECT_EQ(round_trip(pgorm::date::max()), "infinity");
  EXPECT_EQ(round_trip(pgorm::date::min()), "-infinity");
  EXPECT_EQ(binary<pgorm::date>("select '1969-12-31'::date"), pgorm::date{year{1969} / 12 / 31});
}

TEST_F(types_test, time_and_interval) {
  EXPECT_EQ(round_trip(pgorm::time_of_day{13h + 45min + 30s + 500ms}), "13:45:30.5");
  EXPECT_EQ(round_trip(pgorm::time_of_day{}), "00:00:00");
  EXPECT_EQ(round_trip(pgorm::time_of_day{24h}), "24:00:00");
  EXPECT_EQ(round_trip(pgorm::interval{.months = 1, .days = 2, .time = 3h}),
            "1 mon 2 days 03:00:00");
  EXPECT_EQ(round_trip(pgorm::interval{.months = -14, .days = 0, .time = -1us}),
            "-1 years -2 mons -00:00:00.000001");
  const auto i = binary<pgorm::interval>("select '1 year 2 days 00:00:01.5'::interval");
  EXPECT_EQ(i, (pgorm::interval{.months = 12, .days = 2, .time = 1500ms}));
}

TEST_F(types_test, uuid_in_upper_and_lower_case) {
  const auto id = pgorm::uuid::parse("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11");
  EXPECT_EQ(round_trip(id), "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11");
  EXPECT_EQ(binary<pgorm::uuid>("select 'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11'::uuid"), id);
  EXPECT_EQ(binary<pgorm::uuid>("select 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::uuid"), id);
  EXPECT_EQ(pgorm::uuid::parse("A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11"), id);
  const auto random = binary<pgorm::uuid>("select gen_random_uuid()");
  EXPECT_EQ(text("select $1::text", random), random.to_string());
}

TEST_F(types_test, json_and_jsonb) {
  EXPECT_EQ(round_trip(pgorm::json{R"({"b": 1,  "a": [1, 2]})"}), R"({"b": 1,  "a": [1, 2]})");
  EXPECT_EQ(text("select $1::text", pgorm::jsonb{R"({"b":1,"a":[1,2]})"}),
            R"({"a": [1, 2], "b": 1})");
  EXPECT_EQ(binary<pgorm::jsonb>("select $1", pgorm::jsonb{R"({"b":1,"a":2})"}).text,
            R"({"a": 2, "b": 1})");
  EXPECT_EQ(binary<pgorm::jsonb>(R"(select '[1, "x", null]'::jsonb)").text, R"([1, "x", null])");
  EXPECT_EQ(text("select ($1->>'k')", pgorm::jsonb{R"({"k": "v"})"}), "v");
}

TEST_F(types_test, numeric_exact_with_nan_and_infinity) {
  EXPECT_EQ(round_trip(pgorm::numeric{"12345.678"}), "12345.678");
  EXPECT_EQ(round_trip(pgorm::numeric{"1234567890123456789012345678901234567890"}),
            "1234567890123456789012345678901234567890");
  EXPECT_EQ(round_trip(pgorm::numeric{"-0.000000000000000000000000000000000000000001"}),
            "-0.000000000000000000000000000000000000000001");
  EXPECT_EQ(round_trip(pgorm::numeric{"1.50"}), "1.50");
  EXPECT_EQ(round_trip(pgorm::numeric{"0"}), "0");
  EXPECT_EQ(round_trip(pgorm::numeric{"0.000"}), "0.000");
  EXPECT_EQ(round_trip(pgorm::numeric{"100000000"}), "100000000");
  EXPECT_EQ(round_trip(pgorm::numeric{"NaN"}), "NaN");
  EXPECT_EQ(round_trip(pgorm::numeric{"Infinity"}), "Infinity");
  EXPECT_EQ(round_trip(pgorm::numeric{"-Infinity"}), "-Infinity");
  EXPECT_EQ(text("select ($1 + 1)::text", pgorm::numeric{"99999999999999999999.99"}),
            "100000000000000000000.99");
  // Values the server computes decode to the server's own text form.
  const auto res = conn().exec(
      "select x, x::text from (values (1::numeric / 3), (-123.4500), (1e30), (0.0001), "
      "(2::numeric ^ 200), ('NaN'), (-1e-20), (10000), (9999.9999)) v(x)",
      {}, pgorm::data_format::binary);
  for (int row = 0; row < res.rows(); ++row) {
    pgorm::numeric n;
    pgorm::read_field(res, row, 0, n, {"v", "x"});
    EXPECT_EQ(n.str(), res.value(row, 1));
  }
}

TEST_F(types_test, arrays_empty_and_with_nulls) {
  const std::vector<std::optional<std::int32_t>> with_nulls{1, std::nullopt, 3};
  EXPECT_EQ(round_trip(with_nulls), "{1,NULL,3}");
  EXPECT_EQ(round_trip(std::vector<std::int64_t>{}), "{}");
  EXPECT_EQ(round_trip(std::vector<std::string>{"a", "", "b c", "\""}), R"({a,"","b c","\""})");
  EXPECT_EQ(round_trip(std::vector<std::optional<std::string>>{std::nullopt}), "{NULL}");
  EXPECT_EQ(round_trip(std::vector<bool>{true, false}), "{t,f}");
  EXPECT_EQ(round_trip(std::vector<pgorm::numeric>{pgorm::numeric{"1.5"}, pgorm::numeric{"-2"}}),
            "{1.5,-2}");
  EXPECT_EQ(round_trip(std::vector<double>{0.5, -1}), "{0.5,-1}");
  EXPECT_EQ(round_trip(std::vector<pgorm::date>{pgorm::date{year{2024} / 1 / 2}}), "{2024-01-02}");
  EXPECT_EQ(text("select array_length($1, 1)::text", std::vector<std::int16_t>{1, 2, 3}), "3");
  EXPECT_EQ(binary<std::vector<std::int64_t>>("select array[1, 2]::int4[]"),
            (std::vector<std::int64_t>{1, 2}));
  EXPECT_EQ(binary<std::vector<std::int32_t>>("select '[0:1]={7,8}'::int4[]"),
            (std::vector<std::int32_t>{7, 8}));  // lower bound is not kept
  EXPECT_THROW(binary<std::vector<std::int32_t>>("select array[1, null]::int4[]"),
               pgorm::conversion_error);
  EXPECT_THROW(binary<std::vector<std::int32_t>>("select '{{1,2},{3,4}}'::int4[]"),
               pgorm::conversion_error);
  EXPECT_THROW(binary<std::vector<std::int32_t>>("select array['a']"), pgorm::conversion_error);
}

TEST_F(types_test, optional_is_null) {
  EXPECT_EQ(text("select ($1 is null)::text", std::optional<std::int64_t>{}), "true");
  EXPECT_EQ(text("select pg_typeof($1)::text", std::optional<std::int64_t>{}), "bigint");
  EXPECT_EQ(binary<std::optional<std::string>>("select null::text"), std::nullopt);
  EXPECT_EQ(binary<std::optional<std::string>>("select 'x'::text"), "x");
  EXPECT_EQ(text("select coalesce($1, 'none')", std::nullopt), "none");
}

TEST_F(types_test, enum_through_a_postgres_enum_type) {
  conn().exec("create type user_role as enum ('admin', 'member')");
  conn().exec("create table members (id int, r user_role not null, rs user_role[])");
  {
    // OID 0: the server takes the parameter's type (user_role) from the column.
    const auto params = pgorm::encode_params(1, role::member);
    conn().exec("insert into members (id, r) values ($1, $2)", params.params(),
                pgorm::data_format::binary);
  }
  conn().exec("update members set rs = array['admin', 'member']::user_role[]");
  EXPECT_EQ(binary<role>("select r from members"), role::member);
  EXPECT_EQ(text("select r::text from members where r = $1", role::member), "member");
  EXPECT_EQ(binary<std::vector<role>>("select rs from members"),
            (std::vector<role>{role::admin, role::member}));
  EXPECT_EQ(binary<role>("select 'admin'::text"), role::admin);
  EXPECT_THROW(binary<role>("select 42"), pgorm::conversion_error);
}

TEST_F(types_test, oid_mismatch_names_table_and_column) {
  conn().exec("create table users (id int, age text)");
  conn().exec("insert into users values (1, 'old')");
  const auto res = conn().exec("select age from users", {}, pgorm::data_format::binary);
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

TEST_F(types_test, null_into_non_optional_is_unexpected_null) {
  conn().exec("create table users (id int, name text)");
  conn().exec("insert into users values (1, null)");
  const auto res = conn().exec("select name from users", {}, pgorm::data_format::binary);
  std::string name;
  try {
    pgorm::read_field(res, 0, 0, name, {"users", "name"});
    FAIL() << "no exception";
  } catch (const pgorm::unexpected_null& e) {
    EXPECT_EQ(e.table(), "users");
    EXPECT_EQ(e.column(), "name");
  }
}

TEST_F(types_test, text_results_are_refused) {
  const auto res = conn().exec("select 1");
  std::int32_t one = 0;
  EXPECT_THROW(pgorm::read_field(res, 0, 0, one, {"", "one"}), pgorm::usage_error);
}

}  // namespace
