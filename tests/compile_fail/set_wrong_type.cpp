// SPDX-License-Identifier: MIT
// expect: pgorm: the value assigned to a column must have the column's type
// clang-format off
#include <string>

#include "pgorm/query/update.hpp"
struct User { long id; std::string email; int age; };
auto q = pgorm::update<User>().set(pgorm::col<&User::age> = pgorm::col<&User::email>);
