// SPDX-License-Identifier: MIT
#pragma once

/// \file
/// DELETE, spelled remove (delete is a C++ keyword): USING other tables, where(cond) or
/// all_rows(), RETURNING.
/// See docs/dml.md.
///
/// ```cpp
/// auto n = pgorm::remove<Session>().where(pgorm::col<&Session::expires_at> <
/// pgorm::now()).exec(conn);
/// ```

#include <cstddef>
#include <cstdint>
#include <string_view>
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
/// The parts of a remove, in the order it renders them.
enum class remove_part : std::size_t {
  using_tables,  ///< extra_tables<" USING ", ...> after using_<U>(), or absent
  where,         ///< the WHERE condition, or absent
  all_rows,      ///< all_rows_clause after all_rows(), or absent
  returning,     ///< returning_exprs or returning_all_columns, or absent
};
}  // namespace detail

template <class Exec, class T, class Parts>
class remove_query;

/// A DELETE from T's table under construction; made by pgorm::remove<T>(). Every method
/// returns a new builder. It needs where(cond) or all_rows() (checked at compile time where it
/// runs or renders).
///
/// Run it with exec() (rows deleted), or after returning(...)/returning_all() with all(), one()
/// or first(); pass the executor (`exec(conn)`) or bind it first (`.bind(conn).exec()`).
template <class Exec, class T, class Parts>
class remove_query : public detail::builder<remove_query<Exec, T, Parts>, Exec> {
  using part = detail::remove_part;
  using Using = typename Parts::template type<part::using_tables>;
  using readable = detail::readable_tables_t<T, Using>;
  using Where = typename Parts::template type<part::where>;
  using AllRows = typename Parts::template type<part::all_rows>;
  using Returning = typename Parts::template type<part::returning>;

 public:
  static constexpr bool is_pgorm_remove = true;
  /// The struct whose table is written.
  using table_type = T;
  /// The C++ type of a returned row: T for returning_all(), std::tuple for returning(...).
  using row_type = typename Returning::row_type;
  /// Whether the SQL text depends only on the type.
  static constexpr bool is_static = Parts::is_static;
  /// It writes.
  static constexpr sql_effect effect = sql_effect::writes;

  remove_query(Exec* exec, Parts&& parts) : base(exec), parts_(std::move(parts)) {}

  // ---- clauses ----

  /// USING U (DELETE ... USING): U's columns may then be read in where() and returning(),
  /// e.g. to delete the rows that join to rows of U. Call it before those; call it again for
  /// more tables. Every column is then written table-qualified.
  template <class U, detail::fixed_string Alias = "">
  auto using_() const {
    using ref = table_ref<U, Alias>;
    if constexpr (detail::check_extra_table<T, readable, ref>()) {
      return with_part(detail::part_at<part::using_tables>,
                       typename detail::add_extra_table<" USING ", Using, ref>::type{});
    }
  }

  /// WHERE cond over T's columns (and those of using_<U>() tables): a typed condition or a
  /// pgorm::filter<T>.
  template <class C>
  auto where(const C& cond) const {
    if constexpr (detail::check_where<T, C, Where, readable>()) {
      return with_part(detail::part_at<part::where>, cond);
    }
  }

  /// Deletes every row of the table: the explicit opt-in a remove without where() needs.
  auto all_rows() const {
    return with_part(detail::part_at<part::all_rows>, detail::all_rows_clause{});
  }

  /// RETURNING these columns or expressions of the deleted rows (or of using_<U>() tables), as
  /// std::tuple.
  template <class... E>
  auto returning(const E&... exprs) const {
    if constexpr (detail::check_returning_in<T, readable, Returning, E...>()) {
      return with_part(detail::part_at<part::returning>,
                       detail::returning_exprs<E...>{{}, {exprs...}});
    }
  }

  /// RETURNING every column: the deleted rows as T.
  auto returning_all() const {
    static_assert(!detail::present_v<Returning>, "pgorm: returning was already chosen");
    return with_part(detail::part_at<part::returning>, detail::returning_all_columns<T>{});
  }

 private:
  using base = detail::builder<remove_query, Exec>;
  friend base;
  friend class detail::runner<remove_query, Exec>;
  friend struct detail::renders_from<remove_query>;
  using base::with_part;

  /// The rules checked where the statement runs or renders.
  static consteval bool check_run() {
    static_assert(detail::present_v<Where> || detail::present_v<AllRows>,
                  "pgorm: a remove without where() would delete every row; add .where(cond), or "
                  "call .all_rows() if that is what you mean");
    return detail::present_v<Where> || detail::present_v<AllRows>;
  }
  static consteval bool check_reads_rows() { return detail::check_returns_rows<Returning>(); }

  template <class W, class S>
  static constexpr void render_from(W& w, const S& q) {
    const auto& parts = detail::part(q, &remove_query::parts_);
    w.qualify = detail::present_v<Using>;
    w.append("DELETE FROM ");
    w.append(table<T>::qualified_name);
    detail::render_expr(w, detail::clause<part::using_tables>(parts));
    if constexpr (detail::present_v<Where>) {
      w.append(" WHERE ");
      detail::render_expr(w, detail::clause<part::where>(parts));
    }
    detail::render_expr(w, detail::clause<part::returning>(parts));
  }

  Parts parts_;
};

/// Starts a DELETE from T's table (named remove: delete is a keyword). Continue with
/// where(cond) or all_rows().
///
/// Example: `pgorm::remove<User>().where(pgorm::col<&User::id> == 1).exec(conn);`
template <class T>
auto remove() {
  static_assert(reflectable<T>, "pgorm: remove<T>() takes a struct that maps to a table");
  using parts = detail::clause_set<detail::absent, detail::absent, detail::absent, detail::absent>;
  return remove_query<detail::unbound, T, parts>(nullptr, parts{});
}

}  // namespace pgorm
