// SPDX-License-Identifier: MIT
#pragma once

/// \file
/// SELECT: whole rows into structs, columns into tuples, joins, where, group by/having,
/// order by, limit/offset, keyset pagination, subqueries, CTEs and row locks.
/// See docs/queries.md.

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "pgorm/expr.hpp"
#include "pgorm/query/clauses.hpp"
#include "pgorm/query/common.hpp"
#include "pgorm/query/counted.hpp"
#include "pgorm/query/keyset.hpp"
#include "pgorm/query/runner.hpp"
#include "pgorm/row.hpp"
#include "pgorm/table.hpp"

namespace pgorm {

namespace detail {

inline constexpr unsigned lock_for_update = 1U;
inline constexpr unsigned lock_for_share = 2U;
inline constexpr unsigned lock_skip_locked = 4U;
inline constexpr unsigned lock_nowait = 8U;

/// Select list: all columns of these tables (table_refs), one struct (or tuple) per row. A
/// clause (query/clauses.hpp) with a static text.
template <class... Refs>
struct whole_rows : static_clause {
  static constexpr std::size_t column_count = (table<typename Refs::type>::column_count + ...);
  using tables = type_list<Refs...>;
  static constexpr bool has_aggregate = false;
  static constexpr bool has_bare_column = true;

  template <class W>
  static constexpr void render(W& w) {
    bool first = true;
    (
        [&] {
          for (const column_info& c : table<typename Refs::type>::columns) {
            if (!first) w.append(", ");
            first = false;
            if (w.qualify) {
              Refs::render_qualifier(w);
              w.append('.');
            }
            w.append(c.sql_name);
          }
        }(),
        ...);
  }
};

/// Select list: the fields of P, taken by name from the columns of the FROM table `From` (a
/// table_ref). A clause with a static text.
template <class P, class From>
struct mapped_row : static_clause {
  static constexpr std::size_t column_count = field_count_v<P>;
  static constexpr bool has_aggregate = false;
  static constexpr bool has_bare_column = true;

  template <class W>
  static constexpr void render(W& w);
};

/// Select list: these expressions, one std::tuple per row. A clause.
template <class... E>
struct expr_list : renders_from<expr_list<E...>> {
  static constexpr std::size_t column_count = sizeof...(E);
  using tables = list_union_t<type_list<>, typename E::tables...>;
  static constexpr bool is_static = (E::is_static && ...);
  static constexpr bool has_aggregate = (E::is_aggregate || ...);
  static constexpr bool may_write = (E::may_write || ...);
  static constexpr bool has_bare_column = (E::has_bare_column || ...);
  std::tuple<E...> exprs;

  template <class W, class S>
  static constexpr void render_from(W& w, const S& self) {
    render_comma_list(w, part(self, &expr_list::exprs));
  }
  void bind(param_list& p) const { bind_each(p, exprs); }
};

/// A keyword a select has or not (DISTINCT): a clause that renders `Text` and binds nothing.
template <fixed_string Text>
struct keyword_clause : static_clause {
  template <class W>
  static constexpr void render(W& w) {
    w.append(Text.view());
  }
};

/// DISTINCT ON (e, ...): one row per distinct value of these expressions, the first in ORDER
/// BY order. A clause.
template <class... E>
struct distinct_on_clause : renders_from<distinct_on_clause<E...>> {
  using exprs_type = std::tuple<E...>;
  using tables = list_union_t<type_list<>, typename E::tables...>;
  static constexpr bool is_static = (E::is_static && ...);
  static constexpr bool may_write = (E::may_write || ...);
  std::tuple<E...> exprs;

  template <class W, class S>
  static constexpr void render_from(W& w, const S& self) {
    w.append("DISTINCT ON (");
    render_comma_list(w, part(self, &distinct_on_clause::exprs));
    w.append(") ");
  }
  void bind(param_list& p) const { bind_each(p, exprs); }
};

/// Whether the ORDER BY terms `Order` start with the DISTINCT ON expressions of `Distinct`, as
/// PostgreSQL requires: each of the first min(n, size of Order) terms orders by one of them (n
/// expressions). True for any other distinct part.
template <class X, class... E>
inline constexpr bool one_of_v = (std::is_same_v<X, E> || ...);
template <class Distinct, class Order>
struct order_starts_with_distinct : std::true_type {};
template <class... E, class... O>
struct order_starts_with_distinct<distinct_on_clause<E...>, std::tuple<O...>> {
  static constexpr bool value = [] {
    constexpr bool in_distinct[] = {true, one_of_v<typename O::expr_type, E...>...};
    constexpr std::size_t n = sizeof...(E) < sizeof...(O) ? sizeof...(E) : sizeof...(O);
    for (std::size_t i = 0; i != n; ++i) {
      if (!in_distinct[i + 1]) return false;
    }
    return true;
  }();
};

/// ` LIMIT $n` or ` OFFSET $n` (`Keyword`), the count sent as a parameter.
template <fixed_string Keyword>
struct count_clause : static_clause {
  std::int64_t count = 0;
  template <class W>
  static constexpr void render(W& w) {
    w.append(Keyword.view());
    w.placeholder();
  }
  void bind(param_list& p) const { p.add(count); }
};

/// The row locks of a select (lock_* bits): FOR UPDATE, FOR SHARE, SKIP LOCKED, NOWAIT.
template <unsigned Bits>
struct row_lock : static_clause {
  template <class W>
  static constexpr void render(W& w) {
    if constexpr ((Bits & lock_for_update) != 0) w.append(" FOR UPDATE");
    if constexpr ((Bits & lock_for_share) != 0) w.append(" FOR SHARE");
    if constexpr ((Bits & lock_skip_locked) != 0) w.append(" SKIP LOCKED");
    if constexpr ((Bits & lock_nowait) != 0) w.append(" NOWAIT");
  }
};
/// The lock bits of a select's lock part (none when absent).
template <class Lock>
inline constexpr unsigned lock_bits_v = 0;
template <unsigned Bits>
inline constexpr unsigned lock_bits_v<row_lock<Bits>> = Bits;

enum class join_kind { inner, left, right, full, cross };

/// The keyword of a join of kind K.
template <join_kind K>
inline constexpr std::string_view join_keyword = K == join_kind::inner   ? " JOIN "
                                                 : K == join_kind::left  ? " LEFT JOIN "
                                                 : K == join_kind::right ? " RIGHT JOIN "
                                                 : K == join_kind::full  ? " FULL JOIN "
                                                                         : " CROSS JOIN ";

/// JOIN / LEFT / RIGHT / FULL JOIN Ref ON cond: a clause (tables, is_static, render, bind;
/// query/clauses.hpp).
template <join_kind Kind, class Ref, class Cond>
struct join_clause : renders_from<join_clause<Kind, Ref, Cond>> {
  using ref = Ref;
  /// The tables its ON condition reads.
  using tables = typename Cond::tables;
  static constexpr bool is_static = Cond::is_static;
  static constexpr bool may_write = Cond::may_write;
  static constexpr join_kind kind = Kind;
  Cond on;

