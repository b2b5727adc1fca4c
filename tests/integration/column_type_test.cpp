// SPDX-License-Identifier: MIT
// Declared column types (table_traits<T>::column_types) against a real server: CREATE TABLE
// gives the declared types, schema::diff finds nothing to change afterwards, reports a changed
// length, precision or scale and its SQL resolves it, and values round-trip through them.
#include "pgorm/column_type.hpp"

#include <chrono>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "pgorm/connection.hpp"
#include "pgorm/error.hpp"
#include "pgorm/query/insert.hpp"
#include "pgorm/query/select.hpp"
#include "pgorm/schema.hpp"
#include "pgorm/types.hpp"
#include "support/db_test.hpp"

namespace column_type_it {

struct Product {
  std::int64_t id;
  std::string sku;
  std::optional<std::string> country;
  pgorm::numeric price;
  pgorm::timestamptz created_at;
  std::optional<pgorm::timestamp> local_at;
  pgorm::time_of_day opens;
  std::vector<std::string> tags;
};

}  // namespace column_type_it

using column_type_it::Product;

template <>
struct pgorm::table_traits<Product> {
  static constexpr std::string_view name = "products";
  static constexpr auto primary_key = pgorm::identity(&Product::id);
  static constexpr auto column_types =
      pgorm::column_types(pgorm::column_type(&Product::sku, pgorm::sql_type::varchar(8)),
                          pgorm::column_type(&Product::country, pgorm::sql_type::character(2)),
                          pgorm::column_type(&Product::price, pgorm::sql_type::numeric(12, 2)),
                          pgorm::column_type(&Product::created_at, pgorm::sql_type::timestamptz(3)),
                          pgorm::column_type(&Product::local_at, pgorm::sql_type::timestamp(0)),
                          pgorm::column_type(&Product::opens, pgorm::sql_type::time(2)),
                          pgorm::column_type(&Product::tags, pgorm::sql_type::varchar(16)));
};

namespace {

using pgorm::schema::change_kind;

class column_type_test : public pgorm::test::db_test {};

std::vector<std::string> live_types(pgorm::connection& conn) {
  auto r = conn.exec(
      "select format_type(atttypid, atttypmod) from pg_attribute where attrelid = "
      "'products'::regclass and attnum > 0 and not attisdropped order by attnum");
  std::vector<std::string> out;
  for (int i = 0; i < r.rows(); ++i) out.emplace_back(r.value(i, 0));
  return out;
}

TEST_F(column_type_test, create_gives_the_declared_types_and_diff_is_then_empty) {
  pgorm::schema::create<Product>(conn());
  const std::vector<std::string> want = {"bigint",
                                         "character varying(8)",
                                         "character(2)",
                                         "numeric(12,2)",
                                         "timestamp(3) with time zone",
                                         "timestamp(0) without time zone",
                                         "time(2) without time zone",
                                         "character varying(16)[]"};
  EXPECT_EQ(live_types(conn()), want);
  const auto d = pgorm::schema::diff<Product>(conn());
  EXPECT_TRUE(d.in_sync()) << d.report();
}

TEST_F(column_type_test, diff_reports_a_changed_length_precision_or_scale_and_resolves_it) {
  conn().exec(R"(
    create table products (
      id bigint generated always as identity primary key,
      sku varchar(20) not null,
      country char(2),
      price numeric(10,2) not null,
      created_at timestamptz not null,
      local_at timestamp(0),
      opens time(2) not null,
      tags text[] not null
    );
  )");
  const auto d = pgorm::schema::diff<Product>(conn());
  std::set<std::string> descriptions;
  for (const auto& c : d.changes) {
    EXPECT_EQ(c.kind, change_kind::alter_type) << c.description;
    descriptions.insert(c.description);
  }
  const std::set<std::string> want = {
      "products.sku: type character varying(20) -> character varying(8)",
      "products.price: type numeric(10,2) -> numeric(12,2)",
      "products.created_at: type timestamp with time zone -> timestamp(3) with time zone",
      "products.tags: type text[] -> character varying(16)[]"};
  EXPECT_EQ(descriptions, want) << d.report();
  conn().exec(d.sql());
  const auto again = pgorm::schema::diff<Product>(conn());
  EXPECT_TRUE(again.in_sync()) << again.report();
}

TEST_F(column_type_test, values_round_trip_and_the_server_applies_the_declaration) {
  pgorm::schema::create<Product>(conn());
  using namespace std::chrono;
  const pgorm::timestamptz at{sys_days{2024y / 3 / 1} + hours{12} + microseconds{123456}};
  const pgorm::timestamp local{local_days{2024y / 3 / 1} + seconds{5} + microseconds{700000}};
  Product p{0,
            "SKU-1",
            "de",
            pgorm::numeric{"19.999"},
            at,
            local,
            pgorm::time_of_day{hours{9} + microseconds{123456}},
            {"a", "b"}};
  const Product got = pgorm::insert(p).returning_all().one(conn());
  EXPECT_EQ(got.sku, "SKU-1");
  EXPECT_EQ(got.country, std::optional<std::string>("de"));
  EXPECT_EQ(got.price.str(), "20.00");                // rounded to scale 2
  EXPECT_EQ(got.created_at, at - microseconds{456});  // 3 fractional digits kept
  EXPECT_EQ(got.local_at, std::optional<pgorm::timestamp>(local + microseconds{300000}));
  EXPECT_EQ(got.opens, pgorm::time_of_day{hours{9} + microseconds{120000}});
  EXPECT_EQ(got.tags, (std::vector<std::string>{"a", "b"}));

  Product too_long = p;
  too_long.sku = "123456789";  // varchar(8)
  EXPECT_THROW(pgorm::insert(too_long).exec(conn()), pgorm::sql_error);
}

}  // namespace
