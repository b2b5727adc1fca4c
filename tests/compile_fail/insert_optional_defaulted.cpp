// SPDX-License-Identifier: MIT
// expect: pgorm: a nullable column with a default is pgorm::defaulted<std::optional<T>>
// clang-format off
#include <optional>
#include <string>

#include "pgorm/query/insert.hpp"
struct User { long id; std::optional<pgorm::defaulted<std::string>> bio; };
template <> struct pgorm::table_traits<User> {
  static constexpr auto defaults = pgorm::defaults(pgorm::default_value(&User::bio, "none"));
};
auto q = pgorm::insert(User{1, std::nullopt});
