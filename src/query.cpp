// SPDX-License-Identifier: MIT
#include <fmt/format.h>

#include "pgorm/query/common.hpp"
#include "pgorm/query/raw.hpp"

namespace pgorm::detail {

void throw_not_one_row(int rows) {
  if (rows == 0) {
    throw not_found(
        "pgorm: one() expects exactly one row, but the query returned none; use first() for an "
        "optional row, or catch pgorm::not_found");
  }
  throw usage_error(fmt::format(
      "pgorm: one() expects exactly one row, but the query returned {}; use first() for an "
      "optional row or all() for many",
      rows));
}

}  // namespace pgorm::detail

namespace pgorm::detail {

void throw_placeholder_mismatch(std::size_t placeholders, std::size_t args) {
  throw usage_error(fmt::format(
      "pgorm: the SQL text uses parameters up to ${} but {} argument(s) were given; pass one "
      "argument per $n",
      placeholders, args));
}

}  // namespace pgorm::detail
