// SPDX-License-Identifier: MIT
// expect: pgorm: foreign_key\(\) must reference a column
#include "pgorm/table.hpp"
struct user {
  long id;
  long key() const { return id; }
};
struct session {
  long id;
  long user_id;
};
template <>
struct pgorm::table_traits<session> {
  static constexpr auto foreign_keys =
      pgorm::foreign_keys(pgorm::foreign_key(&session::user_id, &user::key));
};
