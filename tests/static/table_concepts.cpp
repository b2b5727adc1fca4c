// SPDX-License-Identifier: MIT
// Concept table for table.hpp: compiling this file is the test.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "pgorm/table.hpp"
#include "pgorm/types.hpp"

namespace {

struct user {
  std::int64_t id;
  std::string email;
  std::optional<std::string> name;
};
struct with_pointer {
  std::int64_t id;
  int* p;
};
struct empty {};
struct with_ctor {
  explicit with_ctor(int v) : x(v) {}
  int x;
};

static_assert(pgorm::mappable<user>);
static_assert(!pgorm::mappable<with_pointer>);
static_assert(!pgorm::mappable<empty>);
static_assert(!pgorm::mappable<with_ctor>);
static_assert(!pgorm::mappable<int>);

// Descriptors are constant expressions.
static_assert(pgorm::table<user>::select_list == "id, email, name");
static_assert(pgorm::table<user>::qualified_name == "\"user\"");
static_assert(pgorm::table<user>::column_of<&user::name>().nullable);
static_assert(!pgorm::table<user>::column_of<&user::email>().nullable);
static_assert(pgorm::table<user>::primary_key.empty());

// Option builders produce the documented kinds.
static_assert(pgorm::detail::is_column_set<decltype(pgorm::columns(&user::id))>);
static_assert(pgorm::detail::is_column_set<decltype(pgorm::key(&user::id, &user::email))>);
static_assert(pgorm::detail::is_identity<decltype(pgorm::identity(&user::id))>);
static_assert(pgorm::detail::is_index<decltype(pgorm::index(&user::email).unique())>);
static_assert(pgorm::detail::is_rename<decltype(pgorm::rename(&user::email, "Email"))>);
static_assert(pgorm::detail::is_default<decltype(pgorm::default_sql(&user::name, "''"))>);
static_assert(pgorm::detail::is_foreign_key<decltype(pgorm::foreign_key(&user::id, &user::id))>);

}  // namespace
