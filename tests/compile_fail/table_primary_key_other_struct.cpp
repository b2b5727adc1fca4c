// SPDX-License-Identifier: MIT
// expect: pgorm: table_traits<T>::primary_key names a member of another struct
#include "pgorm/table.hpp"
struct other {
  long id;
};
struct user {
  long id;
};
template <>
struct pgorm::table_traits<user> {
  static constexpr auto primary_key = pgorm::key(&other::id);
};
constexpr auto n = pgorm::table<user>::column_count;
