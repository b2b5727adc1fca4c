// SPDX-License-Identifier: MIT
#pragma once

/// \file
/// Window functions: `pgorm::row_number().over(pgorm::window().partition_by(...).order_by(...))`,
/// rank, dense_rank, percent_rank, cume_dist, ntile, lag, lead, first_value, last_value,
/// nth_value, and any aggregate over a window with `pgorm::over(pgorm::sum(e), w)`. A window
/// may end with a frame: `.rows_between(pgorm::preceding<2>, pgorm::current_row)`,
/// `.range_between(...)` or `.groups_between(...)`, with offsets fixed at compile time
/// (pgorm::preceding<n>) or sent as parameters (pgorm::preceding_by(n)), and an EXCLUDE clause
/// (`.exclude_current_row()`, ...). Usable in select lists and ORDER BY. See docs/queries.md,
/// "Window functions".
///
/// ```cpp
/// auto nth = pgorm::row_number().over(pgorm::window()
///                                         .partition_by(pgorm::col<&Session::user_id>)
///                                         .order_by(pgorm::col<&Session::expires_at>.desc()));
/// auto last3 = pgorm::over(pgorm::avg(pgorm::col<&Account::balance>),
///                          pgorm::window()
///                              .order_by(pgorm::col<&Account::id>)
///                              .rows_between(pgorm::preceding<2>, pgorm::current_row));
/// ```

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <tuple>
#include <type_traits>
#include <utility>

#include "pgorm/expr.hpp"
#include "pgorm/query/clauses.hpp"

namespace pgorm {

// ---- window frames ----------------------------------------------------------------------------

/// Where a window frame starts or ends, in the order SQL requires a frame's bounds to come.
enum class frame_bound_kind {
  unbounded_preceding,
  preceding,
  current_row,
  following,
  unbounded_following
};

/// One bound of a window frame. Use the constants pgorm::unbounded_preceding,
/// pgorm::preceding<n>, pgorm::current_row, pgorm::following<n>, pgorm::unbounded_following.
/// The offset n is a compile-time constant: it is written into the SQL text, and a start after
/// the end fails to compile. For an offset known only at run time, see pgorm::preceding_by().
template <frame_bound_kind Kind, std::uint32_t N = 0>
struct frame_bound {
  static constexpr bool is_pgorm_frame_bound = true;
  static constexpr bool is_runtime = false;
  static constexpr frame_bound_kind kind = Kind;
  static constexpr std::uint32_t offset = N;

  template <class W>
  static constexpr void render(W& w) {
    if constexpr (Kind == frame_bound_kind::unbounded_preceding) {
      w.append("UNBOUNDED PRECEDING");
    } else if constexpr (Kind == frame_bound_kind::preceding) {
      w.number(N);
      w.append(" PRECEDING");
    } else if constexpr (Kind == frame_bound_kind::current_row) {
      w.append("CURRENT ROW");
    } else if constexpr (Kind == frame_bound_kind::following) {
      w.number(N);
      w.append(" FOLLOWING");
    } else {
      w.append("UNBOUNDED FOLLOWING");
    }
  }
  void bind(detail::param_list& /*sink*/) const {}
};

/// A bound `$n PRECEDING` or `$n FOLLOWING` whose offset is a parameter, chosen at run time:
/// made by pgorm::preceding_by() and pgorm::following_by(). The SQL text does not depend on
/// the offset, so the statement stays static (one prepared statement for every offset).
template <frame_bound_kind Kind, class T>
struct runtime_frame_bound {
  static_assert(Kind == frame_bound_kind::preceding || Kind == frame_bound_kind::following);
  static constexpr bool is_pgorm_frame_bound = true;
  static constexpr bool is_runtime = true;
  static constexpr frame_bound_kind kind = Kind;
  /// The C++ type the offset is sent as (std::int64_t, double, pgorm::numeric or
  /// pgorm::interval).
  using offset_type = T;

  value_expr<T> offset;

