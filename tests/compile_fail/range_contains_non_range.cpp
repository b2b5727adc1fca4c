// SPDX-License-Identifier: MIT
// expect: pgorm: range_contains\(\) takes an expression of a pgorm::range<T> type first
#include <cstdint>

#include "pgorm/query.hpp"
#include "pgorm/range_ops.hpp"

struct booking {
  std::int64_t id;
  std::int32_t seats;
};
template <>
struct pgorm::table_traits<booking> {
  static constexpr auto primary_key = pgorm::key(&booking::id);
};
auto q = pgorm::select<booking>().where(pgorm::range_contains(pgorm::col<&booking::seats>, 5));
