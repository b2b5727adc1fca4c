// SPDX-License-Identifier: MIT
// The table of built-in types (pgorm::oids::builtin_types) against the server's own catalog:
// every OID, array OID and name pgorm writes down is the one pg_type holds.
#include <cstdint>
#include <string>

#include <gtest/gtest.h>

#include "pgorm/params.hpp"
#include "pgorm/types.hpp"
#include "support/db_test.hpp"

namespace {

class builtin_types_test : public pgorm::test::db_test {};

TEST_F(builtin_types_test, every_row_matches_pg_type) {
  for (const pgorm::oids::builtin_type& t : pgorm::oids::builtin_types) {
    const auto p = pgorm::encode_params(static_cast<std::int64_t>(t.type));
    const auto res = conn().exec(
        "select typname::text, typarray::int8, typtype::text from pg_catalog.pg_type "
        "where oid = $1::oid",
        p.params(), pgorm::data_format::binary);
    ASSERT_EQ(res.rows(), 1) << "no type has oid " << t.type << " (" << t.name << ")";
    std::string name;
    std::int64_t array = 0;
    std::string kind;
    pgorm::read_field(res, 0, 0, name, {"pg_type", "typname"});
    pgorm::read_field(res, 0, 1, array, {"pg_type", "typarray"});
    pgorm::read_field(res, 0, 2, kind, {"pg_type", "typtype"});
    EXPECT_EQ(name, t.name) << "oid " << t.type;
    EXPECT_EQ(array, std::int64_t{t.array}) << t.name;
    EXPECT_NE(kind, "d") << t.name << " is a domain, not a built-in type";
  }
}

TEST_F(builtin_types_test, built_in_codecs_send_the_oids_the_server_reports) {
  // pg_typeof of a parameter is the type its OID named: the codec's oid is the server's.
  const auto p = pgorm::encode_params(true, std::int16_t{1}, 1, std::int64_t{1}, 1.0F, 1.0,
                                      pgorm::timestamptz{}, pgorm::interval{}, pgorm::uuid{},
                                      pgorm::jsonb{"{}"}, pgorm::numeric{1});
  const auto res = conn().exec(
      "select pg_typeof($1)::oid::int8, pg_typeof($2)::oid::int8, pg_typeof($3)::oid::int8, "
      "pg_typeof($4)::oid::int8, pg_typeof($5)::oid::int8, pg_typeof($6)::oid::int8, "
      "pg_typeof($7)::oid::int8, pg_typeof($8)::oid::int8, pg_typeof($9)::oid::int8, "
      "pg_typeof($10)::oid::int8, pg_typeof($11)::oid::int8",
      p.params(), pgorm::data_format::binary);
  const pgorm::oid expected[] = {
      pgorm::oids::boolean, pgorm::oids::int2,   pgorm::oids::int4,        pgorm::oids::int8,
      pgorm::oids::float4,  pgorm::oids::float8, pgorm::oids::timestamptz, pgorm::oids::interval,
      pgorm::oids::uuid,    pgorm::oids::jsonb,  pgorm::oids::numeric};
  for (int col = 0; col != 11; ++col) {
    std::int64_t type = 0;
    pgorm::read_field(res, 0, col, type, {"", "pg_typeof"});
    EXPECT_EQ(type, std::int64_t{expected[col]}) << "parameter $" << col + 1;
  }
}

}  // namespace