  template <class W>
  static constexpr void render(W& w) {
    w.placeholder();
    w.append(Kind == frame_bound_kind::preceding ? " PRECEDING" : " FOLLOWING");
  }
  void bind(detail::param_list& sink) const { offset.bind(sink); }
};

/// `UNBOUNDED PRECEDING`: the frame starts at the partition's first row.
inline constexpr frame_bound<frame_bound_kind::unbounded_preceding> unbounded_preceding{};
/// `n PRECEDING`: n rows (ROWS), n peer groups (GROUPS) or n less in the ORDER BY value (RANGE)
/// before the current row.
template <std::uint32_t N>
inline constexpr frame_bound<frame_bound_kind::preceding, N> preceding{};
/// `CURRENT ROW`: the current row (ROWS), or its first / last peer (RANGE, GROUPS).
inline constexpr frame_bound<frame_bound_kind::current_row> current_row{};
/// `n FOLLOWING`: n rows (ROWS), n peer groups (GROUPS) or n more in the ORDER BY value (RANGE)
/// after the current row.
template <std::uint32_t N>
inline constexpr frame_bound<frame_bound_kind::following, N> following{};
/// `UNBOUNDED FOLLOWING`: the frame ends at the partition's last row.
inline constexpr frame_bound<frame_bound_kind::unbounded_following> unbounded_following{};

/// How a frame's offsets count: ROWS counts rows, GROUPS counts peer groups (rows with equal
/// ORDER BY values), RANGE compares the ORDER BY value.
enum class frame_mode { rows, range, groups };

namespace detail {

/// The EXCLUDE clause of a frame: none written, or the rows it leaves out though they lie
/// between the frame's bounds.
enum class frame_exclusion { unspecified, no_others, current_row, group, ties };

/// The C++ type a run-time frame offset is sent as: integers as bigint, floating point as
/// double precision, std::chrono durations and pgorm::interval as interval, pgorm::numeric as
/// is; void for anything else.
template <class T>
constexpr auto frame_offset_type() {
  using U = std::remove_cvref_t<T>;
  if constexpr (std::is_integral_v<U> && !std::is_same_v<U, bool> && !std::is_same_v<U, char>) {
    return std::type_identity<std::int64_t>{};
  } else if constexpr (std::is_floating_point_v<U>) {
    return std::type_identity<double>{};
  } else if constexpr (std::is_same_v<U, interval> ||
                       (is_duration<U>::value &&
                        std::is_convertible_v<U, std::chrono::microseconds>)) {
    return std::type_identity<interval>{};
  } else if constexpr (std::is_same_v<U, numeric>) {
    return std::type_identity<numeric>{};
  } else {
    return std::type_identity<void>{};
  }
}
template <class T>
using frame_offset_t = typename decltype(frame_offset_type<T>())::type;

template <frame_bound_kind Kind, class T>
auto runtime_bound(T&& offset) {
  using U = frame_offset_t<T>;
  static_assert(!std::is_void_v<U>,
                "pgorm: a run-time frame offset is a number (rows or groups to count, or a "
                "distance in a numeric ORDER BY value), or a std::chrono duration or "
                "pgorm::interval (for a date or timestamp ORDER BY value); it cannot be NULL");
  if constexpr (!std::is_void_v<U>) {
    using source = std::remove_cvref_t<T>;
    if constexpr (is_duration<source>::value) {
      return runtime_frame_bound<Kind, U>{
          {{}, interval{0, 0, std::chrono::microseconds(std::forward<T>(offset))}}};
    } else {
      return runtime_frame_bound<Kind, U>{{{}, static_cast<U>(std::forward<T>(offset))}};
    }
  }
}

}  // namespace detail

/// `$n PRECEDING`, the offset sent as a parameter: n rows (ROWS), n peer groups (GROUPS), or a
/// distance in the ORDER BY value (RANGE: a number, or a std::chrono duration /
/// pgorm::interval for dates and timestamps). A negative offset is the server's error
/// (pgorm::sql_error, SQLSTATE 22013).
///
/// Example: `w.rows_between(pgorm::preceding_by(n), pgorm::current_row)`
template <class T>
auto preceding_by(T&& offset) {
  return detail::runtime_bound<frame_bound_kind::preceding>(std::forward<T>(offset));
}
/// `$n FOLLOWING`, the offset sent as a parameter; as pgorm::preceding_by().
///
/// Example: `w.range_between(pgorm::current_row, pgorm::following_by(std::chrono::hours{1}))`
template <class T>
auto following_by(T&& offset) {
  return detail::runtime_bound<frame_bound_kind::following>(std::forward<T>(offset));
}

namespace detail {

/// No frame clause: SQL's default frame (RANGE BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
/// with an ORDER BY, the whole partition without). It always holds the current row.
struct no_frame {
  static constexpr bool present = false;
  static constexpr bool may_be_empty = false;
  void bind(param_list& /*sink*/) const {}
};

/// Whether a bound is an offset (`n PRECEDING`, `n FOLLOWING`, compile-time or run-time).
template <class B>
inline constexpr bool is_offset_bound_v =
    B::kind == frame_bound_kind::preceding || B::kind == frame_bound_kind::following;

template <frame_mode Mode, class Start, class End, frame_exclusion Exclude>
struct window_frame {
  static constexpr bool present = true;
  static constexpr frame_mode mode = Mode;
  static constexpr frame_exclusion exclusion = Exclude;
  static constexpr bool has_offset = is_offset_bound_v<Start> || is_offset_bound_v<End>;
  static constexpr bool has_runtime_offset = Start::is_runtime || End::is_runtime;
  /// Whether the frame can hold no row: when it may not reach the current row (it lies wholly
  /// before or after it), or when EXCLUDE CURRENT ROW / GROUP can take the only rows it has.
  static constexpr bool may_be_empty =
      Start::kind > frame_bound_kind::current_row || End::kind < frame_bound_kind::current_row ||
      Exclude == detail::frame_exclusion::current_row || Exclude == detail::frame_exclusion::group;

