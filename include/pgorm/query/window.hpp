// SPDX-License-Identifier: MIT
#pragma once

/// \file
/// Window functions: `pgorm::row_number().over(pgorm::window().partition_by(...).order_by(...))`,
/// rank, dense_rank, percent_rank, cume_dist, ntile, lag, lead, first_value, last_value,
/// nth_value, and any aggregate over a window with `pgorm::over(pgorm::sum(e), w)`. A window
/// may end with a frame: `.rows_between(pgorm::preceding<2>, pgorm::current_row)` or
/// `.range_between(...)`. Usable in select lists and ORDER BY. See docs/queries.md, "Window
/// functions".
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
/// The offset n is a compile-time constant: it is written into the SQL text, so the statement
/// stays static (one prepared statement) and a start after the end fails to compile.
template <frame_bound_kind Kind, std::uint32_t N = 0>
struct frame_bound {
  static constexpr bool is_pgorm_frame_bound = true;
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
};

/// `UNBOUNDED PRECEDING`: the frame starts at the partition's first row.
inline constexpr frame_bound<frame_bound_kind::unbounded_preceding> unbounded_preceding{};
/// `n PRECEDING`: n rows (ROWS) or n less in the ORDER BY value (RANGE) before the current row.
template <std::uint32_t N>
inline constexpr frame_bound<frame_bound_kind::preceding, N> preceding{};
/// `CURRENT ROW`: the current row (ROWS), or its first / last peer (RANGE).
inline constexpr frame_bound<frame_bound_kind::current_row> current_row{};
/// `n FOLLOWING`: n rows (ROWS) or n more in the ORDER BY value (RANGE) after the current row.
template <std::uint32_t N>
inline constexpr frame_bound<frame_bound_kind::following, N> following{};
/// `UNBOUNDED FOLLOWING`: the frame ends at the partition's last row.
inline constexpr frame_bound<frame_bound_kind::unbounded_following> unbounded_following{};

/// How a frame's offsets count: ROWS counts rows, RANGE compares the ORDER BY value.
enum class frame_mode { rows, range };

namespace detail {

/// No frame clause: SQL's default frame (RANGE BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
/// with an ORDER BY, the whole partition without).
struct no_frame {
  static constexpr bool present = false;
};

template <frame_mode Mode, class Start, class End>
struct window_frame {
  static constexpr bool present = true;
  static constexpr frame_mode mode = Mode;
  static constexpr bool has_offset =
      Start::kind == frame_bound_kind::preceding || Start::kind == frame_bound_kind::following ||
      End::kind == frame_bound_kind::preceding || End::kind == frame_bound_kind::following;

