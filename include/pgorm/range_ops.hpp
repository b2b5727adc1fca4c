// SPDX-License-Identifier: MIT
#pragma once

/// \file
/// The range operators in expressions: `@>` (contains a value or a range) and `&&` (overlaps),
/// on columns and values of pgorm::range<T> (pgorm/range.hpp). See docs/types.md, "Ranges".
///
/// ```cpp
/// conn.select<Booking>().where(pgorm::range_contains(pgorm::col<&Booking::seats>, 5)).all();
/// ```

#include <optional>
#include <type_traits>
#include <utility>

#include "pgorm/expr.hpp"
#include "pgorm/range.hpp"

namespace pgorm {

namespace detail {

struct op_range_contains {
  static constexpr std::string_view token = " @> ";
  static constexpr int precedence = prec_compare;
};
struct op_range_overlaps {
  static constexpr std::string_view token = " && ";
  static constexpr int precedence = prec_compare;
};

template <class T>
struct range_parts {
  static constexpr bool is_range = false;
};
template <class T>
struct range_parts<range<T>> {
  static constexpr bool is_range = true;
  using bound = T;
};

template <class V>
using range_parts_of = range_parts<remove_optional_t<V>>;

template <class Op, class Like, class L, class R>
constexpr auto range_op(const L& lhs, R&& rhs) {
  auto r = as_expr<Like>(std::forward<R>(rhs));
  using rvalue = typename decltype(r)::value_type;
  constexpr bool nullable =
      is_optional<typename L::value_type>::value || is_optional<rvalue>::value;
  return binary_expr<Op, L, decltype(r), maybe_optional_t<bool, nullable>>{{}, lhs, std::move(r)};
}

}  // namespace detail

/// `range @> x`: the range contains the value x (of the bound type) or the whole range x.
/// `range` is an expression of a pgorm::range<T> type, e.g. a column.
///
/// Example: `pgorm::range_contains(pgorm::col<&Booking::seats>, 5)`
template <class L, class R>
requires expression<L>
constexpr auto range_contains(const L& range_expr, R&& value) {
  using parts = detail::range_parts_of<typename L::value_type>;
  static_assert(parts::is_range,
                "pgorm: range_contains() takes an expression of a pgorm::range<T> type first");
  if constexpr (parts::is_range) {
    using rhs = detail::remove_optional_t<detail::operand_value_t<R>>;
    constexpr bool whole_range = std::is_same_v<rhs, range<typename parts::bound>>;
    constexpr bool element = std::is_same_v<rhs, typename parts::bound> ||
                             std::is_convertible_v<rhs, typename parts::bound>;
    static_assert(whole_range || element,
                  "pgorm: range_contains() takes a value of the range's bound type or a range "
                  "of the same type");
    if constexpr (whole_range) {
      return detail::range_op<detail::op_range_contains, range<typename parts::bound>>(
          range_expr, std::forward<R>(value));
    } else if constexpr (element) {
      return detail::range_op<detail::op_range_contains, typename parts::bound>(
          range_expr, std::forward<R>(value));
    } else {
      return range_expr;
    }
  } else {
    return range_expr;
  }
}

/// `a && b`: the two ranges (of one type) have a value in common.
///
/// Example: `pgorm::range_overlaps(pgorm::col<&Booking::during>, wanted)`
template <class L, class R>
requires expression<L>
constexpr auto range_overlaps(const L& a, R&& b) {
  using parts = detail::range_parts_of<typename L::value_type>;
  static_assert(parts::is_range,
                "pgorm: range_overlaps() takes expressions or values of a pgorm::range<T> type");
  if constexpr (parts::is_range) {
    using range_type = range<typename parts::bound>;
    static_assert(std::is_same_v<detail::remove_optional_t<detail::operand_value_t<R>>, range_type>,
                  "pgorm: range_overlaps() compares two ranges of the same type");
    return detail::range_op<detail::op_range_overlaps, range_type>(a, std::forward<R>(b));
  } else {
    return a;
  }
}

}  // namespace pgorm
