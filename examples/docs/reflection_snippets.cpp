// SPDX-License-Identifier: MIT
// The code blocks of docs/reflection.md, compiled (never run). Each region between
// `doc-begin(name)` and `doc-end(name)` appears verbatim (dedented) in the page; check with
// tools/check_docs.py.

#include <cstdint>
#include <string>
#include <type_traits>

#include "pgorm/reflect.hpp"

namespace docs::reflection {

// doc-begin(example)
struct User {
  std::int64_t id;
  std::string email;
};
static_assert(pgorm::field_count_v<User> == 2);
static_assert(pgorm::field_names_v<User>[1] == "email");
static_assert(pgorm::member_index_v<&User::email> == 1);
static_assert(pgorm::member_name_v<&User::email> == "email");
static_assert(std::is_same_v<pgorm::field_type_t<User, 0>, std::int64_t>);
static_assert(pgorm::snake_case_type_name<User>() == "user");
// doc-end(example)

}  // namespace docs::reflection
