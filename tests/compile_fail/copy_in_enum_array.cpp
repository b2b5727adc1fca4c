// SPDX-License-Identifier: MIT
// expect: pgorm: copy_in\(\) cannot write a std::vector of a PostgreSQL enum
#include <array>
#include <string_view>
#include <utility>
#include <vector>

#include "pgorm/copy.hpp"
enum class role { admin, member };
template <>
struct pgorm::enum_traits<role> {
  static constexpr std::string_view type_name = "user_role";
  static constexpr std::array values{std::pair{role::admin, "admin"},
                                     std::pair{role::member, "member"}};
};
struct member {
  long id;
  std::vector<role> roles;
};
void write(pgorm::connection& conn, const std::vector<member>& rows) { pgorm::copy_in(conn, rows); }