  template <class W, class S>
  static constexpr void render_from(W& w, const S& self) {
    w.append(join_keyword<Kind>);
    Ref::render_from(w);
    w.append(" ON ");
    render_expr(w, part(self, &join_clause::on));
  }
  void bind(param_list& p) const { on.bind(p); }
};

/// WITH name (columns) AS (query): the CTE's rows have the fields of struct P, and P is usable
/// as a table in from<P>() and join<P>(). A clause, as join_clause. `Recursive`: the query
/// reads P itself (with_recursive<P>()), which makes the statement's WITH a WITH RECURSIVE.
template <class P, class Q, bool Recursive = false>
struct cte_clause : renders_from<cte_clause<P, Q, Recursive>> {
  using row = P;
  static constexpr bool recursive = Recursive;
  /// A CTE's query reads only its own tables.
  using tables = type_list<>;
  static constexpr bool is_static = Q::is_static;
  /// The CTE's select may change data: it locks rows or calls a function that may write.
  static constexpr bool may_write = Q::effect != sql_effect::reads;
  Q query;

  template <class W, class S>
  static constexpr void render_from(W& w, const S& self) {
    w.append(table<P>::qualified_name);
    w.append(" (");
    w.append(table<P>::select_list);
    w.append(") AS (");
    render_expr(w, part(self, &cte_clause::query));
    w.append(')');
  }
  void bind(param_list& p) const { query.bind(p); }
};

/// Whether any CTE of the std::tuple `Ctes` is recursive.
template <class Ctes>
inline constexpr bool any_recursive_v = false;
template <class... C>
inline constexpr bool any_recursive_v<std::tuple<C...>> = (C::recursive || ...);

/// CROSS JOIN Ref: every row of Ref with every row before it. A clause with a static text.
template <class Ref>
struct cross_join_clause : static_clause {
  using ref = Ref;
  static constexpr join_kind kind = join_kind::cross;
  template <class W>
  static constexpr void render(W& w) {
    w.append(join_keyword<join_kind::cross>);
    Ref::render_from(w);
  }
};

template <class Cols, class Nullable>
struct row_of;
template <class Ref, class Nullable>
struct row_of<whole_rows<Ref>, Nullable> {
  using type = maybe_optional_t<typename Ref::type, list_contains_v<Nullable, Ref>>;
};
template <class R0, class R1, class... Refs, class Nullable>
struct row_of<whole_rows<R0, R1, Refs...>, Nullable> {
  using type =
      std::tuple<maybe_optional_t<typename R0::type, list_contains_v<Nullable, R0>>,
                 maybe_optional_t<typename R1::type, list_contains_v<Nullable, R1>>,
                 maybe_optional_t<typename Refs::type, list_contains_v<Nullable, Refs>>...>;
};
template <class P, class From, class Nullable>
struct row_of<mapped_row<P, From>, Nullable> {
  using type = maybe_optional_t<P, list_contains_v<Nullable, From>>;
};
template <class... E, class Nullable>
struct row_of<expr_list<E...>, Nullable> {
  using type = std::tuple<
      maybe_optional_t<typename E::value_type,
                       list_intersects_v<typename E::tables, Nullable> && !E::is_aggregate>...>;
};

/// The tables a row may lack after the joins J... (in order), the tables Before preceding
/// them and Nullable already nullable: a left join's table, every table before a right join,
/// both sides of a full join.
template <class Before, class Nullable, class... J>
struct nullable_after {
  using type = Nullable;
};
template <class Before, class Nullable, class J, class... Rest>
struct nullable_after<Before, Nullable, J, Rest...> {
  using ref = type_list<typename J::ref>;
  using added = std::conditional_t<
      J::kind == join_kind::left, ref,
      std::conditional_t<
          J::kind == join_kind::right, Before,
          std::conditional_t<J::kind == join_kind::full, list_union_t<Before, ref>, type_list<>>>>;
  using type = typename nullable_after<list_union_t<Before, ref>, list_union_t<Nullable, added>,
                                       Rest...>::type;
};

template <class From, class Joins>
struct join_refs;
template <class From, class... J>
struct join_refs<From, std::tuple<J...>> {
  using all = type_list<typename J::ref...>;
  using nullable = typename nullable_after<type_list<From>, type_list<>, J...>::type;
};

/// True only for void: "no table is missing". Its argument is the culprit in diagnostics.
template <class MissingTable>
struct table_in_query : std::false_type {};
template <>
struct table_in_query<void> : std::true_type {};

/// FROM of a select(cols...) before from<T>(): the first table its first column reads.
struct no_from {
  using type = void;
  template <class W>
  static constexpr void render_qualifier(W& /*w*/) {}
  template <class W>
  static constexpr void render_from(W& /*w*/) {}
};
template <class List>
struct first_of {
  using type = no_from;
};
template <class T0, class... Ts>
struct first_of<type_list<T0, Ts...>> {
  using type = T0;
};

/// Index of the column of `U` whose C++ field is named `name`; a compile error when none.
template <class U>
constexpr std::size_t field_named(std::string_view name) {
  // An index loop rather than table<U>::find_field(): g++ 12 with -fsanitize=undefined refuses
  // to compare its pointer result with nullptr during constant evaluation.
  for (std::size_t i = 0; i != table<U>::column_count; ++i) {
    if (table<U>::columns[i].field_name == name) return i;
  }
  return static_cast<std::size_t>(-1);
}

template <class P, class U, std::size_t... I>
consteval bool fields_found(std::index_sequence<I...>) {
  return ((field_named<U>(field_names_v<P>[I]) != static_cast<std::size_t>(-1)) && ...);
}

template <class P, class U, std::size_t... I>
consteval bool fields_compatible(std::index_sequence<I...>) {
  return (std::is_same_v<remove_optional_t<remove_defaulted_t<field_type_t<P, I>>>,
                         remove_optional_t<remove_defaulted_t<
                             field_type_t<U, field_named<U>(field_names_v<P>[I])>>>> &&
          ...);
}

template <class P, class From>
template <class W>
constexpr void mapped_row<P, From>::render(W& w) {
  using U = typename From::type;
  for (std::size_t i = 0; i != field_count_v<P>; ++i) {
    if (i != 0) w.append(", ");
    const column_info& source = table<U>::columns[field_named<U>(field_names_v<P>[i])];
    const column_info& target = table<P>::columns[i];
    if (w.qualify) {
      From::render_qualifier(w);
      w.append('.');
    }
    w.append(source.sql_name);
    if (source.name != target.name) {
      w.append(" AS ");
      w.append(target.sql_name);
    }
  }
}

/// The parts of a select, by position in its clause_set: the order in which it renders them.
enum class select_part : std::size_t {
  ctes,      ///< std::tuple of cte_clause
  distinct,  ///< keyword_clause<"DISTINCT ">, distinct_on_clause, or absent
  cols,      ///< the select list: whole_rows, mapped_row or expr_list
  from,      ///< the FROM table: a table_ref (no_from before from<T>() of select(cols...))
  joins,     ///< std::tuple of join_clause
  where,     ///< a condition, or absent
  keyset,    ///< keyset_clause (after(), before(), after_key(), before_key()), or absent
  group,     ///< std::tuple of GROUP BY expressions
  having,    ///< a condition, or absent
  order,     ///< std::tuple of order_term
  limit,     ///< count_clause<" LIMIT ">, or absent
  offset,    ///< count_clause<" OFFSET ">, or absent
  lock,      ///< row_lock, or absent
};

/// The parts of a new select of `cols` from `From`: every other clause absent.
template <class Cols, class From>
using initial_parts_t = clause_set<std::tuple<>, absent, Cols, From, std::tuple<>, absent, absent,
                                   std::tuple<>, absent, std::tuple<>, absent, absent, absent>;
template <class From, class Cols>
initial_parts_t<Cols, From> initial_parts(Cols cols) {
  return {{{}, {}, {std::move(cols)}, {From{}}, {}, {}, {}, {}, {}, {}, {}, {}, {}}};
}

}  // namespace detail

template <class Exec, class Parts>
class select_query;
template <class Exec, class Parts>
class compound_query;

namespace detail {
/// Adds included relations to a select list: defined in pgorm/query/include.hpp.
template <class From, class Cols>
struct include_hook;

template <class T>
struct is_select_query : std::false_type {};
template <class X, class P>
struct is_select_query<select_query<X, P>> : std::true_type {};
template <class T>
struct is_compound_query : std::false_type {};
template <class X, class P>
struct is_compound_query<compound_query<X, P>> : std::true_type {};
/// Whether Q is a UNION or UNION ALL (a compound_query): what with_recursive() takes.
template <class Q>
inline constexpr bool is_union_query_v = false;
template <class X, class P>
inline constexpr bool is_union_query_v<compound_query<X, P>> = compound_query<X, P>::is_union;

/// The set operations of a compound_query (query/compound.hpp).
enum class set_op { union_, union_all, intersect, intersect_all, except, except_all };
/// `left Op right` as a compound_query with executor `exec`: query/compound.hpp.
template <set_op Op, class E, class L, class R>
auto combine(E* exec, const L& left, const R& right);
}  // namespace detail

/// A SELECT under construction. Every method returns a new builder (the old one is unchanged);
/// the clause types record the query's shape, so its SQL text is computed at compile time.
/// Made by pgorm::select<T>(), pgorm::select(cols...) or conn.select<T>().
///
/// Run it with all() (std::vector), one() (exactly one row; not_found for none), first()
/// (std::optional), exec() (the row count), each(fn) (streams) or page(n) (keyset
/// pagination); see detail::runner.
template <class Exec, class Parts>
class select_query : public detail::builder<select_query<Exec, Parts>, Exec> {
  using part = detail::select_part;
  using Cols = typename Parts::template type<part::cols>;
  using From = typename Parts::template type<part::from>;
  using Joins = typename Parts::template type<part::joins>;
  using Where = typename Parts::template type<part::where>;
  using Group = typename Parts::template type<part::group>;
  using Having = typename Parts::template type<part::having>;
  using Order = typename Parts::template type<part::order>;
  using Ctes = typename Parts::template type<part::ctes>;
  using Keyset = typename Parts::template type<part::keyset>;
  using Distinct = typename Parts::template type<part::distinct>;
  static constexpr unsigned lock_bits =
      detail::lock_bits_v<typename Parts::template type<part::lock>>;