  using start_type = Start;
  using end_type = End;

  Start start;
  End end;

  template <class W>
  static constexpr void render(W& w) {
    if constexpr (Mode == frame_mode::rows) {
      w.append("ROWS BETWEEN ");
    } else if constexpr (Mode == frame_mode::range) {
      w.append("RANGE BETWEEN ");
    } else {
      w.append("GROUPS BETWEEN ");
    }
    Start::render(w);
    w.append(" AND ");
    End::render(w);
    if constexpr (Exclude == detail::frame_exclusion::current_row) {
      w.append(" EXCLUDE CURRENT ROW");
    } else if constexpr (Exclude == detail::frame_exclusion::group) {
      w.append(" EXCLUDE GROUP");
    } else if constexpr (Exclude == detail::frame_exclusion::ties) {
      w.append(" EXCLUDE TIES");
    } else if constexpr (Exclude == frame_exclusion::no_others) {
      w.append(" EXCLUDE NO OTHERS");
    }
  }
  void bind(param_list& sink) const {
    start.bind(sink);
    end.bind(sink);
  }
};

template <class Start, class End>
constexpr void check_frame_bounds() {
  static_assert(
      requires { Start::is_pgorm_frame_bound; } && requires { End::is_pgorm_frame_bound; },
      "pgorm: rows_between(), range_between() and groups_between() take frame bounds: "
      "pgorm::unbounded_preceding, pgorm::preceding<n>, pgorm::preceding_by(n), "
      "pgorm::current_row, pgorm::following<n>, pgorm::following_by(n), "
      "pgorm::unbounded_following");
  if constexpr (
      requires { Start::is_pgorm_frame_bound; } && requires { End::is_pgorm_frame_bound; }) {
    static_assert(Start::kind != frame_bound_kind::unbounded_following,
                  "pgorm: a window frame cannot start at unbounded_following");
    static_assert(End::kind != frame_bound_kind::unbounded_preceding,
                  "pgorm: a window frame cannot end at unbounded_preceding");
    static_assert(Start::kind <= End::kind,
                  "pgorm: a window frame starts after its end (e.g. following<n> then "
                  "preceding<m>); write the earlier bound first");
    if constexpr (!Start::is_runtime && !End::is_runtime) {
      static_assert(!(Start::kind == End::kind && Start::kind == frame_bound_kind::preceding &&
                      Start::offset < End::offset) &&
                        !(Start::kind == End::kind && Start::kind == frame_bound_kind::following &&
                          Start::offset > End::offset),
                    "pgorm: a window frame starts after its end (e.g. preceding<1> then "
                    "preceding<3>: always empty); write the earlier bound first");
    }
  }
}

/// The value type of an ORDER BY item (an expression, or x.asc() / x.desc()).
template <class O>
struct order_item_value {
  using type = remove_optional_t<typename O::value_type>;
};
template <class O>
requires requires { typename O::expr_type; }
struct order_item_value<O> {
  using type = remove_optional_t<typename O::expr_type::value_type>;
};

/// What a RANGE offset measures in a window ordered by a value of type V: PostgreSQL's
/// in_range support (numbers by numbers, dates, times and timestamps by intervals).
template <class V>
inline constexpr bool range_numeric_v = is_number_v<V> || std::is_same_v<V, numeric>;
template <class V>
inline constexpr bool range_temporal_v =
    std::is_same_v<V, timestamptz> || std::is_same_v<V, timestamp> || std::is_same_v<V, date> ||
    std::is_same_v<V, time_of_day> || std::is_same_v<V, interval>;

/// Whether a bound's offset suits a RANGE frame over an ORDER BY value of type V.
template <class B, class V>
constexpr bool range_offset_fits() {
  if constexpr (!is_offset_bound_v<B>) {
    return true;
  } else if constexpr (!B::is_runtime) {
    return range_numeric_v<V>;  // a bare integer in the SQL text
  } else {
    using O = typename B::offset_type;
    if constexpr (std::is_same_v<O, interval>) {
      return range_temporal_v<V>;
    } else if constexpr (std::is_same_v<O, std::int64_t>) {
      return range_numeric_v<V>;
    } else if constexpr (std::is_same_v<O, double>) {
      return std::is_floating_point_v<V>;
    } else {
      return std::is_same_v<V, numeric>;
    }
  }
}

/// Whether a bound counts whole rows or groups: no offset, or an integer one.
template <class B>
constexpr bool integer_offset() {
  if constexpr (B::is_runtime) {
    return std::is_same_v<typename B::offset_type, std::int64_t>;
  } else {
    return true;
  }
}

/// PostgreSQL's rules for a frame over a window's ORDER BY, checked when the window is used.
template <class Frame, class Order>
constexpr void check_frame_order() {
  if constexpr (Frame::present) {
    constexpr std::size_t order_size = std::tuple_size_v<Order>;
    if constexpr (Frame::mode == frame_mode::groups) {
      static_assert(order_size > 0,
                    "pgorm: groups_between() needs a window with order_by(): peer groups are "
                    "rows with equal ORDER BY values");
    } else if constexpr (Frame::mode == frame_mode::range && Frame::has_offset) {
      static_assert(order_size == 1,
                    "pgorm: range_between() with preceding<n> or following<n> needs a window "
                    "ordered by exactly one column");
      if constexpr (order_size == 1) {
        using V = typename order_item_value<std::tuple_element_t<0, Order>>::type;
        static_assert(
            range_offset_fits<typename Frame::start_type, V>() &&
                range_offset_fits<typename Frame::end_type, V>(),
            "pgorm: a range_between() offset must measure the ORDER BY value: a number for a "
            "numeric column (an integer for an integer column), a std::chrono duration or "
            "pgorm::interval (preceding_by / following_by) for a date, time or timestamp "
            "column");
      }
    }
    if constexpr (Frame::mode != frame_mode::range) {
      static_assert(integer_offset<typename Frame::start_type>() &&
                        integer_offset<typename Frame::end_type>(),
                    "pgorm: the offset of rows_between() and groups_between() counts rows or "
                    "peer groups: pass an integer to preceding_by() / following_by()");
    }
  }
}

}  // namespace detail

/// A window: `PARTITION BY ... ORDER BY ... [frame]`, each part optional. Made by
/// pgorm::window().
template <class Partition = std::tuple<>, class Order = std::tuple<>,
          class Frame = detail::no_frame>
struct window_spec : detail::renders_from<window_spec<Partition, Order, Frame>> {
  using tables = detail::list_union_t<typename detail::clause_list<Partition>::tables,
                                      typename detail::clause_list<Order>::tables>;
  static constexpr bool is_static =
      detail::clause_list<Partition>::is_static && detail::clause_list<Order>::is_static;
  static constexpr bool may_write =
      detail::clause_list<Partition>::may_write || detail::clause_list<Order>::may_write;
  static constexpr bool is_pgorm_window = true;
  /// Whether the window's frame can hold no row for some row (then first_value() and
  /// last_value() over it read NULL, as std::optional).
  static constexpr bool frame_may_be_empty = Frame::may_be_empty;

