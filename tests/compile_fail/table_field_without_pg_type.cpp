// SPDX-License-Identifier: MIT
// expect: pgorm: a field of this struct has no PostgreSQL type mapping; see docs/types.md
#include "pgorm/table.hpp"
struct gadget {
  int x;
};
struct user {
  long id;
  gadget g;
};
constexpr auto list = pgorm::table<user>::select_list;