  using join_info = detail::join_refs<From, Joins>;

  /// The order a page walks: order_by(), then the primary key columns it does not name.
  using keyset_order = detail::keyset_order<From, Order>;

 public:
  /// The type of a cursor for after() / before(): a row's values of the order_by() columns,
  /// then of the primary key columns order_by() does not name, as a tuple.
  using cursor_t = typename detail::cursor_of_order<typename keyset_order::type>::type;

  static constexpr bool is_pgorm_select = true;

  /// Every table in the query: FROM, then the joins in order.
  using own_tables = detail::list_union_t<detail::type_list<From>, typename join_info::all>;
  /// Tables whose columns may all be NULL: the right side of a left join, the tables before a
  /// right join, both sides of a full join.
  using nullable_tables = typename join_info::nullable;
  /// The C++ type of one result row.
  using row_type = typename detail::row_of<Cols, nullable_tables>::type;

  /// The step after decoding a row, which every terminal takes (detail::settle_row): with
  /// include(), the related rows of relations ordered on the client are sorted
  /// (query/include.hpp, relation_sql::client_order_keys).
  static void settle_row(row_type& row) requires requires(row_type& r) { Cols::settle(r); }
  { Cols::settle(row); }

  /// Tables referenced by the query's expressions (select list, joins, where, ...).
  using referenced_tables = typename Parts::tables;

