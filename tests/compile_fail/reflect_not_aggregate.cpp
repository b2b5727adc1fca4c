// SPDX-License-Identifier: MIT
// expect: pgorm: the struct must be an aggregate
#include "pgorm/reflect.hpp"
struct widget {
  explicit widget(int v) : x(v) {}
  int x;
};
constexpr auto names = pgorm::field_names_v<widget>;
