// SPDX-License-Identifier: MIT
// expect: pgorm: an update needs set\(
// clang-format off
#include <string>

#include "pgorm/query/update.hpp"
struct User { long id; std::string email; };
auto st = pgorm::update<User>().where(pgorm::col<&User::id> == 1).to_sql();