  /// Tables a subquery reads from its enclosing query (correlated subqueries).
  using outer_tables = detail::list_difference_t<referenced_tables, own_tables>;

  static constexpr std::size_t column_count = Cols::column_count;
  static constexpr bool is_static = Parts::is_static;
  /// A select only reads, unless it (or a CTE of it) locks rows (for_update(), for_share()) or
  /// an expression of it (select list, join, where, group, having, order, a subquery) calls a
  /// function that may change data (pgorm::fn<> of a name not known to be read-only).
  static constexpr sql_effect effect =
      lock_bits == 0 && !Parts::may_write ? sql_effect::reads : sql_effect::writes;

  select_query(Exec* exec, Parts&& parts) : base(exec), parts_(std::move(parts)) {}

  // ---- clauses ----

  /// FROM U: the table to read; `select<P>().from<U>()` reads P's fields from U by name.
  template <class U, detail::fixed_string Alias = "">
  auto from() const {
    using ref = table_ref<U, Alias>;
    if constexpr (std::is_same_v<Cols, detail::whole_rows<From>>) {
      using row = typename From::type;
      if constexpr (std::is_same_v<row, U>) {
        return with_parts(detail::part_at<part::cols>, detail::whole_rows<ref>{},
                          detail::part_at<part::from>, ref{});
      } else {
        check_mapped<row, U>();
        return with_parts(detail::part_at<part::cols>, detail::mapped_row<row, ref>{},
                          detail::part_at<part::from>, ref{});
      }
    } else {
      return with_part(detail::part_at<part::from>, ref{});
    }
  }

  /// INNER JOIN U ON cond.
  template <class U, detail::fixed_string Alias = "", class C>
  auto join(const C& on) const {
    return add_join<detail::join_kind::inner, table_ref<U, Alias>>(on);
  }
  /// LEFT JOIN U ON cond: U's columns come back as std::optional.
  template <class U, detail::fixed_string Alias = "", class C>
  auto left_join(const C& on) const {
    return add_join<detail::join_kind::left, table_ref<U, Alias>>(on);
  }

  /// RIGHT JOIN U ON cond: every row of U, with or without a match; the tables before it (the
  /// FROM table and earlier joins) come back as std::optional.
  template <class U, detail::fixed_string Alias = "", class C>
  auto right_join(const C& on) const {
    return add_join<detail::join_kind::right, table_ref<U, Alias>>(on);
  }
  /// FULL JOIN U ON cond: every row of both sides; both come back as std::optional.
  template <class U, detail::fixed_string Alias = "", class C>
  auto full_join(const C& on) const {
    return add_join<detail::join_kind::full, table_ref<U, Alias>>(on);
  }
  /// CROSS JOIN U: every row before it paired with every row of U (no ON condition).
  template <class U, detail::fixed_string Alias = "">
  auto cross_join() const {
    using ref = table_ref<U, Alias>;
    static_assert(!detail::list_contains_v<own_tables, ref>,
                  "pgorm: this table is already in the query; join it again under an alias: "
                  "join<User, \"other\">(...) with pgorm::col<&User::id, \"other\">");
    return with_part(
        detail::part_at<part::joins>,
        std::tuple_cat(get<part::joins>(), std::tuple<detail::cross_join_clause<ref>>{}));
  }

