// SPDX-License-Identifier: MIT
// Composite types as structs without a server: record_send's format both ways, NULL fields,
// and the malformed records the decoder must refuse.
#include "pgorm/composite.hpp"

#include <cstdint>
#include <optional>
#include <string>

#include <gtest/gtest.h>

#include "pgorm/error.hpp"
#include "pgorm/types.hpp"

namespace composite_unit {
struct money_amount {
  std::int64_t cents;
  std::optional<std::string> currency;
};
struct not_opted_in {
  std::int32_t x;
};
}  // namespace composite_unit

template <>
struct pgorm::composite_traits<composite_unit::money_amount> {
  static constexpr std::string_view type_name = "money_amount";
};

namespace {

using composite_unit::money_amount;
using codec = pgorm::pg_type<money_amount>;

static_assert(pgorm::pg_composite<money_amount> && pgorm::has_pg_type<money_amount>);
static_assert(!pgorm::has_pg_type<composite_unit::not_opted_in>);
static_assert(codec::oid == 0 && codec::sql_name == "money_amount");
static_assert(pgorm::has_pg_type<std::optional<money_amount>>);

std::string be32(std::int32_t v) {
  pgorm::byte_buffer out;
  out.append_be(v);
  return {out.data(), out.size()};
}

std::string encode(const money_amount& m) {
  pgorm::byte_buffer out;
  codec::encode(m, out);
  return {out.data(), out.size()};
}

money_amount decode(const std::string& bytes) {
  money_amount m{1, "x"};
  codec::decode(bytes, pgorm::oids::record, m);
  return m;
}

const std::string eur =
    be32(2) + be32(20) + be32(8) + std::string(7, '\0') + "\x05" + be32(25) + be32(3) + "EUR";

TEST(composite_ddl, create_type_lists_the_fields_in_order) {
  EXPECT_EQ(pgorm::schema::create_type<money_amount>(),
            "CREATE TYPE money_amount AS (cents bigint, currency text);");
}

TEST(composite_codec, writes_record_send_format) {
  EXPECT_EQ(encode({5, "EUR"}), eur);
  EXPECT_EQ(encode({5, std::nullopt}),
            be32(2) + be32(20) + be32(8) + std::string(7, '\0') + "\x05" + be32(25) + be32(-1));
}

TEST(composite_codec, reads_what_it_writes_with_nulls) {
  const money_amount m = decode(eur);
  EXPECT_EQ(m.cents, 5);
  EXPECT_EQ(m.currency, std::optional<std::string>("EUR"));
  EXPECT_EQ(decode(encode({-7, std::nullopt})).currency, std::nullopt);
  // An int4 field reads into the int64 member (the scalar codec widens).
  const money_amount w =
      decode(be32(2) + be32(23) + be32(4) + be32(9) + be32(1043) + be32(1) + "$");
  EXPECT_EQ(w.cents, 9);
  EXPECT_EQ(w.currency, std::optional<std::string>("$"));
}

TEST(composite_codec, refuses_malformed_records) {
  for (const std::string& bad : {
           std::string("\0\0", 2),                                         // no count
           be32(3) + eur.substr(4),                                        // count differs
           eur.substr(0, eur.size() - 1),                                  // cut short
           eur + "x",                                                      // trailing byte
           be32(2) + be32(20) + be32(-1) + be32(25) + be32(1) + "E",       // NULL into int64
           be32(2) + be32(25) + be32(1) + "x" + be32(25) + be32(1) + "E",  // text into int64
           be32(2) + be32(20) + be32(8),                                   // length past the end
       }) {
    EXPECT_THROW((void)decode(bad), pgorm::conversion_error) << bad.size();
  }
}

TEST(composite_codec, errors_name_the_field) {
  const auto message = [](const std::string& bytes) {
    try {
      (void)decode(bytes);
    } catch (const pgorm::conversion_error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(message(be32(2) + be32(20) + be32(-1) + be32(25) + be32(1) + "E")
                .find("field 1 (cents) is NULL"),
            std::string::npos);
  EXPECT_NE(message(be32(2) + be32(20) + be32(8) + std::string(7, '\0') + "\x05" + be32(23) +
                    be32(1) + "E")
                .find("field 2 (currency) of SQL type int4"),
            std::string::npos);
  EXPECT_NE(message(eur.substr(0, eur.size() - 1)).find("ends inside its field 2 (currency)"),
            std::string::npos);
  EXPECT_NE(message(be32(3) + eur.substr(4)).find("3 fields cannot be read into money_amount"),
            std::string::npos);
  // A codec's own error keeps its text, after the field: an int4 of 3 bytes.
  EXPECT_NE(message(be32(2) + be32(23) + be32(3) + "abc" + be32(25) + be32(-1))
                .find("record field 1 (cents): "),
            std::string::npos);
}

}  // namespace
