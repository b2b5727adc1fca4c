// SPDX-License-Identifier: MIT
#pragma once

/// \file
/// UNION, UNION ALL, INTERSECT and EXCEPT of selects with the same row type: a query type of its
/// own that wraps the two operands (as counted.hpp wraps one select), so that a select that
/// does not use them carries no extra part. Made by select_query::union_(), union_all(),
/// intersect(), except() (and their _all forms), which chain; order_by(), limit() and offset()
/// apply to the whole result. See docs/queries.md, "UNION, INTERSECT, EXCEPT".

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>

#include "pgorm/expr.hpp"
#include "pgorm/params.hpp"
#include "pgorm/query/clauses.hpp"
#include "pgorm/query/runner.hpp"
#include "pgorm/query/select.hpp"

namespace pgorm {

namespace detail {

/// The keyword of a set operation.
template <set_op Op>
inline constexpr std::string_view set_op_keyword = Op == set_op::union_          ? " UNION "
                                                   : Op == set_op::union_all     ? " UNION ALL "
                                                   : Op == set_op::intersect     ? " INTERSECT "
                                                   : Op == set_op::intersect_all ? " INTERSECT ALL "
                                                   : Op == set_op::except        ? " EXCEPT "
                                                                                 : " EXCEPT ALL ";

/// `(left) UNION (right)` and the other operations: a clause over two queries (selects or
/// compound queries), each parenthesized so that each may keep its own ORDER BY and LIMIT.
template <set_op Op, class L, class R>
struct set_operation : renders_from<set_operation<Op, L, R>> {
  using tables = type_list<>;
  static constexpr bool is_static = L::is_static && R::is_static;
  /// It reads when both operands read (neither locks rows).
  static constexpr sql_effect effect =
      L::effect == sql_effect::reads && R::effect == sql_effect::reads ? sql_effect::reads
                                                                       : sql_effect::writes;
  static constexpr bool may_write = effect != sql_effect::reads;
  static constexpr bool is_union = Op == set_op::union_ || Op == set_op::union_all;
  L left;
  R right;

  template <class W, class S>
  static constexpr void render_from(W& w, const S& self) {
    // The operands' rows are read as the compound's: no client ordering of included relations.
    const bool outer_order = w.server_order;
    w.server_order = true;
    w.append('(');
    render_expr(w, part(self, &set_operation::left));
    w.append(')');
    w.append(set_op_keyword<Op>);
    w.append('(');
    render_expr(w, part(self, &set_operation::right));
    w.append(')');
    w.server_order = outer_order;
  }
  void bind(param_list& p) const {
    left.bind(p);
    right.bind(p);
  }
};

/// The parts of a compound query, in the order it renders them.
enum class compound_part : std::size_t {
  operation,  ///< set_operation
  order,      ///< std::tuple of order_term over output columns
  limit,      ///< count_clause<" LIMIT ">, or absent
  offset,     ///< count_clause<" OFFSET ">, or absent
};

/// Whether an ORDER BY item of a compound query names an output column: a plain column.
template <class O>
inline constexpr bool orders_by_column_v = false;
template <class E, sort_direction D, nulls_order N>
inline constexpr bool orders_by_column_v<order_term<E, D, N>> = requires {
  E::member;
  typename E::table;
};

template <class Terms>
inline constexpr bool orders_by_columns_v = false;
template <class... O>
inline constexpr bool orders_by_columns_v<std::tuple<O...>> = (orders_by_column_v<O> && ...);

}  // namespace detail

/// A UNION / UNION ALL / INTERSECT / EXCEPT of two queries with the same row type, under
/// construction: every method returns a new builder. Run it like a select (all(), one(),
/// first(), each(), exec(), to_sql(), sql()); order_by(), limit() and offset() apply to the
/// combined rows, and union_() etc. combine it further.
template <class Exec, class Parts>
class compound_query : public detail::builder<compound_query<Exec, Parts>, Exec> {
  using part = detail::compound_part;
  using Operation = typename Parts::template type<part::operation>;
  using Order = typename Parts::template type<part::order>;

 public:
  static constexpr bool is_pgorm_compound = true;
  /// Whether the outermost operation is UNION or UNION ALL (what with_recursive() takes).
  static constexpr bool is_union = Operation::is_union;
  /// The C++ type of one row: the operands' (they have the same).
  using row_type = typename std::remove_cvref_t<decltype(std::declval<Operation>().left)>::row_type;
  static constexpr std::size_t column_count =
      std::remove_cvref_t<decltype(std::declval<Operation>().left)>::column_count;
  /// Whether the SQL text depends only on the type.
  static constexpr bool is_static = Parts::is_static;
  /// What the operation does: it reads, unless an operand locks rows.
  static constexpr sql_effect effect = Operation::effect;

  compound_query(Exec* exec, Parts&& parts) : base(exec), parts_(std::move(parts)) {}