  template <class W>
  static constexpr void render(W& w) {
    w.append(Mode == frame_mode::rows ? "ROWS BETWEEN " : "RANGE BETWEEN ");
    Start::render(w);
    w.append(" AND ");
    End::render(w);
  }
};

template <class Start, class End>
constexpr void check_frame_bounds() {
  static_assert(
      requires { Start::is_pgorm_frame_bound; } && requires { End::is_pgorm_frame_bound; },
      "pgorm: rows_between() and range_between() take frame bounds: pgorm::unbounded_preceding, "
      "pgorm::preceding<n>, pgorm::current_row, pgorm::following<n>, "
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
    static_assert(!(Start::kind == End::kind && Start::kind == frame_bound_kind::preceding &&
                    Start::offset < End::offset) &&
                      !(Start::kind == End::kind && Start::kind == frame_bound_kind::following &&
                        Start::offset > End::offset),
                  "pgorm: a window frame starts after its end (e.g. preceding<1> then "
                  "preceding<3>: always empty); write the earlier bound first");
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
  static constexpr bool is_pgorm_window = true;

  Partition partition;
  Order order;

  /// `PARTITION BY e, ...`: the rows are numbered, ranked or summed within each group of equal
  /// values.
  template <class... E>
  constexpr auto partition_by(const E&... e) const {
    static_assert(sizeof...(E) > 0 && (expression<E> && ...),
                  "pgorm: partition_by() takes columns or expressions, e.g. "
                  "pgorm::col<&Session::user_id>");
    static_assert(std::tuple_size_v<Partition> == 0,
                  "pgorm: partition_by() was already called; list every expression in one call");
    return window_spec<std::tuple<E...>, Order, Frame>{{}, {e...}, order};
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
    return window_spec<Partition, std::tuple<O...>, Frame>{{}, partition, {o...}};
  }
  /// `ROWS BETWEEN start AND end`: the frame an aggregate, first_value, last_value or
  /// nth_value sees, counted in rows around the current one, e.g.
  /// `.rows_between(pgorm::preceding<2>, pgorm::current_row)` for the last three rows.
  template <class Start, class End>
  constexpr auto rows_between(Start /*start*/, End /*end*/) const {
    detail::check_frame_bounds<Start, End>();
    static_assert(!Frame::present,
                  "pgorm: the window frame was already set; call rows_between() or "
                  "range_between() once");
    return window_spec<Partition, Order, detail::window_frame<frame_mode::rows, Start, End>>{
        {}, partition, order};
  }
  /// `RANGE BETWEEN start AND end`: as rows_between(), with offsets measured in the value of
  /// the window's single numeric ORDER BY column (peers, rows with equal values, are always
  /// together), e.g. `.range_between(pgorm::preceding<10>, pgorm::current_row)`.
  template <class Start, class End>
  constexpr auto range_between(Start /*start*/, End /*end*/) const {
    detail::check_frame_bounds<Start, End>();
    static_assert(!Frame::present,
                  "pgorm: the window frame was already set; call rows_between() or "
                  "range_between() once");
    return window_spec<Partition, Order, detail::window_frame<frame_mode::range, Start, End>>{
        {}, partition, order};
  }

  template <class W, class S>
  static constexpr void render_from(W& w, const S& self) {
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
      static_assert(
          Frame::mode != frame_mode::range || !Frame::has_offset || std::tuple_size_v<Order> == 1,
          "pgorm: range_between() with preceding<n> or following<n> needs a window "
          "ordered by exactly one column");
      if constexpr (std::tuple_size_v < Partition >> 0 || std::tuple_size_v < Order >> 0) {
        w.append(' ');
      }
      Frame::render(w);
    }
  }
  void bind(detail::param_list& sink) const {
    detail::bind_each(sink, partition);
    detail::bind_each(sink, order);
  }
};

/// An empty window (`OVER ()`: every row of the result); add partition_by() and order_by().
constexpr window_spec<> window() { return {}; }

/// `f OVER (window)`: a window function or an aggregate computed over the rows of a window,
/// one value per row (the rows are not grouped).
template <class F, class Spec>
struct over_expr : expr_base<over_expr<F, Spec>> {
  using value_type = typename F::value_type;
  using tables = detail::list_union_t<typename F::tables, typename Spec::tables>;
  static constexpr bool is_pgorm_expression = true;
  static constexpr bool is_static = F::is_static && Spec::is_static;
  // Not an aggregate of the query: a window keeps every row.
  static constexpr bool is_aggregate = false;
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
struct is_aggregate_call<function_expr<Name, Value, true, Args...>> : std::true_type {};
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
  return window_call<function_expr<"row_number", std::int64_t, false>>{};
}
/// `rank()`: rank with gaps (1, 1, 3) in the window's order.
constexpr auto rank() { return window_call<function_expr<"rank", std::int64_t, false>>{}; }
/// `dense_rank()`: rank without gaps (1, 1, 2).
constexpr auto dense_rank() {
  return window_call<function_expr<"dense_rank", std::int64_t, false>>{};
}
/// `percent_rank()`: (rank - 1) / (rows - 1), from 0 to 1.
constexpr auto percent_rank() {
  return window_call<function_expr<"percent_rank", double, false>>{};
}
/// `cume_dist()`: the fraction of rows before or peer with this one.
constexpr auto cume_dist() { return window_call<function_expr<"cume_dist", double, false>>{}; }
/// `ntile(n)`: the bucket, 1 to n, that splits the partition as evenly as possible.
inline auto ntile(std::int32_t buckets) {
  using arg = value_expr<std::int32_t>;
  return window_call<function_expr<"ntile", std::int32_t, false, arg>>{{{}, {arg{{}, buckets}}}};
}

namespace detail {

template <fixed_string Name, class E>
constexpr auto offset_call(const E& e, std::int32_t offset) {
  static_assert(expression<E>, "pgorm: lag() and lead() take a column or an expression");
  using out = std::optional<remove_optional_t<typename E::value_type>>;
  using off = value_expr<std::int32_t>;
  return window_call<function_expr<Name, out, false, E, off>>{{{}, {e, off{{}, offset}}}};
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
  return window_call<function_expr<Name, out, false, E, off, D>>{
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
/// `first_value(e)`: e at the first row of the window frame.
template <expression E>
constexpr auto first_value(const E& e) {
  return window_call<function_expr<"first_value", typename E::value_type, false, E>>{{{}, {e}}};
}
/// `last_value(e)`: e at the last row of the window frame (with an ORDER BY, the frame ends at
/// the current row's last peer).
template <expression E>
constexpr auto last_value(const E& e) {
  return window_call<function_expr<"last_value", typename E::value_type, false, E>>{{{}, {e}}};
}
/// `nth_value(e, n)`: e at the n-th row (from 1) of the frame; NULL when the frame is shorter.
template <expression E>
constexpr auto nth_value(const E& e, std::int32_t n) {
  using out = std::optional<detail::remove_optional_t<typename E::value_type>>;
  using arg = value_expr<std::int32_t>;
  return window_call<function_expr<"nth_value", out, false, E, arg>>{{{}, {e, arg{{}, n}}}};
}

}  // namespace pgorm
