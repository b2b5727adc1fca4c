// SPDX-License-Identifier: MIT
#pragma once

/// \file
/// What insert, update and remove share: RETURNING lists, SET lists and the checks on their
/// clauses. Their execution members come from detail::runner (query/runner.hpp). See
/// docs/dml.md.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "pgorm/error.hpp"
#include "pgorm/expr.hpp"
#include "pgorm/query/clauses.hpp"
#include "pgorm/query/common.hpp"
#include "pgorm/row.hpp"
#include "pgorm/table.hpp"

namespace pgorm::detail {

/// The tables a DML statement on `T` may read: only `T` itself.
template <class T>
using target_tables_t = type_list<table_ref<T>>;

/// RETURNING every column of T: rows come back as T.
template <class T>
struct returning_all_columns {
  using row_type = T;
  using tables = target_tables_t<T>;
  static constexpr bool is_static = true;
  template <class W>
  static constexpr void render(W& w) {
    w.append(" RETURNING ");
    w.append(table<T>::select_list);
  }
  template <class W>
  void render_dynamic(W& w) const {
    render(w);
  }
  void bind(param_list& /*p*/) const {}
};

/// RETURNING these expressions: rows come back as std::tuple of their value types.
template <class... E>
struct returning_exprs : renders_from<returning_exprs<E...>> {
  using row_type = std::tuple<typename E::value_type...>;
  using tables = list_union_t<type_list<>, typename E::tables...>;
  static constexpr bool is_static = (E::is_static && ...);
  std::tuple<E...> exprs;

  void bind(param_list& p) const { bind_each(p, exprs); }

  template <class W, class S>
  static constexpr void render_from(W& w, const S& self) {
    w.append(" RETURNING ");
    render_comma_list(w, part(self, &returning_exprs::exprs));
  }
};

template <class A>
concept assignment_node = requires {
  requires std::remove_cvref_t<A>::is_pgorm_assignment;
};

template <class Tuple>
struct assignments_traits;
template <class... A>
struct assignments_traits<std::tuple<A...>> {
  static constexpr bool is_static = (A::is_static && ...);
  static constexpr std::size_t size = sizeof...(A);
};

/// The checks every SET list item (update().set(), do_update()) passes, one per static_assert.
/// Returns whether all passed, so callers stop before deeper errors.
template <class T, class... A>
consteval bool check_assignments() {
  constexpr bool all_assignments = (assignment_node<A> && ...);
  static_assert(all_assignments,
                "pgorm: set() and do_update() take assignments such as "
                "pgorm::col<&User::name> = value (operator=, not ==)");
  if constexpr (all_assignments) {
    constexpr bool own_columns = (std::is_same_v<member_class_t<A::column::member>, T> && ...);
    static_assert(own_columns,
                  "pgorm: set() and do_update() assign columns of the table being written only; "
                  "name a member of that table's struct on the left of =");
    constexpr bool own_values = (list_subset_v<typename A::tables, target_tables_t<T>> && ...);
    static_assert(own_values,
                  "pgorm: a value in set() or do_update() reads a column of another table; use "
                  "columns of the table being written, pgorm::excluded<...>, or plain values");
    return own_columns && own_values;
  }
  return false;
}

/// The checks on a WHERE condition of a DML statement on T.
template <class T, class C, class Where>
consteval bool check_where() {
  static_assert(expression<C>,
                "pgorm: where() takes an expression such as pgorm::col<&User::id> == 42 or a "
                "pgorm::filter<T>");
  if constexpr (expression<C>) {
    static_assert(condition<C>,
                  "pgorm: where() needs a boolean condition; compare the column (==, <, like(), "
                  "is_null()) instead of passing it alone");
    static_assert(list_subset_v<typename C::tables, target_tables_t<T>>,
                  "pgorm: where() of an update, remove or upsert may only use columns of the "
                  "table being written; express other tables through a subquery (col.in(...), "
                  "pgorm::exists(...))");
    static_assert(!present_v<Where>,
                  "pgorm: where() was already called; combine the conditions with && or || in "
                  "one where()");
    return condition<C> && list_subset_v<typename C::tables, target_tables_t<T>> &&
           !present_v<Where>;
  }
  return false;
}

/// The checks on the arguments of returning(...) for a statement on T.
template <class T, class Returning, class... E>
consteval bool check_returning() {
  static_assert(sizeof...(E) > 0,
                "pgorm: returning() needs at least one column; use returning_all() for whole "
                "rows");
  static_assert((expression<E> && ...),
                "pgorm: returning() takes columns or expressions such as pgorm::col<&User::id>");
  if constexpr ((expression<E> && ...)) {
    constexpr bool own = (list_subset_v<typename E::tables, target_tables_t<T>> && ...);
    static_assert(own,
                  "pgorm: returning() may only name columns of the table being written; read "
                  "other tables with a select afterwards");
    static_assert(!present_v<Returning>,
                  "pgorm: returning() was already called; list every column in one returning()");
    return sizeof...(E) > 0 && own && !present_v<Returning>;
  }
  return false;
}

/// The check of all(), one(), first() and each() on an insert, update or remove: they read the
/// rows of a RETURNING list.
template <class Returning>
consteval bool check_returns_rows() {
  static_assert(present_v<Returning>,
                "pgorm: all(), one() and first() read returned rows; add .returning(cols...) or "
                ".returning_all(), or call exec() for the number of affected rows");
  return present_v<Returning>;
}

}  // namespace pgorm::detail
