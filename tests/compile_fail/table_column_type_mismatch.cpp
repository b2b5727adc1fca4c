// SPDX-License-Identifier: MIT
// expect: pgorm: varchar\(n\) and character\(n\) declare a std::string field
#include <cstdint>

#include "pgorm/table.hpp"
struct user {
  std::int64_t id;
  std::int32_t age;
};
template <>
struct pgorm::table_traits<user> {
  static constexpr auto column_types =
      pgorm::column_types(pgorm::column_type(&user::age, pgorm::sql_type::varchar(3)));
};
constexpr auto n = pgorm::table<user>::column_count;
