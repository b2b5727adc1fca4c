// SPDX-License-Identifier: MIT
// expect: pgorm: an index in table_traits<T>::indexes names a member of another struct
#include "pgorm/table.hpp"
struct other {
  long created;
};
struct event {
  long id;
  long created;
};
template <>
struct pgorm::table_traits<event> {
  static constexpr auto indexes =
      pgorm::indexes(pgorm::index(&event::id), pgorm::index(&other::created));
};
constexpr auto n = pgorm::table<event>::column_count;
