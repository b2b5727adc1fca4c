// SPDX-License-Identifier: MIT
// Binary COPY against a real server: 100,000 rows in and out, every common type and NULLs,
// constraint errors, select builders with parameters, cancelling from the callback, and
// insert(range) switching to COPY above its threshold.

#include "pgorm/copy.hpp"

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include "pgorm/connection.hpp"
#include "pgorm/error.hpp"
#include "pgorm/query.hpp"
#include "pgorm/types.hpp"
#include "support/db_test.hpp"

namespace copy_it {

struct Item {
  std::int64_t id;
  std::string name;
  std::int32_t qty;
  double price;
  std::optional<std::string> note;

  friend bool operator==(const Item&, const Item&) = default;
};

struct Everything {
  std::int32_t k;
  bool b;
  std::int16_t i2;
  std::int32_t i4;
  std::int64_t i8;
  float f4;
  double f8;
  std::string t;
  std::vector<std::byte> bytes;
  pgorm::json j;
  pgorm::jsonb jb;
  pgorm::uuid u;
  pgorm::numeric n{"0"};
  pgorm::timestamptz ts;
  pgorm::timestamp lts;
  pgorm::date d;
  pgorm::time_of_day tod;
  pgorm::interval iv;
  std::vector<std::int64_t> arr;
  std::optional<std::string> opt_t;
  std::optional<std::int64_t> opt_i8;
  std::optional<pgorm::timestamptz> opt_ts;
  std::optional<pgorm::numeric> opt_n;

  friend bool operator==(const Everything&, const Everything&) = default;
};

struct Person {
  std::int64_t id;
  std::string email;
  pgorm::defaulted<std::int32_t> visits;
  pgorm::defaulted<pgorm::timestamptz> created_at;
};

/// Item with the wrong C++ type for qty: text read as integer.
struct BadItem {
  std::int64_t id;
  std::int32_t name;
  std::int32_t qty;
  double price;
  std::optional<std::string> note;
};

}  // namespace copy_it

template <>
struct pgorm::table_traits<copy_it::Item> {
  static constexpr std::string_view name = "items";
  static constexpr auto primary_key = pgorm::identity(&copy_it::Item::id);
};

template <>
struct pgorm::table_traits<copy_it::Everything> {
  static constexpr std::string_view name = "everything";
  static constexpr auto primary_key = pgorm::key(&copy_it::Everything::k);
};

template <>
struct pgorm::table_traits<copy_it::Person> {
  static constexpr std::string_view name = "people";
  static constexpr auto primary_key = pgorm::identity(&copy_it::Person::id);
  static constexpr auto unique = pgorm::columns(&copy_it::Person::email);
  static constexpr auto defaults =
      pgorm::defaults(pgorm::default_sql(&copy_it::Person::created_at, "now()"),
                      pgorm::default_value(&copy_it::Person::visits, 1));
};

template <>
struct pgorm::table_traits<copy_it::BadItem> {
  static constexpr std::string_view name = "items";
};

namespace {

using copy_it::Everything;
using copy_it::Item;
using copy_it::Person;
using pgorm::col;
using namespace std::chrono_literals;

class copy_test : public pgorm::test::db_test {
 protected:
  void SetUp() override {
    db_test::SetUp();
    conn().exec(R"(
      create table items (
        id bigint generated always as identity primary key,
        name text not null unique,
        qty integer not null check (qty >= 0),
        price double precision not null,
        note text);
      create table people (
        id bigint generated always as identity primary key,
        email text not null unique,
        visits integer not null default 1,
        created_at timestamptz not null default now());
      create table everything (
        k integer primary key, b boolean not null, i2 smallint not null, i4 integer not null,
        i8 bigint not null, f4 real not null, f8 double precision not null, t text not null,
        bytes bytea not null, j json not null, jb jsonb not null, u uuid not null,
        n numeric not null, ts timestamptz not null, lts timestamp not null, d date not null,
        tod time not null, iv interval not null, arr bigint[] not null, opt_t text,
        opt_i8 bigint, opt_ts timestamptz, opt_n numeric))");
  }

  std::int64_t count(std::string_view table) {
    return std::stoll(
        std::string(conn().exec("select count(*) from " + std::string(table)).value(0, 0)));
  }

