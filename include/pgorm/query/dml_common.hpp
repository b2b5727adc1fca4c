// SPDX-License-Identifier: MIT
#pragma once

/// \file
/// What insert, update and remove share: RETURNING lists, SET lists, the "no WHERE" marker, the
/// 65,535-parameter check and the execution members (exec, all, one, first). See docs/dml.md.

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

/// The most parameters one statement may carry: the Bind message counts them in an Int16
/// (PostgreSQL docs 55.7, "Bind"), so libpq rejects more than 65535.
inline constexpr std::size_t max_statement_params = 65535;

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
struct returning_exprs {
  using row_type = std::tuple<typename E::value_type...>;
  using tables = list_union_t<type_list<>, typename E::tables...>;
  static constexpr bool is_static = (E::is_static && ...);
  std::tuple<E...> exprs;

  template <class W>
  static constexpr void render(W& w) requires(is_static) {
    render_from(w, shape<returning_exprs>{});
  }
  template <class W>
  void render_dynamic(W& w) const {
    render_from(w, *this);
  }
  void bind(param_list& p) const {
    std::apply([&](const auto&... e) { (e.bind(p), ...); }, exprs);
  }

 private:
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

[[noreturn]] inline void throw_too_many_params(std::size_t count) {
  throw usage_error("pgorm: this statement needs " + std::to_string(count) +
                    " parameters, more than PostgreSQL's limit of 65535; insert the rows in "
                    "batches (inside one transaction to keep it atomic)");
}

/// Runs a DML builder: binds, checks the parameter limit, renders (static text when the shape
/// is static) and executes with binary results.
template <class Q, class Exec>
result run_dml(const Q& q, Exec& exec) {
  param_list params;
  q.bind(params);
  if (params.size() > max_statement_params) throw_too_many_params(params.size());
  std::string storage;
  return exec_builder_sql(exec, sql_text(q, storage), params.params(), data_format::binary);
}

/// The execution members of insert, update and remove builders: exec() (affected rows), and
/// with a RETURNING list all(), one() and first(). Each comes bound (no argument, after
/// .bind(conn)) and unbound (the executor as argument), as select_query's do.
///
/// `Derived` provides `static constexpr void check()` (the rules checked at execution),
/// `bool sends_nothing() const` (an empty insert: nothing to send), and `exec_`.
// The messages of dml_runner's checks (a static_assert message must be a literal).
#define PGORM_DETAIL_NO_RETURNING_MESSAGE                                           \
  "pgorm: all(), one() and first() read returned rows; add .returning(cols...) or " \
  ".returning_all(), or call exec() for the number of affected rows"

template <class Derived, class Exec, class Returning>
class dml_runner {
 public:
  /// The C++ type of a returned row: T for returning_all(), std::tuple for returning(...).
  using row_type = typename Returning::row_type;

  /// Runs the statement; returns the number of rows inserted, updated or deleted.
  std::int64_t exec() const {
    if constexpr (require_bound<Exec>()) {
      return exec(*self().exec_);
    } else {
      return 0;
    }
  }
  template <executor E>
  std::int64_t exec(E& exec) const {
    Derived::check();
    if (self().sends_nothing()) return 0;
    return run_dml(self(), exec).affected_rows();
  }

  /// Every returned row (needs returning(...) or returning_all()).
  auto all() const {
    if constexpr (require_bound<Exec>()) return all(*self().exec_);
  }
  template <executor E>
  auto all(E& exec) const {
    static_assert(present_v<Returning>, PGORM_DETAIL_NO_RETURNING_MESSAGE);
    if constexpr (present_v<Returning>) {
      Derived::check();
      if (self().sends_nothing()) return std::vector<row_type>{};
      return read_rows<row_type>(run_dml(self(), exec));
    }
  }

  /// Exactly one returned row; usage_error when there are none or several.
  auto one() const {
    if constexpr (require_bound<Exec>()) return one(*self().exec_);
  }
  template <executor E>
  auto one(E& exec) const {
    static_assert(present_v<Returning>, PGORM_DETAIL_NO_RETURNING_MESSAGE);
    if constexpr (present_v<Returning>) {
      Derived::check();
      if (self().sends_nothing()) throw_not_one_row(0);
      const result res = run_dml(self(), exec);
      if (res.rows() != 1) throw_not_one_row(res.rows());
      return row_reader<row_type>(res).read(0);
    }
  }

  /// The first returned row, or std::nullopt (e.g. an upsert's do_nothing that skipped it).
  auto first() const {
    if constexpr (require_bound<Exec>()) return first(*self().exec_);
  }
  template <executor E>
  auto first(E& exec) const {
    static_assert(present_v<Returning>, PGORM_DETAIL_NO_RETURNING_MESSAGE);
    if constexpr (present_v<Returning>) {
      Derived::check();
      if (self().sends_nothing()) return std::optional<row_type>{};
      const result res = run_dml(self(), exec);
      if (res.rows() == 0) return std::optional<row_type>{};
      return std::optional<row_type>(row_reader<row_type>(res).read(0));
    }
  }

 private:
  constexpr const Derived& self() const { return static_cast<const Derived&>(*this); }
};

#undef PGORM_DETAIL_NO_RETURNING_MESSAGE

}  // namespace pgorm::detail
