// SPDX-License-Identifier: MIT
// expect: pgorm: this member belongs to another struct
#include "pgorm/table.hpp"
struct user {
  long id;
};
struct session {
  long id;
  long user_id;
};
constexpr auto& c = pgorm::table<user>::column_of<&session::user_id>();
