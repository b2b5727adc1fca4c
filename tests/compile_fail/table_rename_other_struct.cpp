// SPDX-License-Identifier: MIT
// expect: pgorm: a rename\(\) in table_traits<T>::renames names a member of another struct
#include "pgorm/table.hpp"
struct other {
  bool flag;
};
struct user {
  long id;
  bool flag;
};
template <>
struct pgorm::table_traits<user> {
  static constexpr auto renames = pgorm::renames(pgorm::rename(&other::flag, "Flag"));
};
constexpr auto n = pgorm::table<user>::column_count;
