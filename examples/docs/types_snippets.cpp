// SPDX-License-Identifier: MIT
// The code blocks of docs/types.md, compiled (never run). Each region between
// `doc-begin(name)` and `doc-end(name)` appears verbatim (dedented) in the page; the
// static_asserts after a region pin what the page says about it. Check with
// tools/check_docs.py. The structs and specializations are at global scope (a specialization
// of pgorm::pg_type must be); this file is never linked with another snippet file.

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "pgorm/composite.hpp"
#include "pgorm/pgorm.hpp"
#include "pgorm/range_ops.hpp"

// doc-begin(event)
struct event {
  std::int64_t id;
  pgorm::timestamptz at;
  std::optional<std::string> note;  // NULL allowed
  std::vector<std::string> tags;    // text[]
  pgorm::numeric amount;            // numeric, exact
};

void read_one(pgorm::connection& conn) {
  auto p = pgorm::encode_params(std::int64_t{42}, "a@b.c", std::optional<int>{});
  auto res = conn.exec("select $1, $2, $3", p.params(), pgorm::data_format::binary);

  std::int64_t id = 0;
  pgorm::read_field(res, 0, 0, id, {"events", "id"});  // throws with "events.id"
}
// doc-end(event)
static_assert(pgorm::table<event>::columns[1].sql_type == "timestamptz");
static_assert(pgorm::table<event>::columns[2].nullable);
static_assert(pgorm::table<event>::columns[3].sql_type == "text[]");
static_assert(pgorm::table<event>::columns[4].sql_type == "numeric");

// doc-begin(enum)
enum class role { admin, member };
template <>
struct pgorm::enum_traits<role> {
  static constexpr std::string_view type_name = "user_role";  // create type user_role as enum
  static constexpr std::array values{std::pair{role::admin, "admin"},
                                     std::pair{role::member, "member"}};
};
// doc-end(enum)
static_assert(pgorm::has_pg_type<role>);
static_assert(pgorm::pg_type<role>::oid == 0);

// doc-begin(point)
#include <pgorm/codec.hpp>  // pg_type, byte_buffer, load_be, oids, conversion_error

struct point {
  double x, y;
};

template <>
struct pgorm::pg_type<point> {
  // pg_type.oid (600); 0 if known only at run time (a type made by `create type`).
  static constexpr pgorm::oid oid = pgorm::oids::point;
  static constexpr pgorm::oid array_oid = pgorm::oids::point_array;  // optional: vector<point>
  static constexpr std::string_view sql_name = "point";              // DDL spelling
  static constexpr bool nullable = false;  // true only for optional-like types

  // Appends the binary form (the type's *send function, e.g. point_send).
  static void encode(const point& p, pgorm::byte_buffer& out) {
    out.append_be(p.x);
    out.append_be(p.y);
  }
  // Can a column of this type be read into point?
  static constexpr bool accepts(pgorm::oid type) noexcept { return type == pgorm::oids::point; }
  // Binary form -> value, in place. Throw pgorm::conversion_error on bad input; read_field
  // adds the table, column and types to the message.
  static void decode(std::string_view bytes, pgorm::oid /*type*/, point& out) {
    if (bytes.size() != 16) throw pgorm::conversion_error("point needs 16 bytes", "", "", "", "");
    out.x = pgorm::load_be<double>(bytes.data());
    out.y = pgorm::load_be<double>(bytes.data() + 8);
  }
};
static_assert(pgorm::has_pg_type<point>);
// doc-end(point)
static_assert(pgorm::has_pg_type<std::vector<point>>);
static_assert(pgorm::has_pg_type<std::optional<point>>);

// doc-begin(column_types)
struct Product {
  std::int64_t id;
  std::string sku;                     // varchar(32)
  std::optional<std::string> country;  // char(2), NULL allowed
  pgorm::numeric price;                // numeric(12,2)
  pgorm::timestamptz created_at;       // timestamptz(3): milliseconds
  std::vector<std::string> tags;       // varchar(16)[]
};

template <>
struct pgorm::table_traits<Product> {
  static constexpr std::string_view name = "products";
  static constexpr auto primary_key = pgorm::identity(&Product::id);
  static constexpr auto column_types =
      pgorm::column_types(pgorm::column_type(&Product::sku, pgorm::sql_type::varchar(32)),
                          pgorm::column_type(&Product::country, pgorm::sql_type::character(2)),
                          pgorm::column_type(&Product::price, pgorm::sql_type::numeric(12, 2)),
                          pgorm::column_type(&Product::created_at, pgorm::sql_type::timestamptz(3)),
                          pgorm::column_type(&Product::tags, pgorm::sql_type::varchar(16)));
};
// doc-end(column_types)

static_assert(pgorm::schema::create_table<Product>() ==
              "CREATE TABLE products (\n"
              "  id bigint GENERATED ALWAYS AS IDENTITY,\n"
              "  sku varchar(32) NOT NULL,\n"
              "  country char(2),\n"
              "  price numeric(12,2) NOT NULL,\n"
              "  created_at timestamptz(3) NOT NULL,\n"
              "  tags varchar(16)[] NOT NULL,\n"
              "  PRIMARY KEY (id)\n"
              ");");
static_assert(pgorm::table<Product>::columns[1].sql_type == "varchar(32)");
static_assert(pgorm::table<Product>::columns[1].type_modifier == 36);