  /// Loads related rows with each row, in the same statement (Prisma's `include`, Drizzle's
  /// `with`): relations such as pgorm::rel<&Session::user_id>.where(...).limit(n); rows come
  /// back as pgorm::related. Needs pgorm/query/include.hpp (docs/queries.md, "Relations").
  template <class... R>
  auto include(const R&... relations) const {
    return with_part(detail::part_at<part::cols>,
                     detail::include_hook<From, Cols>::add(get<part::cols>(), relations...));
  }
  /// include() of the relations to these tables, each through the one foreign key between it
  /// and the FROM table: `select<User>().include<Session>()`.
  template <class... Tables>
  auto include() const {
    return with_part(
        detail::part_at<part::cols>,
        detail::include_hook<From, Cols>::template add_tables<Tables...>(get<part::cols>()));
  }

  /// WHERE cond. Combine conditions with && and ||, rather than calling where() twice.
  template <class C>
  auto where(C&& cond) const {
    static_assert(expression<C>,
                  "pgorm: where() takes an expression such as pgorm::col<&User::age> > 18; wrap "
                  "run-time values in pgorm::val(v)");
    static_assert(condition<C>,
                  "pgorm: where() needs a boolean condition; compare the column (==, <, like(), "
                  "is_null()) instead of passing it alone");
    static_assert(!detail::present_v<Where>,
                  "pgorm: where() was already called; combine the conditions with && or || in "
                  "one where()");
    // Forwarded: a condition built in the call moves into the statement (its string values
    // are not copied again).
    return with_part(detail::part_at<part::where>, std::forward<C>(cond));
  }

  /// GROUP BY e, ...
  template <class... E>
  auto group_by(const E&... exprs) const {
    static_assert(sizeof...(E) > 0, "pgorm: group_by() needs at least one expression");
    static_assert((expression<E> && ...),
                  "pgorm: group_by() takes columns or expressions, e.g. pgorm::col<&User::id>");
    static_assert(std::tuple_size_v<Group> == 0, "pgorm: group_by() was already called");
    return with_part(detail::part_at<part::group>, std::tuple<E...>(exprs...));
  }

  /// HAVING cond (a condition over aggregates).
  template <class C>
  auto having(const C& cond) const {
    static_assert(condition<C>,
                  "pgorm: having() needs a boolean condition, e.g. pgorm::count() > 1");
    static_assert(!detail::present_v<Having>, "pgorm: having() was already called");
    return with_part(detail::part_at<part::having>, cond);
  }

  /// ORDER BY: columns or expressions (ascending), or x.asc() / x.desc() with
  /// .nulls_first() / .nulls_last().
  template <class... O>
  auto order_by(const O&... items) const {
    static_assert(sizeof...(O) > 0, "pgorm: order_by() needs at least one column");
    static_assert(((expression<O> || order_item<O>)&&...),
                  "pgorm: order_by() takes columns or expressions (pgorm::col<&User::name>), "
                  "optionally with .asc() or .desc()");
    static_assert(std::tuple_size_v<Order> == 0,
                  "pgorm: order_by() was already called; list every column in one order_by()");
    using terms = std::tuple<decltype(as_order(items))...>;
    return with_part(detail::part_at<part::order>, terms(as_order(items)...));
  }

  /// LIMIT n (sent as a parameter).
  auto limit(std::int64_t n) const {
    return with_part(detail::part_at<part::limit>, detail::count_clause<" LIMIT ">{{}, n});
  }
  /// OFFSET n (sent as a parameter). Prefer after() for deep pages.
  auto offset(std::int64_t n) const {
    return with_part(detail::part_at<part::offset>, detail::count_clause<" OFFSET ">{{}, n});
  }
  /// SELECT DISTINCT.
  auto distinct() const {
    static_assert(!detail::present_v<Distinct>,
                  "pgorm: distinct() or distinct_on() was already called; call one of them once");
    return with_part(detail::part_at<part::distinct>, detail::keyword_clause<"DISTINCT ">{});
  }
  /// SELECT DISTINCT ON (e, ...): one row per distinct value of these expressions (Prisma's
  /// `distinct`), the first in ORDER BY order. order_by() must start with the same expressions
  /// (checked at compile time; then order the rest to choose which row each group keeps).
  template <class... E>
  auto distinct_on(const E&... exprs) const {
    static_assert(sizeof...(E) > 0, "pgorm: distinct_on() needs at least one expression");
    static_assert((expression<E> && ...),
                  "pgorm: distinct_on() takes columns or expressions, e.g. "
                  "pgorm::col<&Session::user_id>");
    static_assert(!detail::present_v<Distinct>,
                  "pgorm: distinct() or distinct_on() was already called; call one of them once");
    return with_part(detail::part_at<part::distinct>,
                     detail::distinct_on_clause<E...>{{}, {exprs...}});
  }
  /// FOR UPDATE: lock the selected rows until the transaction ends.
  auto for_update() const { return with_lock<detail::lock_for_update>(); }
  /// FOR SHARE.
  auto for_share() const { return with_lock<detail::lock_for_share>(); }
  /// SKIP LOCKED (with for_update / for_share): skip rows other transactions hold, e.g. for a
  /// job queue.
  auto skip_locked() const {
    static_assert((lock_bits & (detail::lock_for_update | detail::lock_for_share)) != 0,
                  "pgorm: skip_locked() goes after for_update() or for_share()");
    return with_lock<detail::lock_skip_locked>();
  }
  /// NOWAIT (with for_update / for_share): fail instead of waiting for a lock.
  auto nowait() const {
    static_assert((lock_bits & (detail::lock_for_update | detail::lock_for_share)) != 0,
                  "pgorm: nowait() goes after for_update() or for_share()");
    return with_lock<detail::lock_nowait>();
  }

