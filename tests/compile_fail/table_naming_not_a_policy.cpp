// SPDX-License-Identifier: MIT
// table_traits<T>::naming that is not a naming policy.
// expect: pgorm: table_traits<T>::naming must be a naming policy
#include <cstdint>
#include <string>

#include "pgorm/table.hpp"

struct Item {
  std::int64_t id;
  std::string display_name;
};
template <>
struct pgorm::table_traits<Item> {
  using naming = std::string;  // not a policy: it has no static write(field, out)
};

constexpr auto list = pgorm::table<Item>::select_list;
