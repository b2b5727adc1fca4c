// SPDX-License-Identifier: MIT
#pragma once

/// \file
/// pgorm::range<T>, the C++ side of PostgreSQL's range types: int4range (std::int32_t),
/// int8range (std::int64_t), numrange (pgorm::numeric), tsrange (pgorm::timestamp), tstzrange
/// (pgorm::timestamptz) and daterange (pgorm::date).

#include <optional>
#include <utility>

namespace pgorm {

/// A range of T: empty, or from a lower to an upper bound, each inclusive or exclusive, or
/// absent (unbounded: -infinity below, +infinity above). The default is the range of
/// everything, `(,)`.
///
/// The server keeps ranges canonical: a discrete range (int4range, int8range, daterange) is
/// stored as `[lower, upper)`, so `[1,5]` reads back as `[1,6)`, and a range with no values,
/// such as `[3,3)`, reads back empty. operator== compares the fields as they are: compare what
/// the server sent with what it sent.
///
/// Example:
/// ```
/// pgorm::range<std::int32_t> r{1, 10};                   // [1,10)
/// auto later = pgorm::range<std::int64_t>::at_least(100);  // [100,)
/// auto none = pgorm::range<std::int64_t>::empty_range(); // empty
/// ```
template <class T>
struct range {
  using value_type = T;  ///< the bound type

  std::optional<T> lower;        ///< the lower bound; std::nullopt: unbounded below
  std::optional<T> upper;        ///< the upper bound; std::nullopt: unbounded above
  bool lower_inclusive = true;   ///< `[` rather than `(`; ignored when unbounded
  bool upper_inclusive = false;  ///< `]` rather than `)`; ignored when unbounded
  bool empty = false;            ///< the empty range (the bounds are then ignored)

  /// `(,)`: every value.
  constexpr range() = default;
  /// `[lower, upper)`, the canonical form of discrete ranges.
  constexpr range(T lo, T hi) : lower(std::move(lo)), upper(std::move(hi)) {}
  /// Any bounds: e.g. `range<int>{1, 5, false, true}` is `(1,5]`.
  constexpr range(std::optional<T> lo, std::optional<T> hi, bool lo_inclusive, bool hi_inclusive)
      : lower(std::move(lo)),
        upper(std::move(hi)),
        lower_inclusive(lo_inclusive),
        upper_inclusive(hi_inclusive) {}

  /// The empty range.
  [[nodiscard]] static constexpr range empty_range() {
    range r;
    r.empty = true;
    r.lower_inclusive = false;
    return r;
  }
  /// `[lo,)`: lo and everything above.
  [[nodiscard]] static constexpr range at_least(T lo) {
    return range{std::optional<T>(std::move(lo)), std::nullopt, true, false};
  }
  /// `(,hi)`: everything below hi.
  [[nodiscard]] static constexpr range below(T hi) {
    return range{std::nullopt, std::optional<T>(std::move(hi)), false, false};
  }

  /// True for the empty range.
  [[nodiscard]] constexpr bool is_empty() const noexcept { return empty; }

  /// Equal when both are empty, or when they have the same bounds with the same inclusivity
  /// (the inclusivity of an absent bound does not count).
  friend constexpr bool operator==(const range& a, const range& b) {
    if (a.empty || b.empty) return a.empty == b.empty;
    return a.lower == b.lower && a.upper == b.upper &&
           (!a.lower || a.lower_inclusive == b.lower_inclusive) &&
           (!a.upper || a.upper_inclusive == b.upper_inclusive);
  }
};

}  // namespace pgorm
