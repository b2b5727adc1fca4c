// SPDX-License-Identifier: MIT
#include <string_view>

#include "pgorm/pgorm.hpp"
#include "shared.hpp"

std::string_view sql_from_b() {
  return decltype(pgorm::select<odr::Item>().where(pgorm::col<&odr::Item::id> == 1))::sql();
}
