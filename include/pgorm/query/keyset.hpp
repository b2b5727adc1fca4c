// SPDX-License-Identifier: MIT
#pragma once

/// \file
/// Keyset pagination of a select (docs/queries.md, "Keyset pagination"): the total order a page
/// walks (the order_by() terms, then the primary key columns they do not already name), the
/// cursor type, and the keyset condition of after() / before() / after_key() / before_key():
/// "the rows past the cursor in that order", for any mix of asc/desc and nullable columns.
///
/// Why the primary key is appended rather than demanded: `order_by(col<&Session::created_at>
/// .desc())`, the direct translation of Prisma's `orderBy: { createdAt: 'desc' }`, then pages
/// correctly as written, and the appended columns are visible in the SQL and in the cursor type.

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <tuple>
#include <type_traits>
#include <utility>

#include <boost/hana/at.hpp>

#include "pgorm/detail/fixed_string.hpp"
#include "pgorm/detail/sql_names.hpp"
#include "pgorm/expr.hpp"
#include "pgorm/params.hpp"
#include "pgorm/query/clauses.hpp"
#include "pgorm/reflect.hpp"
#include "pgorm/table.hpp"

namespace pgorm {
template <class T, class... Children>
struct related;  // a row with its included relations: pgorm/query/include.hpp
}  // namespace pgorm

namespace pgorm::detail {

/// The struct a row's cursor is read from: the row itself, or the parent row of a row with
/// included relations (pgorm::related), so that a select with include() pages like the same
/// select without.
template <class Row>
struct cursor_row {
  using type = Row;
  static const Row& of(const Row& row) noexcept { return row; }
};
template <class T, class... C>
struct cursor_row<related<T, C...>> {
  using type = T;
  static const T& of(const related<T, C...>& row) noexcept { return row.row; }
};
template <class Row>
using cursor_row_t = typename cursor_row<Row>::type;

constexpr sort_direction flipped(sort_direction d) {
  return d == sort_direction::asc ? sort_direction::desc : sort_direction::asc;
}
constexpr nulls_order flipped(nulls_order n) {
  if (n == nulls_order::first) return nulls_order::last;
  if (n == nulls_order::last) return nulls_order::first;
  return nulls_order::unspecified;
}

/// What keyset pagination needs to know of one order_by() term.
template <class Term>
struct keyset_term;
template <class E, sort_direction Dir, nulls_order Nulls>
struct keyset_term<order_term<E, Dir, Nulls>> {
  /// A plain column (the cursor reads its value from each row).
  static constexpr bool is_column = requires { E::member; };
  static constexpr bool desc = Dir == sort_direction::desc;
  static constexpr bool nullable = is_optional<typename E::value_type>::value;
  /// Where PostgreSQL puts NULLs for this term: NULLS FIRST, or by default first only when
  /// descending (NULL sorts as larger than every value).
  static constexpr bool nulls_first =
      Nulls == nulls_order::first || (Nulls == nulls_order::unspecified && desc);
  /// The same term in the opposite order (NULLs move to the other end too).
  using reversed = order_term<E, flipped(Dir), flipped(Nulls)>;
};

/// The order_by() terms in the opposite order: what a backward page fetches in.
template <class... O>
std::tuple<typename keyset_term<O>::reversed...> reversed_order(const std::tuple<O...>& terms) {
  return std::apply(
      [](const O&... t) {
        return std::tuple<typename keyset_term<O>::reversed...>{
            typename keyset_term<O>::reversed{{}, t.e}...};
      },
      terms);
}
template <class Order>
using reversed_order_t = decltype(reversed_order(std::declval<const Order&>()));

/// The cursor of a total order: one value per term (std::optional for a nullable column).
template <class Order>
struct cursor_of_order;
template <class... O>
struct cursor_of_order<std::tuple<O...>> {
  using type = std::tuple<typename O::expr_type::value_type...>;
};

/// Whether order term `Term` is the column `M`.
template <auto M, class Term>
consteval bool names_member() {
  using E = typename Term::expr_type;
  if constexpr (requires { E::member; }) {
    if constexpr (std::is_same_v<std::remove_cv_t<decltype(E::member)>,
                                 std::remove_cv_t<decltype(M)>>) {
      return E::member == M;
    } else {
      return false;
    }
  } else {
    return false;
  }
}

/// The direction of the last term (ascending when there is none).
template <class... O>
consteval sort_direction last_direction() {
  sort_direction d = sort_direction::asc;
  ((d = O::direction), ...);
  return d;
}

/// The total order a page walks: `Order` (the order_by() terms), then each primary key column
/// of the FROM table that `Order` does not name, in the direction of the last term. Without a
/// FROM table (select(cols...) before from<T>()) the order stays as written.
template <class From, class Order>
struct keyset_order {
  using type = Order;
  static constexpr bool has_primary_key = false;
  static Order extend(const Order& o) { return o; }
};
template <class T, fixed_string Alias, class... O>
struct keyset_order<table_ref<T, Alias>, std::tuple<O...>> {
  static constexpr std::size_t key_size = table<T>::primary_key.size();
  static constexpr bool has_primary_key = key_size > 0;
  static constexpr sort_direction direction = last_direction<O...>();
  template <std::size_t I>
  static constexpr auto key_member = boost::hana::at_c<I>(primary_key_members_v<T>);
  template <std::size_t I>
  using extra_term =
      std::conditional_t<(names_member<key_member<I>, O>() || ...), std::tuple<>,
                         std::tuple<order_term<column_expr<key_member<I>, Alias>, direction>>>;
  template <std::size_t... I>
  static auto extra_of(std::index_sequence<I...>)
      -> decltype(std::tuple_cat(std::declval<extra_term<I>>()...));
  using extra = decltype(extra_of(std::make_index_sequence<key_size>{}));