  /// WITH: `P`'s rows are the result of `query` (a select, or a union of selects); select
  /// from<P>() or join<P>() to use them.
  template <class P, class Q>
  auto with(const Q& query) const {
    static_assert(detail::is_select_query<Q>::value || detail::is_compound_query<Q>::value,
                  "pgorm: with<P>() takes a select builder for the rows of P");
    static_assert(Q::column_count == field_count_v<P>,
                  "pgorm: the CTE's query must select one column per field of P, in order");
    return with_part(detail::part_at<part::ctes>,
                     std::tuple_cat(parts_.template get<part::ctes>(),
                                    std::tuple<detail::cte_clause<P, Q>>{{{}, query}}));
  }
  /// WITH RECURSIVE: `P`'s rows are `start.union_all(step)` (or union_(), which drops
  /// repeated rows and so ends cycles): the rows of `start`, then those `step` finds by
  /// reading P (the rows found so far), until it finds no more. E.g. a tree walked to any
  /// depth: step joins the table to P on the parent key. Select from<P>() or join<P>().
  template <class P, class Q>
  auto with_recursive(const Q& query) const {
    static_assert(detail::is_union_query_v<Q>,
                  "pgorm: with_recursive<P>() takes start.union_all(step) (or union_()): the "
                  "select of the first rows, then the select that reads P to find the next");
    static_assert(Q::column_count == field_count_v<P>,
                  "pgorm: the CTE's query must select one column per field of P, in order");
    return with_part(detail::part_at<part::ctes>,
                     std::tuple_cat(parts_.template get<part::ctes>(),
                                    std::tuple<detail::cte_clause<P, Q, true>>{{{}, query}}));
  }

  /// (this) UNION (other): the rows of both selects, duplicates removed. `other` has the same
  /// row type (checked at compile time); the result is a compound_query, with its own
  /// order_by(), limit() and offset() over the combined rows.
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
  /// (this) INTERSECT ALL (other): the rows in both, as many times as in both.
  template <class Q>
  auto intersect_all(const Q& other) const {
    return combined<detail::set_op::intersect_all>(other);
  }
  /// (this) EXCEPT (other): the rows of this select that are not in other.
  template <class Q>
  auto except(const Q& other) const {
    return combined<detail::set_op::except>(other);
  }
  /// (this) EXCEPT ALL (other).
  template <class Q>
  auto except_all(const Q& other) const {
    return combined<detail::set_op::except_all>(other);
  }

  /// The number of rows this query returns, counted by the server:
  /// `SELECT count(*) FROM (query) AS pgorm_count` (a limit() or distinct() inside counts).
  /// Prisma's `count({ where })`.
  std::int64_t count() const {
    if constexpr (detail::require_bound<Exec>()) {
      return count(*this->bound_to());
    } else {
      return 0;
    }
  }
  template <executor E>
  std::int64_t count(E& exec) const {
    if constexpr (check_run()) {
      return detail::wrap_select<detail::wrap_kind::count>(*this).one(exec);
    } else {
      return 0;
    }
  }
  /// Whether this query returns any row: `SELECT EXISTS (query)`; the server stops at the
  /// first row.
  bool exists() const {
    if constexpr (detail::require_bound<Exec>()) {
      return exists(*this->bound_to());
    } else {
      return false;
    }
  }
  template <executor E>
  bool exists(E& exec) const {
    if constexpr (check_run()) {
      return detail::wrap_select<detail::wrap_kind::exists>(*this).one(exec);
    } else {
      return false;
    }
  }

  /// Keyset pagination: only the rows after `cursor` in the order_by() order (made total by
  /// the primary key), which is a cursor_t (page().next) or a row. ORDER BY gets the primary
  /// key columns too. Run it with page(n), or all() for every row after the cursor.
  template <class C>
  auto after(const C& cursor) const {
    return with_cursor<false>(cursor);
  }
  /// Keyset pagination backward: only the rows before `cursor` (page().prev, or a row);
  /// page(n) then returns the n rows just before it, in order_by() order.
  template <class C>
  auto before(const C& cursor) const {
    return with_cursor<true>(cursor);
  }
  /// after() the row of the FROM table whose primary key is key... (Prisma's
  /// `cursor: { id }, skip: 1`). The statement reads that row's order_by() values itself (no
  /// extra round trip); a key that matches no row gives no rows.
  template <class... K>
  auto after_key(const K&... key) const {
    return with_key<false>(key...);
  }
  /// before() the row whose primary key is key...: see after_key().
  template <class... K>
  auto before_key(const K&... key) const {
    return with_key<true>(key...);
  }

  /// The cursor of `row`: its values of the order_by() and primary key columns. With
  /// include(), `row` is a pgorm::related or its parent row.
  template <class R>
  requires(std::is_same_v<R, row_type> ||
           std::is_same_v<R, detail::cursor_row_t<row_type>>) static cursor_t
      cursor_of(const R& row) {
    if constexpr (detail::keyset_checks<row_type, From, Order>()) {
      return detail::cursor_from_row<cursor_t>(row,
                                               static_cast<typename keyset_order::type*>(nullptr));
    } else {
      return cursor_t{};
    }
  }

 private:
  using base = detail::builder<select_query, Exec>;
  friend base;
  friend class detail::runner<select_query, Exec>;
  friend struct detail::renders_from<select_query>;
  template <class, class>
  friend class select_query;
  template <class, class>
  friend class compound_query;
  using base::with_part;
  using base::with_parts;

