// SPDX-License-Identifier: MIT
// expect: pgorm: a primary key column cannot be NULL
#include <optional>

#include "pgorm/table.hpp"
struct tag {
  std::optional<long> id;
};
template <>
struct pgorm::table_traits<tag> {
  static constexpr auto primary_key = pgorm::key(&tag::id);
};
constexpr auto n = pgorm::table<tag>::column_count;
