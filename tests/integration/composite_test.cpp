// SPDX-License-Identifier: MIT
// Composite types as structs through a real server: a composite parameter the server takes
// its type from the context for, a composite column of a table written and read back with the
// builders, NULL fields and NULL values, anonymous ROW(...) records, nested composites read,
// and the errors for a record that does not fit.
#include "pgorm/composite.hpp"

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
#include "pgorm/read_field.hpp"
#include "pgorm/types.hpp"
#include "support/value_test.hpp"

namespace composite_it {

struct address {
  std::string street;
  std::string city;
  std::optional<std::string> zip;

  friend bool operator==(const address&, const address&) = default;
};

struct located {  // a composite holding a composite
  std::int32_t id;
  address where;

  friend bool operator==(const located&, const located&) = default;
};

struct Place {
  std::int64_t id;
  located at;
  std::optional<located> also;
};

struct Person {
  std::int64_t id;
  std::string name;
  address home;
  std::optional<address> work;
};

}  // namespace composite_it

template <>
struct pgorm::composite_traits<composite_it::address> {
  static constexpr std::string_view type_name = "address";
};
template <>
struct pgorm::composite_traits<composite_it::located> {
  static constexpr std::string_view type_name = "located";
};
template <>
struct pgorm::table_traits<composite_it::Place> {
  static constexpr std::string_view name = "places";
  static constexpr auto primary_key = pgorm::key(&composite_it::Place::id);
};
template <>
struct pgorm::table_traits<composite_it::Person> {
  static constexpr std::string_view name = "people";
  static constexpr auto primary_key = pgorm::identity(&composite_it::Person::id);
};

