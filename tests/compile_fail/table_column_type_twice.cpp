// SPDX-License-Identifier: MIT
// expect: pgorm: table_traits<T>::column_types declares one member's type twice
#include <cstdint>
#include <string>

#include "pgorm/table.hpp"
struct user {
  std::int64_t id;
  std::string email;
};
template <>
struct pgorm::table_traits<user> {
  static constexpr auto column_types =
      pgorm::column_types(pgorm::column_type(&user::email, pgorm::sql_type::varchar(3)),
                          pgorm::column_type(&user::email, pgorm::sql_type::varchar(4)));
};
constexpr auto n = pgorm::table<user>::column_count;
