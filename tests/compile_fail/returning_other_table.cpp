// SPDX-License-Identifier: MIT
// expect: pgorm: returning\(\) may only name columns of the table being written
// clang-format off
#include <string>

#include "pgorm/query/insert.hpp"
struct User { long id; std::string email; };
struct Session { long id; std::string token; };
auto q = pgorm::insert(User{1, "a"}).returning(pgorm::col<&Session::token>);
