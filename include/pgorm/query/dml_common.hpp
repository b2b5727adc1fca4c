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

/// ` FROM a, b` of an update or ` USING a, b` of a remove (`Keyword`): more tables (table_refs)
/// the statement reads besides the one it writes. A clause with a static text; absent when the
/// statement reads only its own table.
template <fixed_string Keyword, class... Refs>
struct extra_tables : static_clause {
  using refs = type_list<Refs...>;
  template <class W>
  static constexpr void render(W& w) {
    w.append(Keyword.view());
    bool first = true;
    ((w.append(first ? "" : ", "), first = false, Refs::render_from(w)), ...);
  }
};

/// The tables a DML statement on `T` with the extra-tables part `Extra` (absent or
/// extra_tables) may read: T's, then the extra ones.
template <class T, class Extra>
struct readable_tables {
  using type = target_tables_t<T>;
};
template <class T, fixed_string K, class... Refs>
struct readable_tables<T, extra_tables<K, Refs...>> {
  using type = type_list<table_ref<T>, Refs...>;
};
template <class T, class Extra>
using readable_tables_t = typename readable_tables<T, Extra>::type;

/// Extra with one more table `Ref`: extra_tables<Keyword, Ref> when Extra is absent.
template <fixed_string Keyword, class Extra, class Ref>
struct add_extra_table;
template <fixed_string Keyword, class Ref>
struct add_extra_table<Keyword, absent, Ref> {
  using type = extra_tables<Keyword, Ref>;
};
template <fixed_string Keyword, fixed_string K, class... Refs, class Ref>
struct add_extra_table<Keyword, extra_tables<K, Refs...>, Ref> {
  using type = extra_tables<Keyword, Refs..., Ref>;
};

/// The checks on from<U>() of an update and using_<U>() of a remove on T: the table `Ref` is
/// not already read by the statement (Readable).
template <class T, class Readable, class Ref>
consteval bool check_extra_table() {
  static_assert(reflectable<typename Ref::type>,
                "pgorm: from<U>() and using_<U>() take a struct that maps to a table");
  constexpr bool fresh = !list_contains_v<Readable, Ref>;
  static_assert(fresh,
                "pgorm: this table is already in the statement; name it again under an alias: "
                "from<User, \"other\">() with pgorm::col<&User::id, \"other\">");
  return fresh;
}

/// RETURNING every column of T: rows come back as T.
template <class T>
struct returning_all_columns {
  using row_type = T;
  using tables = target_tables_t<T>;
  static constexpr bool is_static = true;
  static constexpr bool may_write = false;
  template <class W>
  static constexpr void render(W& w) {
    w.append(" RETURNING ");
    if (!w.qualify) {
      w.append(table<T>::select_list);
      return;
    }
    // Beside the tables of from<U>() / using_<U>(): every column qualified.
    bool first = true;
    for (const column_info& c : table<T>::columns) {
      if (!first) w.append(", ");
      first = false;
      table_ref<T>::render_qualifier(w);
      w.append('.');
      w.append(c.sql_name);
    }
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
  static constexpr bool may_write = (E::may_write || ...);
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
template <class T, class Readable, class... A>
consteval bool check_assignments_in() {
  constexpr bool all_assignments = (assignment_node<A> && ...);
  static_assert(all_assignments,
                "pgorm: set() and do_update() take assignments such as "
                "pgorm::col<&User::name> = value (operator=, not ==)");
  if constexpr (all_assignments) {
    constexpr bool own_columns = (std::is_same_v<member_class_t<A::column::member>, T> && ...);
    static_assert(own_columns,
                  "pgorm: set() and do_update() assign columns of the table being written only; "
                  "name a member of that table's struct on the left of =");
    constexpr bool own_values = (list_subset_v<typename A::tables, Readable> && ...);
    static_assert(own_values,
                  "pgorm: a value in set() or do_update() reads a column of another table; use "
                  "columns of the table being written, pgorm::excluded<...>, or plain values "
                  "(an update reads another table after from<U>())");
    return own_columns && own_values;
  }
  return false;
}
template <class T, class... A>
consteval bool check_assignments() {
  return check_assignments_in<T, target_tables_t<T>, A...>();
}

/// The checks on a WHERE condition of a DML statement on T.
template <class T, class C, class Where, class Readable = target_tables_t<T>>
consteval bool check_where() {
  static_assert(expression<C>,
                "pgorm: where() takes an expression such as pgorm::col<&User::id> == 42 or a "
                "pgorm::filter<T>");
  if constexpr (expression<C>) {
    static_assert(condition<C>,
                  "pgorm: where() needs a boolean condition; compare the column (==, <, like(), "
                  "is_null()) instead of passing it alone");
    static_assert(list_subset_v<typename C::tables, Readable>,
                  "pgorm: where() of an update, remove or upsert may only use columns of the "
                  "table being written; add another table with from<U>() (update) or "
                  "using_<U>() (remove) before where(), or use a subquery (col.in(...), "
                  "pgorm::exists(...))");
    static_assert(!present_v<Where>,
                  "pgorm: where() was already called; combine the conditions with && or || in "
                  "one where()");
    return condition<C> && list_subset_v<typename C::tables, Readable> && !present_v<Where>;
  }
  return false;
}

/// The checks on the arguments of returning(...) for a statement on T.
template <class T, class Readable, class Returning, class... E>
consteval bool check_returning_in() {
  static_assert(sizeof...(E) > 0,
                "pgorm: returning() needs at least one column; use returning_all() for whole "
                "rows");
  static_assert((expression<E> && ...),
                "pgorm: returning() takes columns or expressions such as pgorm::col<&User::id>");
  if constexpr ((expression<E> && ...)) {
    constexpr bool own = (list_subset_v<typename E::tables, Readable> && ...);
    static_assert(own,
                  "pgorm: returning() may only name columns of the table being written; read "
                  "other tables with a select afterwards");
    static_assert(!present_v<Returning>,
                  "pgorm: returning() was already called; list every column in one returning()");
    return sizeof...(E) > 0 && own && !present_v<Returning>;
  }
  return false;
}
template <class T, class Returning, class... E>
consteval bool check_returning() {
  return check_returning_in<T, target_tables_t<T>, Returning, E...>();
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

namespace pgorm {

namespace detail {
/// The keyword DEFAULT as the value of a SET assignment (pgorm::to_default). Of the column's
/// type, so that the assignment checks pass; it reads no table and binds nothing.
template <class V>
struct default_keyword {
  using value_type = V;
  using tables = type_list<>;
  static constexpr bool is_pgorm_expression = true;
  static constexpr bool is_static = true;
  static constexpr bool is_aggregate = false;
  static constexpr bool may_write = false;
  static constexpr bool has_bare_column = false;
  static constexpr int precedence = prec_primary;
  template <class W>
  static constexpr void render(W& w) {
    w.append("DEFAULT");
  }
  template <class W>
  constexpr void render_dynamic(W& w) const {
    render(w);
  }
  void bind(param_list& /*p*/) const {}
};
}  // namespace detail

/// `col = DEFAULT` in update().set(...) (and do_update(...)): the column takes its default
/// again (NULL when it has none).
///
/// Example: `pgorm::update<User>().set(pgorm::to_default<&User::role>).where(...)`
template <auto Member>
inline constexpr assignment<
    Member, detail::default_keyword<detail::remove_defaulted_t<member_type_t<Member>>>>
    to_default{};

}  // namespace pgorm