  using type = decltype(std::tuple_cat(std::declval<std::tuple<O...>>(), std::declval<extra>()));
  static type extend(const std::tuple<O...>& o) { return std::tuple_cat(o, extra{}); }
};

/// Whether order term `Term` reads a column of `Row` (true for an expression: reported by
/// order_of_columns_v instead).
template <class Row, class Term>
consteval bool term_of_row() {
  using E = typename Term::expr_type;
  if constexpr (requires { E::member; }) {
    return std::is_same_v<member_class_t<E::member>, Row>;
  } else {
    return true;
  }
}
template <class Row, class Order>
inline constexpr bool order_of_row_v = false;
template <class Row, class... O>
inline constexpr bool order_of_row_v<Row, std::tuple<O...>> = (term_of_row<Row, O>() && ...);
template <class Order>
inline constexpr bool order_of_columns_v = false;
template <class... O>
inline constexpr bool order_of_columns_v<std::tuple<O...>> = (keyset_term<O>::is_column && ...);

/// The rules of keyset pagination, checked where a page or a cursor is made: a `pgorm:`
/// static_assert each; true when they hold. `Row` is the select's row type (the parent row's
/// columns count for a row with included relations).
template <class Row, class From, class Order>
consteval bool keyset_checks() {
  constexpr bool ordered = std::tuple_size_v < Order >> 0;
  static_assert(
      ordered, "pgorm: keyset pagination needs order_by(): the cursor is a position in that order");
  if constexpr (!ordered) {
    return false;
  } else {
    constexpr bool columns = order_of_columns_v<Order>;
    static_assert(columns,
                  "pgorm: keyset pagination orders by columns, not computed expressions: the "
                  "cursor is read from each row");
    constexpr bool own = order_of_row_v<cursor_row_t<Row>, Order>;
    static_assert(own,
                  "pgorm: keyset pagination reads the cursor from each row: select a struct and "
                  "order by its own columns");
    constexpr bool keyed = keyset_order<From, Order>::has_primary_key;
    static_assert(!columns || !own || keyed,
                  "pgorm: keyset pagination needs a total order, ended by the table's primary "
                  "key, and this table has none; declare primary_key in table_traits<T>");
    return columns && own && keyed;
  }
}

/// The cursor of `row` in the total order `std::tuple<O...>`: the row's value of each column
/// (the parent row's, for a row with included relations).
template <class Cursor, class Row, class... O>
Cursor cursor_from_row(const Row& row, std::tuple<O...>* /*order*/) {
  const cursor_row_t<Row>& source = cursor_row<Row>::of(row);
  return Cursor(source.*O::expr_type::member...);
}

/// after(cursor) / before(cursor): the cursor's values, one parameter each.
template <class Cursor>
struct value_cursor {
  static constexpr std::size_t param_count = std::tuple_size_v<Cursor>;
  static constexpr bool by_key = false;
  Cursor values;

