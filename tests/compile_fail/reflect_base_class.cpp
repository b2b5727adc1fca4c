// SPDX-License-Identifier: MIT
// expect: pgorm: the struct must not have a base class
#include "pgorm/reflect.hpp"
struct base {
  int id;
};
struct derived : base {
  int extra;
};
constexpr auto index = pgorm::member_index_v<&derived::extra>;