  Partition partition;
  Order order;
  Frame frame;

  /// `PARTITION BY e, ...`: the rows are numbered, ranked or summed within each group of equal
  /// values.
  template <class... E>
  constexpr auto partition_by(const E&... e) const {
    static_assert(sizeof...(E) > 0 && (expression<E> && ...),
                  "pgorm: partition_by() takes columns or expressions, e.g. "
                  "pgorm::col<&Session::user_id>");
    static_assert(std::tuple_size_v<Partition> == 0,
                  "pgorm: partition_by() was already called; list every expression in one call");
    return window_spec<std::tuple<E...>, Order, Frame>{{}, {e...}, order, frame};
  }
  /// `ORDER BY ...`: columns or expressions (ascending), or x.asc() / x.desc().
  template <class... O>
  constexpr auto order_by(const O&... o) const {
    static_assert(sizeof...(O) > 0 && ((expression<O> || order_item<O>)&&...),
                  "pgorm: a window's order_by() takes columns or expressions, or x.asc() / "
                  "x.desc()");
    static_assert(std::tuple_size_v<Order> == 0,
                  "pgorm: a window's order_by() was already called; list every column in one "
                  "call");
    return window_spec<Partition, std::tuple<O...>, Frame>{{}, partition, {o...}, frame};
  }
  /// `ROWS BETWEEN start AND end`: the frame an aggregate, first_value, last_value or
  /// nth_value sees, counted in rows around the current one, e.g.
  /// `.rows_between(pgorm::preceding<2>, pgorm::current_row)` for the last three rows.
  template <class Start, class End>
  constexpr auto rows_between(Start start, End end) const {
    return with_frame<frame_mode::rows>(start, end);
  }
  /// `RANGE BETWEEN start AND end`: as rows_between(), with offsets measured in the value of
  /// the window's single ORDER BY column (a number, or an interval for dates and timestamps;
  /// peers, rows with equal values, are always together), e.g.
  /// `.range_between(pgorm::preceding<10>, pgorm::current_row)`.
  template <class Start, class End>
  constexpr auto range_between(Start start, End end) const {
    return with_frame<frame_mode::range>(start, end);
  }
  /// `GROUPS BETWEEN start AND end`: as rows_between(), with offsets counted in peer groups
  /// (rows with equal ORDER BY values) around the current row's group; the window needs an
  /// order_by(). E.g. `.groups_between(pgorm::preceding<1>, pgorm::current_row)`: this value
  /// and the one before it, with all their rows.
  template <class Start, class End>
  constexpr auto groups_between(Start start, End end) const {
    return with_frame<frame_mode::groups>(start, end);
  }

