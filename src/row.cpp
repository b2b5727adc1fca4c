// SPDX-License-Identifier: MIT
#include "pgorm/row.hpp"

#include <fmt/format.h>

namespace pgorm::detail {

void throw_missing_column(std::string_view table, std::string_view field, std::string_view column) {
  throw usage_error(fmt::format(
      "pgorm: the result has no column \"{}\" for field {}.{}; select it, or read into a struct "
      "without that field",
      column, table, field));
}

void throw_extra_column(std::string_view table, std::string_view column) {
  throw usage_error(
      fmt::format("pgorm: the result column \"{}\" matches no field of {}; select only the "
                  "struct's columns, or add a field for it",
                  column, table));
}

void throw_column_count(std::size_t expected, int actual) {
  throw usage_error(fmt::format(
      "pgorm: the result has {} column(s) but the row type takes {}; select exactly those", actual,
      expected));
}

}  // namespace pgorm::detail