// doc-begin(network)
struct login {
  std::int64_t id;
  pgorm::inet client;                  // inet: an address, maybe with a prefix
  std::optional<pgorm::cidr> allowed;  // cidr: a network, NULL allowed
};

bool allowed(pgorm::connection& conn, const pgorm::inet& client) {
  const auto office = pgorm::cidr::parse("192.168.10.0/24");
  auto p = pgorm::encode_params(office, client);
  auto res = conn.exec("select $1 >>= $2", p.params(), pgorm::data_format::binary);
  bool inside = false;
  pgorm::read_field(res, 0, 0, inside, {"", "inside"});
  return inside;
}
// doc-end(network)

// doc-begin(ranges)
struct booking {
  std::int64_t id;
  pgorm::range<pgorm::timestamptz> during;  // tstzrange
  pgorm::range<std::int32_t> seats;         // int4range
};

void ranges(pgorm::connection& conn, pgorm::timestamptz start) {
  const pgorm::range<pgorm::timestamptz> slot{start, start + std::chrono::hours{1}};  // [s,e)
  const auto open_ended = pgorm::range<std::int32_t>::at_least(10);                   // [10,)
  const auto closed = pgorm::range<std::int32_t>{1, 5, true, true};                   // [1,5]
  const auto nothing = pgorm::range<std::int32_t>::empty_range();                     // empty
  auto p = pgorm::encode_params(slot, open_ended, closed, nothing);
  conn.exec("select $1 && $1, $2 @> 12, $3, isempty($4)", p.params());
}
// doc-end(ranges)

// doc-begin(md_array)
void matrices(pgorm::connection& conn) {
  const std::vector<std::vector<double>> m{{1.5, -2}, {0, 4}};  // float8[], 2 x 2
  auto p = pgorm::encode_params(m);
  auto res = conn.exec("select $1, array_dims($1)", p.params(), pgorm::data_format::binary);
  std::vector<std::vector<double>> back;
  pgorm::read_field(res, 0, 0, back, {"", "m"});  // {{1.5, -2}, {0, 4}}
}
// doc-end(md_array)

// doc-begin(md_enum_array)
// A seating plan: create table plan (id bigint, seats user_role[][] not null)
void seating(pgorm::connection& conn) {
  const std::vector<std::vector<std::optional<role>>> seats{{role::admin, std::nullopt},
                                                            {role::member, role::member}};
  // Sent as the text parameter {{"admin",NULL},{"member","member"}}; read back in binary.
  conn.exec("insert into plan (id, seats) values (1, $1)", pgorm::encode_params(seats).params());
  const auto back =
      pgorm::query<std::vector<std::vector<std::optional<role>>>>("select seats from plan")
          .one(conn);  // == seats
  (void)back;
}
// doc-end(md_enum_array)

// doc-begin(composite)
// create type address as (street text, city text, zip text);
struct address {
  std::string street;
  std::string city;
  std::optional<std::string> zip;  // a NULL field
};

template <>
struct pgorm::composite_traits<address> {
  static constexpr std::string_view type_name = "address";
};

struct customer {  // a table with a column of type address
  std::int64_t id;
  address home;
  std::optional<address> work;  // a NULL value
};
// doc-end(composite)

static_assert(pgorm::has_pg_type<address>);
static_assert(pgorm::table<customer>::columns[1].sql_type == "address");

// doc-begin(composite_nested)
struct located {  // a composite holding a composite
  std::int32_t id;
  address where;
};

template <>
struct pgorm::composite_traits<located> {
  static constexpr std::string_view type_name = "located";
};

void composites_and_the_schema(pgorm::connection& conn) {
  // Sent as text, its record literal: ("7","(\"Main St 1\",\"Springfield\",)")
  auto p = pgorm::encode_params(located{7, {"Main St 1", "Springfield", std::nullopt}});
  conn.exec("select ($1::located).where", p.params());
  // CREATE TYPE address, then CREATE TABLE customer; an address changed since is drift.
  pgorm::schema::create<customer>(conn);
  const pgorm::schema::diff_result d = pgorm::schema::diff<customer>(conn);
}
// doc-end(composite_nested)

void customers_at(pgorm::connection& conn, const address& a, const std::vector<address>& many) {
  // doc-begin(composite_where)
  using pgorm::col;
  // WHERE home = $1::address: the struct is one parameter (its record, in binary)
  const auto at_home = conn.select<customer>().where(col<&customer::home> == a).all();
  // WHERE work = ANY($1::address[]): the structs as one array parameter
  const auto at_work = conn.select<customer>().where(col<&customer::work>.in(many)).all();
  // doc-end(composite_where)
  static_assert(decltype(conn.select<customer>().where(col<&customer::home> == a))::sql() ==
                "SELECT id, home, work FROM customer WHERE home = $1::address");
  (void)at_home;
  (void)at_work;
}

// doc-begin(range_ops)
struct Booking {
  std::int64_t id;
  pgorm::range<std::int32_t> seats;         // int4range
  pgorm::range<pgorm::timestamptz> during;  // tstzrange
};

auto free_seat_5(pgorm::connection& conn, const pgorm::range<pgorm::timestamptz>& wanted) {
  using pgorm::col;
  return conn.select<Booking>()
      .where(pgorm::range_contains(col<&Booking::seats>, 5) &&       // seats @> $1
             !pgorm::range_overlaps(col<&Booking::during>, wanted))  // during && $2
      .all();
}
// doc-end(range_ops)