  template <class Terms, std::size_t I, class W>
  static constexpr void render_value(W& w, int base) {
    w.append('$');
    w.number(base + static_cast<int>(I) + 1);
  }
  void bind(param_list& p) const {
    std::apply([&](const auto&... v) { (p.add(v), ...); }, values);
  }
};

/// The primary key of T as a tuple, one element per key column, in the key's order.
template <class T, std::size_t... I>
auto primary_key_tuple(std::index_sequence<I...>)
    -> std::tuple<field_type_t<T, table<T>::primary_key[I]>...>;
template <class T>
using primary_key_tuple_t =
    decltype(primary_key_tuple<T>(std::make_index_sequence<table<T>::primary_key.size()>{}));

/// after_key(k...) / before_key(k...): the cursor is the row of T with this primary key. Each
/// cursor value is a scalar subquery on that key, so the statement reads the cursor itself (no
/// round trip first); the key values are the parameters.
template <class T>
struct key_cursor {
  static constexpr std::size_t param_count = table<T>::primary_key.size();
  static constexpr bool by_key = true;
  primary_key_tuple_t<T> key;

  template <class W>
  static constexpr void render_key_match(W& w, int base) {
    for (std::size_t i = 0; i != param_count; ++i) {
      w.append(i == 0 ? " WHERE " : " AND ");
      w.append("pgorm_cursor.");
      w.append(table<T>::columns[table<T>::primary_key[i]].sql_name);
      w.append(" = $");
      w.number(base + static_cast<int>(i) + 1);
    }
  }
  /// `EXISTS (SELECT FROM t AS pgorm_cursor WHERE pgorm_cursor.id = $n)`.
  template <class W>
  static constexpr void render_exists(W& w, int base) {
    w.append("EXISTS (SELECT FROM ");
    w.append(table_name_v<T>);
    w.append(" AS pgorm_cursor");
    render_key_match(w, base);
    w.append(')');
  }
  template <class Terms, std::size_t I, class W>
  static constexpr void render_value(W& w, int base) {
    w.append("(SELECT pgorm_cursor.");
    w.append(column_name_v<std::tuple_element_t<I, Terms>::expr_type::member>);
    w.append(" FROM ");
    w.append(table_name_v<T>);
    w.append(" AS pgorm_cursor");
    render_key_match(w, base);
    w.append(')');
  }
  void bind(param_list& p) const {
    std::apply([&](const auto&... v) { (p.add(v), ...); }, key);
  }
};

/// keyset_term's facts of each term of an order, indexable at run time (and in constexpr).
template <class Order>
struct keyset_terms;
template <class... O>
struct keyset_terms<std::tuple<O...>> {
  static constexpr std::array<bool, sizeof...(O)> nullable{keyset_term<O>::nullable...};
  static constexpr std::array<bool, sizeof...(O)> desc{keyset_term<O>::desc...};
  static constexpr std::array<bool, sizeof...(O)> nulls_first{keyset_term<O>::nulls_first...};
};

/// The keyset condition: the rows past the cursor in the order `Terms` (the total order, or
/// its reverse for before()). Consecutive NOT NULL terms of one direction form a run compared
/// as a row (`(a, b) > ($1, $2)`, which an index on (a, b) serves); the runs are chained as
/// `run1 > c1 OR (run1 = c1 AND (run2 < c2 OR ...))`, led by `run1 >= c1` so that the first
/// run still bounds an index scan. A nullable column is a run of its own, whose comparison
/// places NULL where ORDER BY does (`(b > $2 OR $2 IS NOT NULL AND b IS NULL)` when NULLs come
/// last). A clause; its tables and parameters count in ORDER BY's place of the where clause.
template <class Terms, class Source, bool Backward>
struct keyset_clause : static_clause {
  static constexpr bool backward = Backward;
  static constexpr std::size_t size = std::tuple_size_v<Terms>;
  Source source;

  template <class W>
  static constexpr void render(W& w) {
    const int base = w.params;
    constexpr std::size_t groups = group_count();
    if constexpr (Source::by_key && any_nullable()) {
      // A key that matches no row must give no rows, also where a NULL cursor value would
      // match the IS NULL branches.
      Source::render_exists(w, base);
      w.append(" AND ");
    }
    if constexpr (groups == 1 && !term_nullable(0)) {
      compare(w, base, 0, size, after_op(0));
    } else {
      if constexpr (!term_nullable(0)) {
        compare(w, base, 0, group_end(0), desc(0) ? " <= " : " >= ");
        w.append(" AND ");
      }
      w.append('(');
      int closes = 1;
      std::size_t start = 0;
      for (std::size_t g = 0; g != groups; ++g) {
        const std::size_t end = group_end(start);
        after(w, base, start, end);
        if (g + 1 == groups) break;
        w.append(" OR (");
        ++closes;
        equal(w, base, start, end);
        w.append(" AND ");
        if (g + 2 < groups) {
          w.append('(');
          ++closes;
        }
        start = end;
      }
      for (int i = 0; i != closes; ++i) w.append(')');
    }
    w.params = base + static_cast<int>(Source::param_count);
  }
  void bind(param_list& p) const { source.bind(p); }

