// SPDX-License-Identifier: MIT
// db.insert(row) with only pool.hpp included: the pool does not pull in every builder, and the
// first error says which header to include.
// expect: pgorm: the query builders are not included here: #include "pgorm/query.hpp"
#include <cstdint>
#include <string>

#include "pgorm/pool.hpp"

struct User {
  std::int64_t id;
  std::string email;
};

void add_user(pgorm::pool& db, const User& u) { (void)db.insert(u); }