  /// `EXCLUDE CURRENT ROW`: the frame leaves out the current row.
  constexpr auto exclude_current_row() const {
    return excluding<detail::frame_exclusion::current_row>();
  }
  /// `EXCLUDE GROUP`: the frame leaves out the current row and its peers.
  constexpr auto exclude_group() const { return excluding<detail::frame_exclusion::group>(); }
  /// `EXCLUDE TIES`: the frame leaves out the current row's peers, but not the row itself.
  constexpr auto exclude_ties() const { return excluding<detail::frame_exclusion::ties>(); }
  /// `EXCLUDE NO OTHERS`: the frame leaves out nothing (SQL's default, written out).
  constexpr auto exclude_no_others() const {
    return excluding<detail::frame_exclusion::no_others>();
  }

  template <class W, class S>
  static constexpr void render_from(W& w, const S& self) {
    detail::check_frame_order<Frame, Order>();
    if constexpr (std::tuple_size_v < Partition >> 0) {
      w.append("PARTITION BY ");
      detail::render_comma_list(w, detail::part(self, &window_spec::partition));
    }
    if constexpr (std::tuple_size_v < Order >> 0) {
      if constexpr (std::tuple_size_v < Partition >> 0) w.append(' ');
      w.append("ORDER BY ");
      detail::render_comma_list(w, detail::part(self, &window_spec::order));
    }
    if constexpr (Frame::present) {
      if constexpr (std::tuple_size_v < Partition >> 0 || std::tuple_size_v < Order >> 0) {
        w.append(' ');
      }
      Frame::render(w);
    }
  }
  void bind(detail::param_list& sink) const {
    detail::bind_each(sink, partition);
    detail::bind_each(sink, order);
    frame.bind(sink);
  }