  /// ORDER BY over the combined rows: output columns named by `pgorm::col<&T::m>` (rendered
  /// by their name alone, as PostgreSQL requires after UNION), optionally .asc() / .desc()
  /// with .nulls_first() / .nulls_last().
  template <class... O>
  auto order_by(const O&... items) const {
    static_assert(sizeof...(O) > 0, "pgorm: order_by() needs at least one column");
    using terms = std::tuple<decltype(as_order(items))...>;
    constexpr bool columns_only = detail::orders_by_columns_v<terms>;
    static_assert(
        columns_only,
        "pgorm: order_by() of a union, intersect or except names output columns, such as "
        "pgorm::col<&User::email> or pgorm::col<&User::email>.desc(); PostgreSQL does not "
        "allow expressions there (select the expression in both queries instead)");
    static_assert(std::tuple_size_v<Order> == 0,
                  "pgorm: order_by() was already called; list every column in one order_by()");
    return with_part(detail::part_at<part::order>, terms(as_order(items)...));
  }
  /// LIMIT n over the combined rows (sent as a parameter).
  auto limit(std::int64_t n) const {
    return with_part(detail::part_at<part::limit>, detail::count_clause<" LIMIT ">{{}, n});
  }
  /// OFFSET n over the combined rows (sent as a parameter).
  auto offset(std::int64_t n) const {
    return with_part(detail::part_at<part::offset>, detail::count_clause<" OFFSET ">{{}, n});
  }

  /// (this) UNION (other): the rows of both, duplicates removed.
  template <class Q>
  auto union_(const Q& other) const {
    return combined<detail::set_op::union_>(other);
  }
  /// (this) UNION ALL (other): the rows of both, duplicates kept.
  template <class Q>
  auto union_all(const Q& other) const {
    return combined<detail::set_op::union_all>(other);
  }
  /// (this) INTERSECT (other): the rows in both.
  template <class Q>
  auto intersect(const Q& other) const {
    return combined<detail::set_op::intersect>(other);
  }
  /// (this) INTERSECT ALL (other).
  template <class Q>
  auto intersect_all(const Q& other) const {
    return combined<detail::set_op::intersect_all>(other);
  }
  /// (this) EXCEPT (other): the rows of this that are not in other.
  template <class Q>
  auto except(const Q& other) const {
    return combined<detail::set_op::except>(other);
  }
  /// (this) EXCEPT ALL (other).
  template <class Q>
  auto except_all(const Q& other) const {
    return combined<detail::set_op::except_all>(other);
  }

 private:
  using base = detail::builder<compound_query, Exec>;
  friend base;
  friend class detail::runner<compound_query, Exec>;
  friend struct detail::renders_from<compound_query>;
  template <class, class>
  friend class compound_query;
  template <class, class>
  friend class select_query;
  using base::with_part;

  template <detail::set_op Op, class Q>
  auto combined(const Q& other) const {
    constexpr bool query = detail::is_select_query<Q>::value || detail::is_compound_query<Q>::value;
    static_assert(query,
                  "pgorm: union_(), union_all(), intersect() and except() take a select "
                  "(pgorm::select<T>() or pgorm::select(cols...)) or another union");
    if constexpr (query) {
      if constexpr (Q::check_run()) return detail::combine<Op>(this->bound_to(), *this, other);
    }
  }

  template <class O>
  static constexpr auto as_order(const O& item) {
    if constexpr (order_item<O>) {
      return item;
    } else {
      return order_term<O>{{}, item};
    }
  }

  // The operands checked their own rules when they were combined.
  static consteval bool check_run() { return true; }
  static consteval bool check_reads_rows() { return true; }

  template <class W, class S>
  static constexpr void render_from(W& w, const S& q) {
    const auto& parts = detail::part(q, &compound_query::parts_);
    detail::render_expr(w, detail::clause<part::operation>(parts));
    if constexpr (std::tuple_size_v < Order >> 0) {
      // Output columns: by their name alone.
      const bool outer_qualify = w.qualify;
      w.qualify = false;
      w.append(" ORDER BY ");
      detail::render_comma_list(w, detail::clause<part::order>(parts));
      w.qualify = outer_qualify;
    }
    detail::render_expr(w, detail::clause<part::limit>(parts));
    detail::render_expr(w, detail::clause<part::offset>(parts));
  }

  Parts parts_;
};

namespace detail {

/// `left Op right` as a compound_query with executor `exec` (left's); both are complete
/// queries (their own rules were checked). Checks that they have the same row type.
template <set_op Op, class E, class L, class R>
auto combine(E* exec, const L& left, const R& right) {
  constexpr bool same_rows = std::is_same_v<typename L::row_type, typename R::row_type>;
  static_assert(same_rows,
                "pgorm: both sides of union_(), intersect() and except() must have the same "
                "row type (the same columns, of the same types, in the same order)");
  if constexpr (same_rows) {
    using op = set_operation<Op, L, R>;
    using parts = clause_set<op, std::tuple<>, absent, absent>;
    return compound_query<E, parts>(exec, parts{{{op{{}, left, right}}, {}, {}, {}}});
  }
}

}  // namespace detail

}  // namespace pgorm
