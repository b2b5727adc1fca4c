// SPDX-License-Identifier: MIT
// expect: pgorm: a remove without where\(\) would delete every row
// clang-format off
#include <string>

#include "pgorm/query/remove.hpp"
struct User { long id; std::string email; };
void run(pgorm::connection& c) { pgorm::remove<User>().exec(c); }
