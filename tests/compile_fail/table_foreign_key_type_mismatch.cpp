// SPDX-License-Identifier: MIT
// expect: pgorm: a foreign key column must have the same type as the column it references
#include <string>

#include "pgorm/table.hpp"
struct user {
  long id;
};
struct session {
  long id;
  std::string user_id;
};
template <>
struct pgorm::table_traits<session> {
  static constexpr auto foreign_keys =
      pgorm::foreign_keys(pgorm::foreign_key(&session::user_id, &user::id));
};