  static std::vector<Item> items(std::size_t n) {
    std::vector<Item> rows;
    rows.reserve(n);
    for (std::size_t i = 0; i != n; ++i) {
      Item it{};
      it.id = static_cast<std::int64_t>(i + 1);  // what the identity column will assign
      it.name = "item-" + std::to_string(i);
      it.qty = static_cast<std::int32_t>(i % 1000);
      it.price = static_cast<double>(i) * 0.25;
      if (i % 3 == 0) it.note = "note " + std::to_string(i) + " with 'quotes' and \\ and \t";
      rows.push_back(std::move(it));
    }
    return rows;
  }

  static Person person(std::string email) {
    Person p{};
    p.email = std::move(email);
    return p;
  }
};

TEST_F(copy_test, round_trip_of_100000_rows) {
  const std::vector<Item> rows = items(100'000);
  EXPECT_EQ(pgorm::copy_in(conn(), rows), 100'000);
  EXPECT_EQ(count("items"), 100'000);

  std::vector<Item> back;
  back.reserve(rows.size());
  const std::int64_t n = pgorm::copy_out<Item>(conn(), [&](const Item& it) { back.push_back(it); });
  EXPECT_EQ(n, 100'000);
  std::sort(back.begin(), back.end(), [](const Item& a, const Item& b) { return a.id < b.id; });
  ASSERT_EQ(back.size(), rows.size());
  for (std::size_t i = 0; i != rows.size(); ++i) {
    ASSERT_EQ(back[i], rows[i]) << "row " << i;
  }
}

TEST_F(copy_test, every_common_type_and_nulls_round_trip) {
  Everything full{};
  full.k = 1;
  full.b = true;
  full.i2 = -32768;
  full.i4 = 2147483647;
  full.i8 = -9223372036854775807 - 1;
  full.f4 = 1.5F;
  full.f8 = -0.125;
  full.t = "héllo, 'world'\n";
  full.bytes = {std::byte{0}, std::byte{0xff}, std::byte{0x10}};
  full.j = pgorm::json{R"({"b": 1,  "a": [1, 2]})"};
  full.jb = pgorm::jsonb{R"({"a": [1, 2], "b": 1})"};
  full.u = pgorm::uuid::parse("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11");
  full.n = pgorm::numeric{"-12345678901234567890.000123"};
  full.ts = pgorm::timestamptz{std::chrono::sys_days{std::chrono::year{2024} / 2 / 29} + 10h + 1us};
  full.lts = pgorm::timestamp{std::chrono::local_days{std::chrono::year{1999} / 12 / 31} + 23h};
  full.d = pgorm::date{std::chrono::year{1969} / 7 / 20};
  full.tod = pgorm::time_of_day{13h + 45min + 30s + 500ms};
  full.iv = pgorm::interval{.months = -14, .days = 3, .time = 1500ms};
  full.arr = {1, -2, 3};
  full.opt_t = "";
  full.opt_i8 = 0;
  full.opt_ts = full.ts;
  full.opt_n = pgorm::numeric{"NaN"};

  Everything nulls = full;
  nulls.k = 2;
  nulls.t = "";
  nulls.bytes = {};
  nulls.arr = {};
  nulls.opt_t = std::nullopt;
  nulls.opt_i8 = std::nullopt;
  nulls.opt_ts = std::nullopt;
  nulls.opt_n = std::nullopt;

  EXPECT_EQ(pgorm::copy_in(conn(), std::vector<Everything>{full, nulls}), 2);
  EXPECT_EQ(conn()
                .exec("select count(*) from everything where opt_t is null and opt_i8 is null "
                      "and opt_ts is null and opt_n is null")
                .value(0, 0),
            "1");
  EXPECT_EQ(conn().exec("select opt_t from everything where k = 1").value(0, 0), "")
      << "an empty string is not NULL";
  EXPECT_EQ(conn().exec("select n::text, iv::text from everything where k = 1").value(0, 0),
            "-12345678901234567890.000123");

  std::vector<Everything> back;
  pgorm::copy_out(conn(), pgorm::select<Everything>().order_by(col<&Everything::k>),
                  [&](const Everything& e) { back.push_back(e); });
  ASSERT_EQ(back.size(), 2U);
  EXPECT_EQ(back[0], full);
  EXPECT_EQ(back[1], nulls);
  // The same rows through an ordinary select (the codecs agree both ways).
  EXPECT_EQ(pgorm::select<Everything>().order_by(col<&Everything::k>).all(conn()), back);
}

TEST_F(copy_test, constraint_violation_throws_typed_error_writes_nothing_and_keeps_connection) {
  std::vector<Item> rows = items(5000);
  rows[4000].name = rows[10].name;  // unique violation late in the stream
  try {
    pgorm::copy_in(conn(), rows);
    FAIL() << "expected unique_violation";
  } catch (const pgorm::unique_violation& e) {
    EXPECT_EQ(e.sqlstate(), "23505");
    EXPECT_EQ(e.constraint(), "items_name_key");
  }
  EXPECT_EQ(count("items"), 0) << "COPY is atomic";
  EXPECT_EQ(conn().exec("select 1").value(0, 0), "1");

  rows = items(10);
  rows[3].qty = -1;
  EXPECT_THROW(pgorm::copy_in(conn(), rows), pgorm::check_violation);
  EXPECT_EQ(pgorm::copy_in(conn(), items(10)), 10) << "the connection is usable after";
}

TEST_F(copy_test, copy_in_inside_a_transaction_rolls_back) {
  conn().exec("begin");
  EXPECT_EQ(pgorm::copy_in(conn(), items(100)), 100);
  conn().exec("rollback");
  EXPECT_EQ(count("items"), 0);
}

TEST_F(copy_test, copy_out_of_a_select_with_parameters) {
  std::vector<Item> rows = items(50);
  rows[7].name = "O'Brien; drop table items; --";
  pgorm::copy_in(conn(), rows);
  std::vector<Item> got;
  const std::int64_t n = pgorm::copy_out(
      conn(),
      pgorm::select<Item>()
          .where((col<&Item::qty> >= 5 && col<&Item::qty> < 10) || col<&Item::name> == rows[7].name)
          .order_by(col<&Item::id>),
      [&](const Item& it) { got.push_back(it); });
  EXPECT_EQ(n, 5);
  ASSERT_EQ(got.size(), 5U);
  EXPECT_EQ(got[0].id, 6);
  EXPECT_EQ(got[2].name, "O'Brien; drop table items; --");
  EXPECT_EQ(got[2], rows[7]);
  EXPECT_EQ(count("items"), 50);
}

TEST_F(copy_test, exception_from_callback_cancels_and_keeps_connection) {
  pgorm::copy_in(conn(), items(50'000));
  int seen = 0;
  EXPECT_THROW(pgorm::copy_out<Item>(conn(),
                                     [&](const Item&) {
                                       if (++seen == 10) throw std::runtime_error("stop");
                                     }),
               std::runtime_error);
  EXPECT_EQ(seen, 10);
  EXPECT_EQ(conn().exec("select 2").value(0, 0), "2");
  EXPECT_EQ(count("items"), 50'000);
}

TEST_F(copy_test, column_type_mismatch_is_a_conversion_error_before_any_row) {
  pgorm::copy_in(conn(), items(3));
  int seen = 0;
  EXPECT_THROW(pgorm::copy_out<copy_it::BadItem>(conn(), [&](const copy_it::BadItem&) { ++seen; }),
               pgorm::conversion_error);
  EXPECT_EQ(seen, 0);
  EXPECT_EQ(conn().exec("select 3").value(0, 0), "3");
}

TEST_F(copy_test, copy_out_of_an_empty_table_reads_nothing) {
  EXPECT_EQ(pgorm::copy_out<Item>(conn(), [](const Item&) { FAIL(); }), 0);
  EXPECT_EQ(pgorm::copy_in(conn(), std::vector<Item>{}), 0);
}

TEST_F(copy_test, insert_range_above_threshold_uses_copy) {
  // 20,000 rows x 4 columns = 80,000 parameters: more than one INSERT may carry, so only COPY
  // can write them in one exec().
  const std::vector<Item> rows = items(20'000);
  EXPECT_THROW(pgorm::insert(rows).copy_threshold(SIZE_MAX).exec(conn()), pgorm::usage_error)
      << "with COPY disabled, the INSERT is over the parameter limit";
  EXPECT_EQ(pgorm::insert(rows).exec(conn()), 20'000);
  EXPECT_EQ(count("items"), 20'000);
  EXPECT_EQ(pgorm::select<Item>().where(col<&Item::id> == std::int64_t{12'345}).one(conn()),
            rows[12'344]);
  EXPECT_THROW(pgorm::insert(items(20'000)).returning(col<&Item::id>).all(conn()),
               pgorm::usage_error)
      << "returning(...) needs INSERT";
  EXPECT_THROW(pgorm::insert(rows).exec(conn()), pgorm::unique_violation)
      << "COPY raises the typed error";
  EXPECT_EQ(count("items"), 20'000);
}

TEST_F(copy_test, insert_via_copy_keeps_insert_default_semantics) {
  const auto now = std::chrono::system_clock::now();
  // Every row asks for the defaults of visits and created_at: COPY leaves the columns out, so
  // the DEFAULTs apply.
  std::vector<Person> defaults;
  for (int i = 0; i != 1500; ++i) defaults.push_back(person("d" + std::to_string(i) + "@x.org"));
  EXPECT_EQ(pgorm::insert(defaults).exec(conn()), 1500);
  // Every row sets visits: written as given.
  std::vector<Person> set;
  for (int i = 0; i != 1500; ++i) {
    Person p = person("s" + std::to_string(i) + "@x.org");
    p.visits = 7;
    set.push_back(p);
  }
  EXPECT_EQ(pgorm::insert(set).exec(conn()), 1500);
  // Every row sets visits to 0, the value of int32_t{}: a value, written as given.
  std::vector<Person> zero;
  for (int i = 0; i != 1500; ++i) {
    Person p = person("z" + std::to_string(i) + "@x.org");
    p.visits = 0;
    zero.push_back(p);
  }
  EXPECT_EQ(pgorm::insert(zero).exec(conn()), 1500);
  // Mixed: some rows set visits, others ask for the default; insert() falls back to INSERT.
  std::vector<Person> mixed;
  for (int i = 0; i != 1500; ++i) {
    Person p = person("m" + std::to_string(i) + "@x.org");
    if (i % 2 == 0) p.visits = 9;
    mixed.push_back(p);
  }
  EXPECT_EQ(pgorm::insert(mixed).exec(conn()), 1500);

  const auto visits = [&](std::string_view prefix) {
    return std::string(conn()
                           .exec("select string_agg(distinct visits::text, ',' order by "
                                 "visits::text) from people where email like '" +
                                 std::string(prefix) + "%'")
                           .value(0, 0));
  };
  EXPECT_EQ(visits("d"), "1");
  EXPECT_EQ(visits("s"), "7");
  EXPECT_EQ(visits("z"), "0");
  EXPECT_EQ(visits("m"), "1,9");
  const auto oldest =
      pgorm::query<pgorm::timestamptz>("select min(created_at) from people").one(conn());
  EXPECT_GT(oldest, pgorm::timestamptz{std::chrono::floor<std::chrono::microseconds>(now) - 1h})
      << "now() applied, not the epoch";
}

TEST_F(copy_test, defaulted_fields_read_back_and_copy_in_refuses_the_default) {
  pgorm::insert(person("a@x.org")).exec(conn());
  std::vector<Person> out;
  pgorm::copy_out<Person>(conn(), [&](const Person& p) { out.push_back(p); });
  ASSERT_EQ(out.size(), 1U);
  EXPECT_EQ(out[0].visits.value(), 1) << "the column default, read back as a value";
  EXPECT_TRUE(out[0].created_at.has_value());
  // copy_in writes every field as given: a field that asks for the default has nothing to
  // write (only insert() can leave a column to its default).
  EXPECT_THROW(pgorm::copy_in(conn(), std::vector<Person>{person("b@x.org")}),
               pgorm::conversion_error);
  out[0].email = "c@x.org";
  EXPECT_EQ(pgorm::copy_in(conn(), out), 1) << "values read back are written as they are";
  EXPECT_EQ(count("people"), 2);
}

TEST_F(copy_test, insert_range_with_on_conflict_does_not_use_copy) {
  pgorm::insert(items(1)).exec(conn());
  const std::vector<Item> rows = items(1200);
  EXPECT_EQ(pgorm::insert(rows).on_conflict(col<&Item::name>).do_nothing().exec(conn()), 1199);
  EXPECT_EQ(count("items"), 1200);
}

}  // namespace