 private:
  using props = keyset_terms<Terms>;
  static constexpr bool term_nullable(std::size_t i) { return props::nullable[i]; }
  static constexpr bool desc(std::size_t i) { return props::desc[i]; }
  static constexpr bool nulls_first(std::size_t i) { return props::nulls_first[i]; }
  static constexpr bool any_nullable() {
    for (std::size_t i = 0; i != size; ++i) {
      if (term_nullable(i)) return true;
    }
    return false;
  }
  /// The end of the run that starts at term `start`.
  static constexpr std::size_t group_end(std::size_t start) {
    if (term_nullable(start)) return start + 1;
    std::size_t end = start + 1;
    while (end != size && !term_nullable(end) && desc(end) == desc(start)) ++end;
    return end;
  }
  static constexpr std::size_t group_count() {
    std::size_t n = 0;
    for (std::size_t start = 0; start != size; start = group_end(start)) ++n;
    return n;
  }
  static constexpr const char* after_op(std::size_t i) { return desc(i) ? " < " : " > "; }

  template <class W>
  static constexpr void column(W& w, std::size_t i) {
    [&]<std::size_t... I>(std::index_sequence<I...>) {
      ((I == i ? (std::tuple_element_t<I, Terms>::expr_type::render(w), 0) : 0), ...);
    }
    (std::make_index_sequence<size>{});
  }
  template <class W>
  static constexpr void value(W& w, int base, std::size_t i) {
    [&]<std::size_t... I>(std::index_sequence<I...>) {
      ((I == i ? (Source::template render_value<Terms, I>(w, base), 0) : 0), ...);
    }
    (std::make_index_sequence<size>{});
  }
  /// `a op v` for one term, `(a, b) op (v1, v2)` for a run.
  template <class W>
  static constexpr void compare(W& w, int base, std::size_t start, std::size_t end,
                                const char* op) {
    const bool row = end - start > 1;
    if (row) w.append('(');
    for (std::size_t i = start; i != end; ++i) {
      if (i != start) w.append(", ");
      column(w, i);
    }
    if (row) w.append(')');
    w.append(op);
    if (row) w.append('(');
    for (std::size_t i = start; i != end; ++i) {
      if (i != start) w.append(", ");
      value(w, base, i);
    }
    if (row) w.append(')');
  }
  /// The rows past the cursor in the run [start, end).
  template <class W>
  static constexpr void after(W& w, int base, std::size_t start, std::size_t end) {
    if (!term_nullable(start)) {
      compare(w, base, start, end, after_op(start));
      return;
    }
    // One nullable column: past a value are the greater (lesser) values, and the NULLs when
    // they come last; past a NULL are the values when NULLs come first, else nothing.
    w.append('(');
    compare(w, base, start, end, after_op(start));
    w.append(" OR ");
    value(w, base, start);
    w.append(nulls_first(start) ? " IS NULL AND " : " IS NOT NULL AND ");
    column(w, start);
    w.append(nulls_first(start) ? " IS NOT NULL)" : " IS NULL)");
  }
  /// The rows at the cursor's position in the run [start, end).
  template <class W>
  static constexpr void equal(W& w, int base, std::size_t start, std::size_t end) {
    if (term_nullable(start)) {
      w.append('(');
      compare(w, base, start, end, " = ");
      w.append(" OR ");
      column(w, start);
      w.append(" IS NULL AND ");
      value(w, base, start);
      w.append(" IS NULL)");
      return;
    }
    for (std::size_t i = start; i != end; ++i) {
      if (i != start) w.append(" AND ");
      compare(w, base, i, i + 1, " = ");
    }
  }
};

/// Whether a select's keyset part (absent, or a keyset_clause) pages backward.
template <class Keyset>
inline constexpr bool keyset_backward_v = false;
template <class Terms, class Source, bool Backward>
inline constexpr bool keyset_backward_v<keyset_clause<Terms, Source, Backward>> = Backward;

}  // namespace pgorm::detail
