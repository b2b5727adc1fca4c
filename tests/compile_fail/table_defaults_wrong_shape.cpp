// SPDX-License-Identifier: MIT
// expect: pgorm: table_traits<T>::defaults must be pgorm::defaults\(
#include "pgorm/table.hpp"
struct account {
  long id;
  bool active;
};
template <>
struct pgorm::table_traits<account> {
  // A rename where a default belongs.
  static constexpr auto defaults = pgorm::rename(&account::active, "is_active");
};
constexpr auto n = pgorm::table<account>::column_count;
