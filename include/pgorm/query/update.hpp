// SPDX-License-Identifier: MIT
#pragma once

/// \file
/// UPDATE: set(col = value, ...), where(cond) or all_rows(), RETURNING. See docs/dml.md.
///
/// ```cpp
/// auto n = pgorm::update<User>()
///              .set(pgorm::col<&User::name> = "Ada", pgorm::col<&User::age> =
///              pgorm::col<&User::age> + 1) .where(pgorm::col<&User::id> == id) .exec(conn);
/// ```

#include <cstdint>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>

#include "pgorm/expr.hpp"
#include "pgorm/query/common.hpp"
#include "pgorm/query/dml_common.hpp"
#include "pgorm/query/runner.hpp"
#include "pgorm/reflect.hpp"
#include "pgorm/table.hpp"

namespace pgorm {

template <class Exec, class T, class Sets = std::tuple<>, class Where = detail::absent,
          bool AllRows = false, class Returning = detail::absent>
class update_query;

/// An UPDATE of T's table under construction; made by pgorm::update<T>(). Every method returns
/// a new builder. It needs set(...), and where(cond) or all_rows() (both checked at compile
/// time where it runs or renders).
///
/// Run it with exec() (rows updated), or after returning(...)/returning_all() with all(), one()
/// or first(); pass the executor (`exec(conn)`) or bind it first (`.bind(conn).exec()`).
template <class Exec, class T, class Sets, class Where, bool AllRows, class Returning>
class update_query
    : public detail::builder<update_query<Exec, T, Sets, Where, AllRows, Returning>, Exec> {
 public:
  static constexpr bool is_pgorm_update = true;
  /// The struct whose table is written.
  using table_type = T;
  /// The C++ type of a returned row: T for returning_all(), std::tuple for returning(...).
  using row_type = typename Returning::row_type;
  /// Whether the SQL text depends only on the type.
  static constexpr bool is_static =
      detail::assignments_traits<Sets>::is_static && Where::is_static && Returning::is_static;

  update_query(Exec* exec, Sets sets, Where where, Returning returning)
      : base(exec),
        sets_(std::move(sets)),
        where_(std::move(where)),
        returning_(std::move(returning)) {}

  // ---- clauses ----

  /// SET col = value, ...: assignments made with `pgorm::col<&T::m> = value` (a plain value, or
  /// an expression over T's columns such as `pgorm::col<&T::n> + 1`). Calling set() again adds
  /// more assignments.
  template <class... A>
  auto set(const A&... assignments) const {
    static_assert(sizeof...(A) > 0,
                  "pgorm: set() needs at least one assignment such as pgorm::col<&User::name> = "
                  "value");
    if constexpr (sizeof...(A) > 0) {
      if constexpr (detail::check_assignments<T, A...>()) {
        return remake(std::tuple_cat(sets_, std::tuple<A...>(assignments...)), where_, returning_);
      }
    }
  }

  /// WHERE cond over T's columns: a typed condition or a pgorm::filter<T>.
  template <class C>
  auto where(const C& cond) const {
    if constexpr (detail::check_where<T, C, Where>()) return remake(sets_, cond, returning_);
  }

  /// Updates every row of the table: the explicit opt-in an UPDATE without where() needs.
  auto all_rows() const { return remake<true>(sets_, where_, returning_); }

  /// RETURNING these columns or expressions of T (the values after the update), as std::tuple.
  template <class... E>
  auto returning(const E&... exprs) const {
    if constexpr (detail::check_returning<T, Returning, E...>()) {
      return remake(sets_, where_, detail::returning_exprs<E...>{{}, {exprs...}});
    }
  }

  /// RETURNING every column: the updated rows as T.
  auto returning_all() const {
    static_assert(!detail::present_v<Returning>, "pgorm: returning was already chosen");
    return remake(sets_, where_, detail::returning_all_columns<T>{});
  }

  /// The same statement, bound to `exec` so that exec(), all(), ... need no argument.
  template <executor E>
  auto bind(E& exec) const {
    return update_query<E, T, Sets, Where, AllRows, Returning>(&exec, sets_, where_, returning_);
  }

  /// Appends the statement's parameters, in the order of their placeholders.
  void bind(detail::param_list& p) const {
    detail::bind_each(p, sets_);
    where_.bind(p);
    returning_.bind(p);
  }

 private:
  using base = detail::builder<update_query, Exec>;
  friend base;
  friend class detail::runner<update_query, Exec>;
  friend struct detail::renders_from<update_query>;

  /// The one rebuild: this statement with these clauses.
  template <bool NewAllRows = AllRows, class S, class W, class R>
  auto remake(S sets, W where, R returning) const {
    return update_query<Exec, T, S, W, NewAllRows, R>(this->bound_to(), std::move(sets),
                                                      std::move(where), std::move(returning));
  }

  /// The rules checked where the statement runs or renders.
  static consteval bool check_run() {
    constexpr bool has_set = detail::assignments_traits<Sets>::size > 0;
    static_assert(has_set,
                  "pgorm: an update needs set(pgorm::col<&T::m> = value, ...) before it runs");
    static_assert(detail::present_v<Where> || AllRows,
                  "pgorm: an update without where() would change every row; add "
                  ".where(cond), or call .all_rows() if that is what you mean");
    return has_set && (detail::present_v<Where> || AllRows);
  }
  static consteval bool check_reads_rows() { return detail::check_returns_rows<Returning>(); }

  template <class W, class S>
  static constexpr void render_from(W& w, const S& q) {
    w.qualify = false;
    w.append("UPDATE ");
    w.append(table<T>::qualified_name);
    w.append(" SET ");
    detail::render_comma_list(w, detail::part(q, &update_query::sets_));
    if constexpr (detail::present_v<Where>) {
      w.append(" WHERE ");
      detail::render_expr(w, detail::part(q, &update_query::where_));
    }
    detail::render_expr(w, detail::part(q, &update_query::returning_));
  }

  Sets sets_;
  Where where_;
  Returning returning_;
};

/// Starts an UPDATE of T's table. Continue with set(...), then where(cond) or all_rows().
///
/// Example: `pgorm::update<User>().set(pgorm::col<&User::name> = "x").where(pgorm::col<&User::id>
/// == 1).exec(conn);`
template <class T>
auto update() {
  static_assert(reflectable<T>, "pgorm: update<T>() takes a struct that maps to a table");
  return update_query<detail::unbound, T>(nullptr, {}, {}, {});
}

}  // namespace pgorm
