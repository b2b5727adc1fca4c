// SPDX-License-Identifier: MIT
// expect: pgorm: two columns of this table have the same SQL name
#include "pgorm/table.hpp"
struct user {
  long id;
  bool flag;
  bool active;
};
template <>
struct pgorm::table_traits<user> {
  static constexpr auto renames = pgorm::renames(pgorm::rename(&user::active, "flag"));
};
constexpr auto n = pgorm::table<user>::column_count;
