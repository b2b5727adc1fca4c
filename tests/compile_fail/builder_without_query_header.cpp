// SPDX-License-Identifier: MIT
// conn.select<T>() with only connection.hpp included: the builders live a layer above, and the
// first error says which header to include (not "use of auto before deduction").
// expect: pgorm: the query builders are not included here: #include "pgorm/query.hpp"
#include <cstdint>
#include <string>

#include "pgorm/connection.hpp"

struct User {
  std::int64_t id;
  std::string email;
};

void list_users(pgorm::connection& conn) { (void)conn.select<User>(); }
