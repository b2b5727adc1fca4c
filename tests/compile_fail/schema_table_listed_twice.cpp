// SPDX-License-Identifier: MIT
// expect: pgorm: a table type is listed twice; list each struct once
#include <cstdint>

#include "pgorm/schema.hpp"

struct Widget {
  std::int64_t id;
};

void check_twice(pgorm::connection& conn) {
  static_cast<void>(pgorm::schema::diff<Widget, Widget>(conn));
}
