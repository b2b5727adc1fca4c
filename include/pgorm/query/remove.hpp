// SPDX-License-Identifier: MIT
#pragma once

/// \file
/// DELETE, spelled remove (delete is a C++ keyword): where(cond) or all_rows(), RETURNING.
/// See docs/dml.md.
///
/// ```cpp
/// auto n = pgorm::remove<Session>().where(pgorm::col<&Session::expires_at> <
/// pgorm::now()).exec(conn);
/// ```

#include <cstdint>
#include <string_view>
#include <type_traits>
#include <utility>

#include "pgorm/expr.hpp"
#include "pgorm/query/common.hpp"
#include "pgorm/query/dml_common.hpp"
#include "pgorm/query/runner.hpp"
#include "pgorm/reflect.hpp"
#include "pgorm/table.hpp"

namespace pgorm {

template <class Exec, class T, class Where = detail::absent, bool AllRows = false,
          class Returning = detail::absent>
class remove_query;

/// A DELETE from T's table under construction; made by pgorm::remove<T>(). Every method
/// returns a new builder. It needs where(cond) or all_rows() (checked at compile time where it
/// runs or renders).
///
/// Run it with exec() (rows deleted), or after returning(...)/returning_all() with all(), one()
/// or first(); pass the executor (`exec(conn)`) or bind it first (`.bind(conn).exec()`).
template <class Exec, class T, class Where, bool AllRows, class Returning>
class remove_query
    : public detail::builder<remove_query<Exec, T, Where, AllRows, Returning>, Exec> {
 public:
  static constexpr bool is_pgorm_remove = true;
  /// The struct whose table is written.
  using table_type = T;
  /// The C++ type of a returned row: T for returning_all(), std::tuple for returning(...).
  using row_type = typename Returning::row_type;
  /// Whether the SQL text depends only on the type.
  static constexpr bool is_static = Where::is_static && Returning::is_static;

  remove_query(Exec* exec, Where where, Returning returning)
      : base(exec), where_(std::move(where)), returning_(std::move(returning)) {}

  // ---- clauses ----

  /// WHERE cond over T's columns: a typed condition or a pgorm::filter<T>.
  template <class C>
  auto where(const C& cond) const {
    if constexpr (detail::check_where<T, C, Where>()) return remake(cond, returning_);
  }

  /// Deletes every row of the table: the explicit opt-in a remove without where() needs.
  auto all_rows() const { return remake<true>(where_, returning_); }

  /// RETURNING these columns or expressions of the deleted rows, as std::tuple.
  template <class... E>
  auto returning(const E&... exprs) const {
    if constexpr (detail::check_returning<T, Returning, E...>()) {
      return remake(where_, detail::returning_exprs<E...>{{}, {exprs...}});
    }
  }

  /// RETURNING every column: the deleted rows as T.
  auto returning_all() const {
    static_assert(!detail::present_v<Returning>, "pgorm: returning was already chosen");
    return remake(where_, detail::returning_all_columns<T>{});
  }

  /// The same statement, bound to `exec` so that exec(), all(), ... need no argument.
  template <executor E>
  auto bind(E& exec) const {
    return remove_query<E, T, Where, AllRows, Returning>(&exec, where_, returning_);
  }

  /// Appends the statement's parameters, in the order of their placeholders.
  void bind(detail::param_list& p) const {
    where_.bind(p);
    returning_.bind(p);
  }

 private:
  using base = detail::builder<remove_query, Exec>;
  friend base;
  friend class detail::runner<remove_query, Exec>;
  friend struct detail::renders_from<remove_query>;

  /// The one rebuild: this statement with these clauses.
  template <bool NewAllRows = AllRows, class W, class R>
  auto remake(W where, R returning) const {
    return remove_query<Exec, T, W, NewAllRows, R>(this->bound_to(), std::move(where),
                                                   std::move(returning));
  }

  /// The rules checked where the statement runs or renders.
  static consteval bool check_run() {
    static_assert(detail::present_v<Where> || AllRows,
                  "pgorm: a remove without where() would delete every row; add .where(cond), or "
                  "call .all_rows() if that is what you mean");
    return detail::present_v<Where> || AllRows;
  }
  static consteval bool check_reads_rows() { return detail::check_returns_rows<Returning>(); }

  template <class W, class S>
  static constexpr void render_from(W& w, const S& q) {
    w.qualify = false;
    w.append("DELETE FROM ");
    w.append(table<T>::qualified_name);
    if constexpr (detail::present_v<Where>) {
      w.append(" WHERE ");
      detail::render_expr(w, detail::part(q, &remove_query::where_));
    }
    detail::render_expr(w, detail::part(q, &remove_query::returning_));
  }

  Where where_;
  Returning returning_;
};

/// Starts a DELETE from T's table (named remove: delete is a keyword). Continue with
/// where(cond) or all_rows().
///
/// Example: `pgorm::remove<User>().where(pgorm::col<&User::id> == 1).exec(conn);`
template <class T>
auto remove() {
  static_assert(reflectable<T>, "pgorm: remove<T>() takes a struct that maps to a table");
  return remove_query<detail::unbound, T>(nullptr, {}, {});
}

}  // namespace pgorm
