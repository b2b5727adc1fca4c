// SPDX-License-Identifier: MIT
#pragma once

/// \file
/// UPDATE: set(col = value, ...), FROM other tables, where(cond) or all_rows(), RETURNING.
/// See docs/dml.md.
///
/// ```cpp
/// auto n = pgorm::update<User>()
///              .set(pgorm::col<&User::name> = "Ada", pgorm::col<&User::age> =
///              pgorm::col<&User::age> + 1) .where(pgorm::col<&User::id> == id) .exec(conn);
/// ```

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>

#include "pgorm/expr.hpp"
#include "pgorm/query/clauses.hpp"
#include "pgorm/query/common.hpp"
#include "pgorm/query/dml_common.hpp"
#include "pgorm/query/runner.hpp"
#include "pgorm/reflect.hpp"
#include "pgorm/table.hpp"

namespace pgorm {

namespace detail {
/// The parts of an update, in the order it renders them.
enum class update_part : std::size_t {
  sets,       ///< std::tuple of assignments
  from,       ///< extra_tables<" FROM ", ...> after from<U>(), or absent
  where,      ///< the WHERE condition, or absent
  all_rows,   ///< all_rows_clause after all_rows(), or absent
  returning,  ///< returning_exprs or returning_all_columns, or absent
};
}  // namespace detail

template <class Exec, class T, class Parts>
class update_query;

/// An UPDATE of T's table under construction; made by pgorm::update<T>(). Every method returns
/// a new builder. It needs set(...), and where(cond) or all_rows() (both checked at compile
/// time where it runs or renders).
///
/// Run it with exec() (rows updated), or after returning(...)/returning_all() with all(), one()
/// or first(); pass the executor (`exec(conn)`) or bind it first (`.bind(conn).exec()`).
template <class Exec, class T, class Parts>
class update_query : public detail::builder<update_query<Exec, T, Parts>, Exec> {
  using part = detail::update_part;
  using Sets = typename Parts::template type<part::sets>;
  using From = typename Parts::template type<part::from>;
  using readable = detail::readable_tables_t<T, From>;
  using Where = typename Parts::template type<part::where>;
  using AllRows = typename Parts::template type<part::all_rows>;
  using Returning = typename Parts::template type<part::returning>;

 public:
  static constexpr bool is_pgorm_update = true;
  /// The struct whose table is written.
  using table_type = T;
  /// The C++ type of a returned row: T for returning_all(), std::tuple for returning(...).
  using row_type = typename Returning::row_type;
  /// Whether the SQL text depends only on the type.
  static constexpr bool is_static = Parts::is_static;
  /// It writes.
  static constexpr sql_effect effect = sql_effect::writes;

  update_query(Exec* exec, Parts&& parts) : base(exec), parts_(std::move(parts)) {}

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
      if constexpr (detail::check_assignments_in<T, readable, A...>()) {
        return with_part(
            detail::part_at<part::sets>,
            std::tuple_cat(parts_.template get<part::sets>(), std::tuple<A...>(assignments...)));
      }
    }
  }

  /// FROM U (UPDATE ... FROM): U's columns may then be read in set(), where() and
  /// returning(), e.g. to copy values from another table or to pick rows by a join condition.
  /// Call it before those; call it again for more tables. Every column is then written
  /// table-qualified. A row of T matched by several rows of U is updated once, from one of them
  /// (PostgreSQL's rule): join on a key of U.
  template <class U, detail::fixed_string Alias = "">
  auto from() const {
    using ref = table_ref<U, Alias>;
    if constexpr (detail::check_extra_table<T, readable, ref>()) {
      return with_part(detail::part_at<part::from>,
                       typename detail::add_extra_table<" FROM ", From, ref>::type{});
    }
  }

  /// WHERE cond over T's columns (and those of from<U>() tables): a typed condition or a
  /// pgorm::filter<T>.
  template <class C>
  auto where(const C& cond) const {
    if constexpr (detail::check_where<T, C, Where, readable>()) {
      return with_part(detail::part_at<part::where>, cond);
    }
  }

  /// Updates every row of the table: the explicit opt-in an UPDATE without where() needs.
  auto all_rows() const {
    return with_part(detail::part_at<part::all_rows>, detail::all_rows_clause{});
  }

  /// RETURNING these columns or expressions of T (the values after the update) or of from<U>()
  /// tables, as std::tuple.
  template <class... E>
  auto returning(const E&... exprs) const {
    if constexpr (detail::check_returning_in<T, readable, Returning, E...>()) {
      return with_part(detail::part_at<part::returning>,
                       detail::returning_exprs<E...>{{}, {exprs...}});
    }
  }

  /// RETURNING every column: the updated rows as T.
  auto returning_all() const {
    static_assert(!detail::present_v<Returning>, "pgorm: returning was already chosen");
    return with_part(detail::part_at<part::returning>, detail::returning_all_columns<T>{});
  }

 private:
  using base = detail::builder<update_query, Exec>;
  friend base;
  friend class detail::runner<update_query, Exec>;
  friend struct detail::renders_from<update_query>;
  using base::with_part;

  /// The rules checked where the statement runs or renders.
  static consteval bool check_run() {
    constexpr bool has_set = detail::assignments_traits<Sets>::size > 0;
    static_assert(has_set,
                  "pgorm: an update needs set(pgorm::col<&T::m> = value, ...) before it runs");
    constexpr bool filtered = detail::present_v<Where> || detail::present_v<AllRows>;
    static_assert(filtered,
                  "pgorm: an update without where() would change every row; add "
                  ".where(cond), or call .all_rows() if that is what you mean");
    return has_set && filtered;
  }
  static consteval bool check_reads_rows() { return detail::check_returns_rows<Returning>(); }

  template <class W, class S>
  static constexpr void render_from(W& w, const S& q) {
    const auto& parts = detail::part(q, &update_query::parts_);
    w.qualify = detail::present_v<From>;
    w.append("UPDATE ");
    w.append(table<T>::qualified_name);
    w.append(" SET ");
    detail::render_comma_list(w, detail::clause<part::sets>(parts));
    detail::render_expr(w, detail::clause<part::from>(parts));
    if constexpr (detail::present_v<Where>) {
      w.append(" WHERE ");
      detail::render_expr(w, detail::clause<part::where>(parts));
    }
    detail::render_expr(w, detail::clause<part::returning>(parts));
  }

  Parts parts_;
};

/// Starts an UPDATE of T's table. Continue with set(...), then where(cond) or all_rows().
///
/// Example: `pgorm::update<User>().set(pgorm::col<&User::name> = "x").where(pgorm::col<&User::id>
/// == 1).exec(conn);`
template <class T>
auto update() {
  static_assert(reflectable<T>, "pgorm: update<T>() takes a struct that maps to a table");
  using parts = detail::clause_set<std::tuple<>, detail::absent, detail::absent, detail::absent,
                                   detail::absent>;
  return update_query<detail::unbound, T, parts>(nullptr, parts{});
}

}  // namespace pgorm
