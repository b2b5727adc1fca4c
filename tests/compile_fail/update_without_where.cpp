// SPDX-License-Identifier: MIT
// expect: pgorm: an update without where\(\) would change every row
// clang-format off
#include <string>

#include "pgorm/query/update.hpp"
struct User { long id; std::string email; };
void run(pgorm::connection& c) { pgorm::update<User>().set(pgorm::col<&User::email> = "x").exec(c); }
