// SPDX-License-Identifier: MIT
// Two translation units include the umbrella header and instantiate the same queries; linking
// them together catches definitions that are not inline (ODR violations).
#include <string_view>

#include "pgorm/pgorm.hpp"
#include "shared.hpp"

std::string_view sql_from_b();

int main() {
  const std::string_view a =
      decltype(pgorm::select<odr::Item>().where(pgorm::col<&odr::Item::id> == 1))::sql();
  return a == sql_from_b() && a == "SELECT id, label FROM item WHERE id = $1" ? 0 : 1;
}
