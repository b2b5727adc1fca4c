// SPDX-License-Identifier: MIT
// expect: pgorm: an identity column must be smallint, integer or bigint
#include <string>

#include "pgorm/table.hpp"
struct user {
  std::string id;
};
template <>
struct pgorm::table_traits<user> {
  static constexpr auto primary_key = pgorm::identity(&user::id);
};
constexpr auto n = pgorm::table<user>::column_count;
