// SPDX-License-Identifier: MIT
// expect: pgorm: insert<T>\(row\) inserts into T's table and takes a T
// clang-format off
#include <string>

#include "pgorm/query/insert.hpp"
struct User { long id; std::string email; };
struct Session { long id; std::string token; };
auto q = pgorm::insert<User>(Session{1, "t"});