 private:
  template <frame_mode Mode, class Start, class End>
  constexpr auto with_frame(const Start& start, const End& end) const {
    detail::check_frame_bounds<Start, End>();
    static_assert(!Frame::present,
                  "pgorm: the window frame was already set; call rows_between(), "
                  "range_between() or groups_between() once");
    using frame_t = detail::window_frame<Mode, Start, End, detail::frame_exclusion::unspecified>;
    return window_spec<Partition, Order, frame_t>{{}, partition, order, frame_t{start, end}};
  }
  template <detail::frame_exclusion Exclude>
  constexpr auto excluding() const {
    static_assert(Frame::present,
                  "pgorm: exclude_current_row(), exclude_group(), exclude_ties() and "
                  "exclude_no_others() apply to a frame: call rows_between(), range_between() "
                  "or groups_between() first");
    if constexpr (Frame::present) {
      static_assert(Frame::exclusion == detail::frame_exclusion::unspecified,
                    "pgorm: the frame's EXCLUDE clause was already set; call one exclude_...() "
                    "once");
      using frame_t = detail::window_frame<Frame::mode, typename Frame::start_type,
                                           typename Frame::end_type, Exclude>;
      return window_spec<Partition, Order, frame_t>{
          {}, partition, order, frame_t{frame.start, frame.end}};
    }
  }
};

/// An empty window (`OVER ()`: every row of the result); add partition_by() and order_by().
constexpr window_spec<> window() { return {}; }

namespace detail {

/// Whether window S's frame can be empty (false for what is not a window: over() reports it).
template <class S>
constexpr bool frame_may_be_empty() {
  if constexpr (requires { S::frame_may_be_empty; }) {
    return S::frame_may_be_empty;
  } else {
    return false;
  }
}

/// first_value() and last_value(): a row of the frame, so NULL when the frame is empty.
template <class F>
struct is_frame_value_call : std::false_type {};
template <class Value, class E>
struct is_frame_value_call<function_expr<"first_value", Value, detail::call_kind::reads, E>>
    : std::true_type {};
template <class Value, class E>
struct is_frame_value_call<function_expr<"last_value", Value, detail::call_kind::reads, E>>
    : std::true_type {};

}  // namespace detail

/// `f OVER (window)`: a window function or an aggregate computed over the rows of a window,
/// one value per row (the rows are not grouped).
template <class F, class Spec>
struct over_expr : expr_base<over_expr<F, Spec>> {
  /// F's type; first_value() and last_value() over a frame that can be empty read NULL, so
  /// theirs is then std::optional.
  using value_type =
      detail::maybe_optional_t<typename F::value_type, detail::is_frame_value_call<F>::value &&
                                                           detail::frame_may_be_empty<Spec>()>;
  using tables = detail::list_union_t<typename F::tables, typename Spec::tables>;
  static constexpr bool is_pgorm_expression = true;
  static constexpr bool is_static = F::is_static && Spec::is_static;
  // Not an aggregate of the query: a window keeps every row.
  static constexpr bool is_aggregate = false;
  static constexpr bool may_write = F::may_write || Spec::may_write;
  static constexpr bool has_bare_column = F::has_bare_column;
  static constexpr int precedence = detail::prec_primary;