  template <detail::set_op Op, class Q>
  auto combined(const Q& other) const {
    constexpr bool query = detail::is_select_query<Q>::value || detail::is_compound_query<Q>::value;
    static_assert(query,
                  "pgorm: union_(), union_all(), intersect() and except() take a select "
                  "(pgorm::select<T>() or pgorm::select(cols...)) or another union");
    if constexpr (query) {
      if constexpr (check_run() && Q::check_run()) {
        return detail::combine<Op>(this->bound_to(), *this, other);
      }
    }
  }

  static constexpr bool has_keyset = detail::present_v<Keyset>;

  template <part P>
  [[nodiscard]] const auto& get() const {
    return parts_.template get<P>();
  }

  template <unsigned Bit>
  auto with_lock() const {
    return with_part(detail::part_at<part::lock>, detail::row_lock<lock_bits | Bit>{});
  }

  template <bool Backward, class Source>
  auto with_keyset(Source source) const {
    static_assert(!has_keyset,
                  "pgorm: the query already has a cursor; call after(), before(), after_key() or "
                  "before_key() once");
    using terms = typename keyset_order::type;
    using condition_terms = std::conditional_t<Backward, detail::reversed_order_t<terms>, terms>;
    return with_parts(
        detail::part_at<part::keyset>,
        detail::keyset_clause<condition_terms, Source, Backward>{{}, std::move(source)},
        detail::part_at<part::order>, keyset_order::extend(get<part::order>()));
  }

  template <bool Backward, class C>
  auto with_cursor(const C& cursor) const {
    static_assert(std::tuple_size_v<Order> > 0,
                  "pgorm: after() needs order_by() first (as do before(), after_key() and "
                  "before_key()): the cursor is a position in that order");
    if constexpr (std::tuple_size_v<Order> == 0) {
      return *this;
    } else if constexpr (detail::keyset_checks<row_type, From, Order>()) {
      constexpr bool is_cursor = std::is_same_v<C, cursor_t>;
      static_assert(is_cursor || std::is_same_v<C, row_type> ||
                        std::is_same_v<C, detail::cursor_row_t<row_type>>,
                    "pgorm: after() and before() take a cursor page() returned "
                    "(decltype(q)::cursor_t: the order_by() values, then the primary key) or a "
                    "row; for a primary key value use after_key(id)");
      if constexpr (is_cursor) {
        return with_keyset<Backward>(detail::value_cursor<cursor_t>{cursor});
      } else {
        return with_keyset<Backward>(detail::value_cursor<cursor_t>{cursor_of(cursor)});
      }
    } else {
      return *this;
    }
  }

