// SPDX-License-Identifier: MIT
// expect: pgorm: a pgorm::defaulted<...> field needs a column default
// clang-format off
#include <string>

#include "pgorm/query/insert.hpp"
// is_active asks for a default that table_traits<User> never declares.
struct User { long id; std::string email; pgorm::defaulted<bool> is_active; };
auto q = pgorm::insert(User{1, "a@b.c", {}});