  F call;
  Spec spec;

  template <class W, class S>
  static constexpr void render_from(W& w, const S& self) {
    detail::render_expr(w, detail::part(self, &over_expr::call));
    w.append(" OVER (");
    detail::render_expr(w, detail::part(self, &over_expr::spec));
    w.append(')');
  }
  void bind(detail::param_list& sink) const {
    call.bind(sink);
    spec.bind(sink);
  }
};

namespace detail {

template <class F>
struct is_aggregate_call : std::false_type {};
template <fixed_string Name, class Value, class... Args>
struct is_aggregate_call<function_expr<Name, Value, detail::call_kind::aggregate, Args...>>
    : std::true_type {};
template <>
struct is_aggregate_call<count_star_expr> : std::true_type {};

template <class S>
constexpr void check_window() {
  static_assert(
      requires { S::is_pgorm_window; },
      "pgorm: over() takes a window: pgorm::window().partition_by(...).order_by(...)");
}

}  // namespace detail

/// A window function call (row_number(), rank(), lag(e), ...): not an expression until it is
/// given a window with .over(w); SQL has no window function without OVER.
template <class F>
struct window_call {
  F call;

  /// `f OVER (w)`; over() with no window is `OVER ()`.
  template <class S = window_spec<>>
  constexpr auto over(const S& w = {}) const {
    detail::check_window<S>();
    return over_expr<F, S>{{}, call, w};
  }
};

/// `agg OVER (w)`: an aggregate (sum, count, avg, min, max, pgorm::aggregate<...>) over a
/// window instead of over a GROUP BY group, e.g. a running total.
///
/// Example: `pgorm::over(pgorm::sum(col<&Account::balance>),
/// pgorm::window().order_by(col<&Account::id>))`
template <class F, class S = window_spec<>>
constexpr auto over(const F& aggregate, const S& w = {}) {
  static_assert(detail::is_aggregate_call<F>::value,
                "pgorm: over() takes an aggregate call such as pgorm::sum(e) or pgorm::count(); "
                "window functions take .over(w): pgorm::row_number().over(w)");
  detail::check_window<S>();
  return over_expr<F, S>{{}, aggregate, w};
}

/// `row_number()`: 1, 2, 3, ... within the window's partition, in its order.
constexpr auto row_number() {
  return window_call<function_expr<"row_number", std::int64_t, detail::call_kind::reads>>{};
}
/// `rank()`: rank with gaps (1, 1, 3) in the window's order.
constexpr auto rank() {
  return window_call<function_expr<"rank", std::int64_t, detail::call_kind::reads>>{};
}
/// `dense_rank()`: rank without gaps (1, 1, 2).
constexpr auto dense_rank() {
  return window_call<function_expr<"dense_rank", std::int64_t, detail::call_kind::reads>>{};
}
/// `percent_rank()`: (rank - 1) / (rows - 1), from 0 to 1.
constexpr auto percent_rank() {
  return window_call<function_expr<"percent_rank", double, detail::call_kind::reads>>{};
}
/// `cume_dist()`: the fraction of rows before or peer with this one.
constexpr auto cume_dist() {
  return window_call<function_expr<"cume_dist", double, detail::call_kind::reads>>{};
}
/// `ntile(n)`: the bucket, 1 to n, that splits the partition as evenly as possible.
inline auto ntile(std::int32_t buckets) {
  using arg = value_expr<std::int32_t>;
  return window_call<function_expr<"ntile", std::int32_t, detail::call_kind::reads, arg>>{
      {{}, {arg{{}, buckets}}}};
}

namespace detail {

template <fixed_string Name, class E>
constexpr auto offset_call(const E& e, std::int32_t offset) {
  static_assert(expression<E>, "pgorm: lag() and lead() take a column or an expression");
  using out = std::optional<remove_optional_t<typename E::value_type>>;
  using off = value_expr<std::int32_t>;
  return window_call<function_expr<Name, out, detail::call_kind::reads, E, off>>{
      {{}, {e, off{{}, offset}}}};
}

template <fixed_string Name, class E, class F>
constexpr auto offset_call(const E& e, std::int32_t offset, F&& fallback) {
  static_assert(expression<E>, "pgorm: lag() and lead() take a column or an expression");
  using value = typename E::value_type;
  static_assert(comparable_v<value, operand_value_t<F>>,
                "pgorm: the fallback of lag() and lead() must have the expression's type");
  auto d = as_expr<value>(std::forward<F>(fallback));
  using D = decltype(d);
  using out =
      maybe_optional_t<remove_optional_t<value>,
                       is_optional<value>::value || is_optional<typename D::value_type>::value>;
  using off = value_expr<std::int32_t>;
  return window_call<function_expr<Name, out, detail::call_kind::reads, E, off, D>>{
      {{}, {e, off{{}, offset}, std::move(d)}}};
}

}  // namespace detail

/// `lag(e, offset)`: e's value `offset` rows before this one in the window (NULL before the
/// first row).
template <class E>
constexpr auto lag(const E& e, std::int32_t offset = 1) {
  return detail::offset_call<"lag">(e, offset);
}
/// `lag(e, offset, fallback)`: as lag(e, offset), with a fallback of e's type instead of NULL.
template <class E, class F>
constexpr auto lag(const E& e, std::int32_t offset, F&& fallback) {
  return detail::offset_call<"lag">(e, offset, std::forward<F>(fallback));
}
/// `lead(e, offset)`: e's value `offset` rows after this one (NULL after the last row).
template <class E>
constexpr auto lead(const E& e, std::int32_t offset = 1) {
  return detail::offset_call<"lead">(e, offset);
}
/// `lead(e, offset, fallback)`: as lead(e, offset), with a fallback instead of NULL.
template <class E, class F>
constexpr auto lead(const E& e, std::int32_t offset, F&& fallback) {
  return detail::offset_call<"lead">(e, offset, std::forward<F>(fallback));
}
/// `first_value(e)`: e at the first row of the window frame; `std::optional` when the frame
/// can be empty (it may lie wholly before or after the current row, or exclude it), e's type
/// otherwise.
template <expression E>
constexpr auto first_value(const E& e) {
  return window_call<
      function_expr<"first_value", typename E::value_type, detail::call_kind::reads, E>>{{{}, {e}}};
}
/// `last_value(e)`: e at the last row of the window frame (with an ORDER BY, the frame ends at
/// the current row's last peer); `std::optional` when the frame can be empty, as first_value().
template <expression E>
constexpr auto last_value(const E& e) {
  return window_call<
      function_expr<"last_value", typename E::value_type, detail::call_kind::reads, E>>{{{}, {e}}};
}
/// `nth_value(e, n)`: e at the n-th row (from 1) of the frame; NULL when the frame is shorter.
template <expression E>
constexpr auto nth_value(const E& e, std::int32_t n) {
  using out = std::optional<detail::remove_optional_t<typename E::value_type>>;
  using arg = value_expr<std::int32_t>;
  return window_call<function_expr<"nth_value", out, detail::call_kind::reads, E, arg>>{
      {{}, {e, arg{{}, n}}}};
}

}  // namespace pgorm