namespace {

using composite_it::address;
using composite_it::located;
using composite_it::Person;
using composite_it::Place;

class composite_test : public pgorm::test::value_test {
 protected:
  void SetUp() override {
    db_test::SetUp();
    conn().exec(pgorm::schema::create_type<address>());
  }
};

TEST_F(composite_test, a_parameter_takes_its_type_from_the_context_and_reads_back) {
  const address a{"Main St 1", "Springfield", std::nullopt};
  EXPECT_EQ(text("select $1::address::text", a), "(\"Main St 1\",Springfield,)");
  EXPECT_EQ(binary<address>("select $1::address", a), a);
  EXPECT_EQ(text("select ($1::address).city", a), "Springfield");
  // A composite read from the server's own literal, and from an anonymous ROW(...).
  EXPECT_EQ(binary<address>("select '(\"a, b\",c,12345)'::address"),
            (address{"a, b", "c", "12345"}));
  EXPECT_EQ(binary<address>("select row('x'::text, 'y'::text, null::text)"),
            (address{"x", "y", std::nullopt}));
  EXPECT_EQ(binary<std::optional<address>>("select null::address"), std::nullopt);
}

TEST_F(composite_test, a_table_column_of_a_composite_type_through_the_builders) {
  conn().exec(
      "create table people (id bigint generated always as identity primary key, name text not "
      "null, home address not null, work address)");
  const Person p{0, "Ann", {"Elm 2", "Shelbyville", "99999"}, std::nullopt};
  const Person got = pgorm::insert(p).returning_all().one(conn());
  EXPECT_EQ(got.home, p.home);
  EXPECT_EQ(got.work, std::nullopt);
  Person q = p;
  q.work = address{"Office", "Capital City", std::nullopt};
  pgorm::insert(q).exec(conn());
  const auto all = conn().select<Person>().order_by(pgorm::col<&Person::id>).all();
  ASSERT_EQ(all.size(), 2U);
  EXPECT_EQ(all[1].work, q.work);
  EXPECT_EQ(text("select (work).city from people where (work).street = 'Office'"), "Capital City");
}

TEST_F(composite_test, nested_composites_read_and_misfits_are_conversion_errors) {
  conn().exec("create type located as (id int4, \"where\" address)");
  const located l = binary<located>("select row(7, row('s', 'c', null)::address)::located");
  EXPECT_EQ(l.id, 7);
  EXPECT_EQ(l.where, (address{"s", "c", std::nullopt}));
  // Two fields into three; an int into text; a NULL into a plain field.
  EXPECT_THROW((void)binary<address>("select row('a'::text, 'b'::text)"), pgorm::conversion_error);
  EXPECT_THROW((void)binary<address>("select row(1, 'b'::text, null::text)"),
               pgorm::conversion_error);
  EXPECT_THROW((void)binary<address>("select row(null::text, 'b'::text, null::text)"),
               pgorm::conversion_error);
  // Field types must match the attributes: varchar is not text for the server's record_recv.
  conn().exec("create type vaddress as (street varchar, city varchar, zip varchar)");
  EXPECT_THROW((void)text("select $1::vaddress::text", address{"a", "b", std::nullopt}),
               pgorm::sql_error);
}

TEST_F(composite_test, a_composite_holding_a_composite_is_sent_as_a_parameter) {
  // record_recv wants every field's type OID, which only the server knows for a nested
  // composite: such a composite goes out as its record literal, the server reading each field
  // with its attribute's type. Quotes, backslashes, commas, parentheses, an empty string and
  // NULLs survive it.
  conn().exec("create type located as (id int4, \"where\" address)");
  static_assert(pgorm::detail::text_param_codec<located> &&
                !pgorm::detail::text_param_codec<address>);
  const located l{7, {"a \"quoted\", (x)", "back\\slash", ""}};
  EXPECT_EQ(binary<located>("select $1::located", l), l);
  EXPECT_EQ(text("select ($1::located).\"where\".city", l), "back\\slash");
  const located n{-1, {"s", "c", std::nullopt}};
  EXPECT_EQ(text("select $1::located::text", n), "(-1,\"(s,c,)\")");
  EXPECT_EQ(binary<located>("select $1::located", n), n);
  // As a column through the builders, plain and optional.
  conn().exec("create table places (id bigint primary key, at located not null, also located)");
  pgorm::insert(Place{1, l, std::nullopt}).exec(conn());
  pgorm::insert(Place{2, n, l}).exec(conn());
  const auto rows = conn().select<Place>().order_by(pgorm::col<&Place::id>).all();
  ASSERT_EQ(rows.size(), 2U);
  EXPECT_EQ(rows[0].at, l);
  EXPECT_EQ(rows[0].also, std::nullopt);
  EXPECT_EQ(rows[1].at, n);
  EXPECT_EQ(rows[1].also, l);
  EXPECT_EQ(text("select id from places where at = $1::located", n), "2");
  // The same comparisons through the builders: == and in() with composites sent as text.
  using pgorm::col;
  EXPECT_EQ(conn().select<Place>().where(col<&Place::at> == n).one().id, 2);
  EXPECT_EQ(conn().select<Place>().where(col<&Place::also> == l).one().id, 2);
  EXPECT_EQ(conn().select<Place>().where(col<&Place::at>.in(std::vector<located>{l, n})).count(),
            2);
  EXPECT_EQ(conn().select<Place>().where(col<&Place::at>.in(std::vector<located>{n})).one().id, 2);
  EXPECT_EQ(conn().select<Place>().where(col<&Place::also>.in(std::vector<located>{l})).one().id,
            2);
  EXPECT_EQ(conn().select<Place>().where(col<&Place::at>.in(std::vector<located>{})).count(), 0);
}

TEST_F(composite_test, a_composite_column_compared_with_a_struct_in_where) {
  // Prisma: findMany({ where: { home: { equals: { street, city, zip } } } }). The struct goes
  // out as one parameter (never spliced into the text): quotes, commas and parentheses in its
  // fields are data, and a NULL field compares as SQL's row comparison says.
  conn().exec(
      "create table people (id bigint generated always as identity primary key, name text not "
      "null, home address not null, work address)");
  const address odd{"Elm \"2\", (back)", "Shelby'ville", std::nullopt};
  const address plain{"Main St 1", "Springfield", std::string("12345")};
  const address office{"Office", "Capital City", std::string("1")};
  pgorm::insert(Person{0, "Ann", odd, office}).exec(conn());
  pgorm::insert(Person{0, "Bob", plain, std::nullopt}).exec(conn());
  pgorm::insert(Person{0, "Cy", plain, office}).exec(conn());
  using pgorm::col;
  const auto at_plain =
      conn().select<Person>().where(col<&Person::home> == plain).order_by(col<&Person::id>).all();
  ASSERT_EQ(at_plain.size(), 2U);
  EXPECT_EQ(at_plain[0].name, "Bob");
  EXPECT_EQ(at_plain[1].name, "Cy");
  const auto q = conn().select<Person>().where(col<&Person::home> != plain);
  const pgorm::statement s = q.to_sql();
  EXPECT_EQ(s.sql, "SELECT id, name, home, work FROM people WHERE home <> $1::address");
  ASSERT_EQ(s.params.size(), 1U);
  const auto other = q.all();
  ASSERT_EQ(other.size(), 1U);
  EXPECT_EQ(other[0].home, odd);
  // Composite values compare field by field, a NULL field equal to a NULL field (unlike a
  // ROW(...) constructor comparison).
  EXPECT_EQ(conn().select<Person>().where(col<&Person::home> == odd).count(), 1);
  // A nullable composite column, compared with a struct and with NULL.
  EXPECT_EQ(conn().select<Person>().where(col<&Person::work> == office).count(), 2);
  EXPECT_EQ(conn().select<Person>().where(col<&Person::work>.is_null()).count(), 1);
  // IN: the structs as one array parameter.
  const auto in = conn()
                      .select(col<&Person::name>)
                      .from<Person>()
                      .where(col<&Person::home>.in(std::vector<address>{plain, office}))
                      .order_by(col<&Person::name>)
                      .all();
  ASSERT_EQ(in.size(), 2U);
  EXPECT_EQ(std::get<0>(in[0]), "Bob");
}

}  // namespace