  template <bool Backward, class... K>
  auto with_key(const K&... key) const {
    static_assert(std::tuple_size_v<Order> > 0,
                  "pgorm: after_key() and before_key() need order_by() first: the cursor is a "
                  "position in that order");
    if constexpr (std::tuple_size_v<Order> == 0) {
      return *this;
    } else if constexpr (detail::keyset_checks<row_type, From, Order>()) {
      using T = typename From::type;
      constexpr std::size_t n = table<T>::primary_key.size();
      static_assert(sizeof...(K) == n,
                    "pgorm: after_key() and before_key() take one value per primary key column "
                    "of the FROM table, in the key's order");
      if constexpr (sizeof...(K) == n) {
        using key_t = detail::primary_key_tuple_t<T>;
        return [&]<std::size_t... I>(std::index_sequence<I...>) {
          return with_keyset<Backward>(detail::key_cursor<T>{
              key_t(detail::make_value<std::tuple_element_t<I, key_t>>(key).value...)});
        }
        (std::make_index_sequence<n>{});
      } else {
        return *this;
      }
    } else {
      return *this;
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

  template <class P, class U>
  static constexpr void check_mapped() {
    constexpr bool found = detail::fields_found<P, U>(std::make_index_sequence<field_count_v<P>>{});
    static_assert(found,
                  "pgorm: every field of the selected struct must name a field of the FROM "
                  "table's struct; rename the field or select a column expression instead");
    if constexpr (found) {
      static_assert(detail::fields_compatible<P, U>(std::make_index_sequence<field_count_v<P>>{}),
                    "pgorm: a field of the selected struct has another type than the column it "
                    "is read from");
    }
  }

  template <detail::join_kind Kind, class Ref, class C>
  auto add_join(const C& on) const {
    static_assert(condition<C>,
                  "pgorm: a join needs an ON condition such as pgorm::col<&Session::user_id> == "
                  "pgorm::col<&User::id>");
    static_assert(!detail::list_contains_v<own_tables, Ref>,
                  "pgorm: this table is already in the query; join it again under an alias: "
                  "join<User, \"other\">(...) with pgorm::col<&User::id, \"other\">");
    return with_part(detail::part_at<part::joins>,
                     std::tuple_cat(get<part::joins>(),
                                    std::tuple<detail::join_clause<Kind, Ref, C>>{{{}, on}}));
  }

  // ---- what the runner asks (detail::runner) ----

  /// The rules checked when the query is complete (where it runs or renders).
  static consteval bool check_run() {
    constexpr bool has_from = !std::is_same_v<From, detail::no_from>;
    static_assert(has_from, "pgorm: this select has no table; name it with from<T>()");
    // The note under a failure names the table: table_in_query<table_ref<Session, ...>>.
    using missing = typename detail::first_missing<referenced_tables, own_tables>::type;
    static_assert(detail::table_in_query<missing>::value,
                  "pgorm: the query uses a column of a table that is not in it; add the table "
                  "with join<T>(condition), or select from it with from<T>()");
    constexpr bool grouped =
        !(Cols::has_aggregate && Cols::has_bare_column && std::tuple_size_v<Group> == 0);
    static_assert(grouped,
                  "pgorm: a column selected beside an aggregate (count, sum, ...) must be "
                  "listed in group_by(...)");
    constexpr bool distinct_first = detail::order_starts_with_distinct<Distinct, Order>::value;
    static_assert(distinct_first,
                  "pgorm: with distinct_on(a, ...), order_by() must start with the same "
                  "expressions (in any order), then order the rest: order_by(a, ..., "
                  "col<&T::created_at>.desc())");
    return has_from && detail::table_in_query<missing>::value && grouped && distinct_first;
  }
  static consteval bool check_reads_rows() { return true; }
  static consteval bool check_page() { return detail::keyset_checks<row_type, From, Order>(); }
  static consteval bool check_last_page() {
    static_assert(!has_keyset,
                  "pgorm: last_page() starts from the end of the order: call it on the query "
                  "without after() or before()");
    return !has_keyset && check_page();
  }
  /// page(n) walks backward after before() / before_key().
  static constexpr bool page_backward = detail::keyset_backward_v<Keyset>;
  /// The page starts at a cursor (rows precede it), rather than at an end of the order.
  static constexpr bool page_has_cursor = has_keyset;
  /// The query of one page of n rows: the total order (reversed for a backward page) and
  /// LIMIT n + 1, the extra row telling whether another page follows.
  template <bool Backward>
  auto page_query(std::int64_t n) const {
    auto order = keyset_order::extend(get<part::order>());
    const std::int64_t rows = n < std::numeric_limits<std::int64_t>::max() ? n + 1 : n;
    if constexpr (Backward) {
      return with_part(detail::part_at<part::order>, detail::reversed_order(order)).limit(rows);
    } else {
      return with_part(detail::part_at<part::order>, std::move(order)).limit(rows);
    }
  }

  // ---- rendering, once for the static text and the run-time one (see detail::shape) ----

  template <class W, class S>
  static constexpr void render_from(W& w, const S& q) {
    const auto& parts = detail::part(q, &select_query::parts_);
    if constexpr (std::tuple_size_v < Ctes >> 0) {
      w.append(detail::any_recursive_v<Ctes> ? "WITH RECURSIVE " : "WITH ");
      detail::render_comma_list(w, detail::clause<part::ctes>(parts));
      w.append(' ');
    }
    const bool outer_qualify = w.qualify;
    w.qualify = detail::list_union_t<own_tables, outer_tables>::size > 1;
    w.append("SELECT ");
    detail::render_expr(w, detail::clause<part::distinct>(parts));
    detail::render_expr(w, detail::clause<part::cols>(parts));
    w.append(" FROM ");
    From::render_from(w);
    detail::render_each(w, detail::clause<part::joins>(parts));
    if constexpr (detail::present_v<Where> || has_keyset) {
      w.append(" WHERE ");
      detail::render_child(w, detail::clause<part::where>(parts),
                           has_keyset ? detail::prec_and + 1 : 0);
      if constexpr (detail::present_v<Where> && has_keyset) w.append(" AND ");
      detail::render_expr(w, detail::clause<part::keyset>(parts));
    }
    if constexpr (std::tuple_size_v < Group >> 0) {
      w.append(" GROUP BY ");
      detail::render_comma_list(w, detail::clause<part::group>(parts));
    }
    if constexpr (detail::present_v<Having>) {
      w.append(" HAVING ");
      detail::render_expr(w, detail::clause<part::having>(parts));
    }
    if constexpr (std::tuple_size_v < Order >> 0) {
      w.append(" ORDER BY ");
      detail::render_comma_list(w, detail::clause<part::order>(parts));
    }
    detail::render_expr(w, detail::clause<part::limit>(parts));
    detail::render_expr(w, detail::clause<part::offset>(parts));
    detail::render_expr(w, detail::clause<part::lock>(parts));
    w.qualify = outer_qualify;
  }

  Parts parts_;
};

/// Starts a SELECT of whole rows of `T` (FROM T), or of the struct `T` mapped by field names from
/// the table given to from<U>().
///
/// Example: `auto users = pgorm::select<User>().where(pgorm::col<&User::id> > 10).all(conn);`
template <class T, class... More>
auto select() {
  static_assert(reflectable<T>, "pgorm: select<T>() takes a struct that maps to a table");
  using ref = table_ref<T>;
  using cols = detail::whole_rows<ref, table_ref<More>...>;
  using parts = detail::initial_parts_t<cols, ref>;
  return select_query<detail::unbound, parts>(nullptr, detail::initial_parts<ref>(cols{}));
}

/// Starts a SELECT of these columns or expressions; rows come back as std::tuple. Give the table
/// with from<T>().
///
/// Example: `pgorm::select(pgorm::col<&User::email>, pgorm::count()).from<User>()`
template <class E0, class... E>
auto select(const E0& first, const E&... rest) {
  static_assert(expression<E0> && (expression<E> && ...),
                "pgorm: select(...) takes columns or expressions such as "
                "pgorm::col<&User::email>; for whole rows use select<User>()");
  using cols = detail::expr_list<E0, E...>;
  using ref = typename detail::first_of<typename cols::tables>::type;
  using parts = detail::initial_parts_t<cols, ref>;
  return select_query<detail::unbound, parts>(
      nullptr, detail::initial_parts<ref>(cols{{}, {first, rest...}}));
}

}  // namespace pgorm

// UNION / INTERSECT / EXCEPT: the query type the members above make.
#include "pgorm/query/compound.hpp"  // IWYU pragma: export
