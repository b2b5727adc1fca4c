// SPDX-License-Identifier: MIT
// Declared column types (pgorm/column_type.hpp): their DDL spelling and type modifiers, and
// what table<T> and CREATE TABLE make of table_traits<T>::column_types.
#include "pgorm/column_type.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "pgorm/schema.hpp"

namespace {

struct Product {
  std::int64_t id;
  std::string sku;
  std::optional<std::string> country;
  pgorm::numeric price;
  pgorm::timestamptz created_at;
  std::optional<pgorm::timestamp> local_at;
  pgorm::time_of_day opens;
  std::vector<std::string> tags;
  std::string note;
};

}  // namespace

template <>
struct pgorm::table_traits<Product> {
  static constexpr auto primary_key = pgorm::identity(&Product::id);
  static constexpr auto column_types =
      pgorm::column_types(pgorm::column_type(&Product::sku, pgorm::sql_type::varchar(32)),
                          pgorm::column_type(&Product::country, pgorm::sql_type::character(2)),
                          pgorm::column_type(&Product::price, pgorm::sql_type::numeric(12, 2)),
                          pgorm::column_type(&Product::created_at, pgorm::sql_type::timestamptz(3)),
                          pgorm::column_type(&Product::local_at, pgorm::sql_type::timestamp(0)),
                          pgorm::column_type(&Product::opens, pgorm::sql_type::time(6)),
                          pgorm::column_type(&Product::tags, pgorm::sql_type::varchar(16)));
};

namespace {

using pgorm::sql_type::numeric;
using pgorm::sql_type::varchar;

static_assert(varchar(255).sql() == "varchar(255)");
static_assert(varchar(255).type_modifier() == 259);
static_assert(pgorm::sql_type::character(1).sql() == "char(1)");
static_assert(numeric(12, 2).sql() == "numeric(12,2)");
static_assert(numeric(12, 2).type_modifier() == ((12 << 16) | 2) + 4);
static_assert(numeric(7).sql() == "numeric(7,0)");
static_assert(numeric(1000, 1000).sql() == "numeric(1000,1000)");
static_assert(pgorm::sql_type::timestamptz(0).sql() == "timestamptz(0)");
static_assert(pgorm::sql_type::timestamptz(3).type_modifier() == 3);
static_assert(pgorm::sql_type::time(6).sql() == "time(6)");

using tbl = pgorm::table<Product>;
static_assert(tbl::columns[0].sql_type == "bigint" && tbl::columns[0].type_modifier == -1);
static_assert(tbl::columns[1].sql_type == "varchar(32)" && tbl::columns[1].type_modifier == 36);
static_assert(tbl::columns[2].sql_type == "char(2)" && tbl::columns[2].nullable);
static_assert(tbl::columns[3].sql_type == "numeric(12,2)");
static_assert(tbl::columns[4].sql_type == "timestamptz(3)");
static_assert(tbl::columns[5].sql_type == "timestamp(0)" && tbl::columns[5].type_modifier == 0);
static_assert(tbl::columns[6].sql_type == "time(6)");
static_assert(tbl::columns[7].sql_type == "varchar(16)[]" && tbl::columns[7].type_modifier == 20);
static_assert(tbl::columns[8].sql_type == "text" && tbl::columns[8].type_modifier == -1);

// What a declared type fits, std::optional and std::vector aside.
static_assert(pgorm::detail::declared_type_fits<pgorm::sql_type_kind::varchar_n,
                                                std::optional<std::string>>());
static_assert(!pgorm::detail::declared_type_fits<pgorm::sql_type_kind::varchar_n, std::int32_t>());
static_assert(
    !pgorm::detail::declared_type_fits<pgorm::sql_type_kind::numeric_ps, std::vector<std::byte>>());
static_assert(
    !pgorm::detail::declared_type_fits<pgorm::sql_type_kind::timestamptz_p, pgorm::timestamp>());

TEST(declared_column_types, create_table_emits_them) {
  EXPECT_EQ(pgorm::schema::create_table<Product>(),
            "CREATE TABLE product (\n"
            "  id bigint GENERATED ALWAYS AS IDENTITY,\n"
            "  sku varchar(32) NOT NULL,\n"
            "  country char(2),\n"
            "  price numeric(12,2) NOT NULL,\n"
            "  created_at timestamptz(3) NOT NULL,\n"
            "  local_at timestamp(0),\n"
            "  opens time(6) NOT NULL,\n"
            "  tags varchar(16)[] NOT NULL,\n"
            "  note text NOT NULL,\n"
            "  PRIMARY KEY (id)\n"
            ");");
}

}  // namespace
