// SPDX-License-Identifier: MIT
// The six built-in range types through a real server: binary parameters out, binary results
// back, and the server's text output, which checks the encoding independently of the decoder.
// Empty, unbounded, inclusive and exclusive bounds, canonical forms, NULLs and arrays.
#include <chrono>
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
#include "pgorm/query.hpp"
#include "pgorm/range_ops.hpp"
#include "pgorm/read_field.hpp"
#include "pgorm/types.hpp"
#include "support/value_test.hpp"

namespace range_it {
struct Booking {
  std::int64_t id;
  pgorm::range<std::int32_t> seats;
  std::optional<pgorm::range<pgorm::timestamptz>> during;
};
}  // namespace range_it

template <>
struct pgorm::table_traits<range_it::Booking> {
  static constexpr std::string_view name = "bookings";
  static constexpr auto primary_key = pgorm::key(&range_it::Booking::id);
};

namespace {

using namespace std::chrono_literals;
using range_it::Booking;
using std::chrono::sys_days;
using std::chrono::year;

class range_types_test : public pgorm::test::value_test {
 protected:
  void SetUp() override {
    db_test::SetUp();
    conn().exec("set timezone = 'UTC'; set datestyle = 'ISO'");
  }
};

TEST_F(range_types_test, int4range_and_int8range_bounds_empty_and_canonical_form) {
  using r4 = pgorm::range<std::int32_t>;
  using r8 = pgorm::range<std::int64_t>;
  EXPECT_EQ(round_trip(r4{1, 10}), "[1,10)");
  EXPECT_EQ(round_trip(r4::empty_range()), "empty");
  EXPECT_EQ(round_trip(r4{}), "(,)");
  EXPECT_EQ(round_trip(r4::below(-5)), "(,-5)");
  EXPECT_EQ(round_trip(r4::at_least(2147483600)), "[2147483600,)");
  EXPECT_EQ(round_trip(r8{-9223372036854775807 - 1, 9223372036854775807}),
            "[-9223372036854775808,9223372036854775807)");
  // The server makes discrete ranges canonical: [1,5] is [1,6), (1,5) is [2,5), [3,3) empty.
  EXPECT_EQ(binary<r4>("select $1", r4{1, 5, true, true}), (r4{1, 6}));
  EXPECT_EQ(binary<r4>("select $1", r4{1, 5, false, false}), (r4{2, 5}));
  EXPECT_EQ(binary<r4>("select $1", r4{3, 3}), r4::empty_range());
  EXPECT_EQ(binary<r8>("select '[10,20]'::int8range"), (r8{10, 21}));
  // Operators see the values as sent.
  EXPECT_EQ(text("select $1 @> 5", r4{1, 10}), "t");
  EXPECT_EQ(text("select $1 && $2", r8{1, 10}, r8{10, 20}), "f");
  // Lower above upper: the server refuses it.
  EXPECT_THROW((void)text("select $1::text", r4{5, 1}), pgorm::sql_error);
}

TEST_F(range_types_test, numrange_tsrange_tstzrange_daterange_with_inclusive_bounds) {
  using num = pgorm::range<pgorm::numeric>;
  EXPECT_EQ(round_trip(num{pgorm::numeric{"1.5"}, pgorm::numeric{"2.25"}, false, true}),
            "(1.5,2.25]");
  EXPECT_EQ(round_trip(num::at_least(pgorm::numeric{"-0.001"})), "[-0.001,)");

  const pgorm::timestamptz t0{sys_days{year{2024} / 3 / 1} + 12h};
  using tstz = pgorm::range<pgorm::timestamptz>;
  EXPECT_EQ(round_trip(tstz{t0, t0 + 90min + 1us, true, true}),
            "[\"2024-03-01 12:00:00+00\",\"2024-03-01 13:30:00.000001+00\"]");
  // An infinite bound value is not an absent bound.
  EXPECT_EQ(round_trip(tstz{pgorm::timestamptz::min(), t0}),
            "[-infinity,\"2024-03-01 12:00:00+00\")");
  EXPECT_EQ(round_trip(tstz::empty_range()), "empty");

  using ts = pgorm::range<pgorm::timestamp>;
  const pgorm::timestamp l0{std::chrono::local_days{year{1999} / 12 / 31} + 23h};
  EXPECT_EQ(round_trip(ts::below(l0)), "(,\"1999-12-31 23:00:00\")");

  using dr = pgorm::range<pgorm::date>;
  const pgorm::date d0{year{2024} / 2 / 28};
  EXPECT_EQ(round_trip(dr{d0, d0 + std::chrono::days{2}}), "[2024-02-28,2024-03-01)");
  EXPECT_EQ(binary<dr>("select '[2024-02-28,2024-02-29]'::daterange"),
            (dr{d0, d0 + std::chrono::days{2}}));
}

TEST_F(range_types_test, nulls_arrays_and_wrong_types) {
  using r8 = pgorm::range<std::int64_t>;
  EXPECT_EQ(binary<std::optional<r8>>("select null::int8range"), std::nullopt);
  EXPECT_EQ(text("select $1::text", std::optional<r8>{}), "NULL");
  const std::vector<r8> v{r8{1, 2}, r8::empty_range(), r8{}};
  EXPECT_EQ(binary<std::vector<r8>>("select $1", v), v);
  EXPECT_EQ(text("select $1::text", v), "{\"[1,2)\",empty,\"(,)\"}");
  EXPECT_EQ(binary<std::vector<r8>>("select '{}'::int8range[]"), std::vector<r8>{});
  // An int4range column is not read into range<std::int64_t>: the bound width differs.
  EXPECT_THROW((void)binary<r8>("select '[1,2)'::int4range"), pgorm::conversion_error);
}

TEST_F(range_types_test, range_operators_in_where_clauses) {
  using pgorm::col;
  using r4 = pgorm::range<std::int32_t>;
  using tstz = pgorm::range<pgorm::timestamptz>;
  using ids = std::vector<std::tuple<std::int64_t>>;
  const pgorm::timestamptz t0{sys_days{year{2024} / 3 / 1}};
  conn().exec(
      "create table bookings (id bigint primary key, seats int4range not null, during "
      "tstzrange)");
  pgorm::insert(std::vector<Booking>{{1, r4{1, 10}, tstz{t0, t0 + 1h}},
                                     {2, r4{10, 20}, std::nullopt},
                                     {3, r4::empty_range(), tstz{t0 + 2h, t0 + 3h}}})
      .exec(conn());
  const auto q =
      pgorm::select(col<&Booking::id>).where(pgorm::range_contains(col<&Booking::seats>, 5));
  EXPECT_EQ(q.to_sql().sql, "SELECT id FROM bookings WHERE seats @> $1");
  EXPECT_EQ(q.all(conn()), (ids{{1}}));
  EXPECT_EQ(conn()
                .select(col<&Booking::id>)
                .where(pgorm::range_contains(col<&Booking::seats>, r4{12, 15}))
                .all(),
            (ids{{2}}));
  EXPECT_EQ(conn()
                .select(col<&Booking::id>)
                .where(pgorm::range_overlaps(col<&Booking::during>, tstz{t0 + 30min, t0 + 150min}))
                .order_by(col<&Booking::id>)
                .all(),
            (ids{{1}, {3}}));
}

}  // namespace
