// SPDX-License-Identifier: MIT
#pragma once

/// \file
/// Typed SQL expressions: columns (`pgorm::col<&User::email>`), parameters, comparisons,
/// boolean logic, arithmetic, functions and aggregates. Every value travels as a `$n`
/// parameter; the SQL text of an expression depends only on its type, so queries made of them
/// render at compile time. See docs/queries.md.
///
/// ```cpp
/// auto cond = pgorm::col<&User::email>.like("%@example.com") && pgorm::col<&User::age> >= 18;
/// ```

#include <chrono>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <ranges>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "pgorm/detail/sql_names.hpp"
#include "pgorm/detail/sql_writer.hpp"
#include "pgorm/detail/type_list.hpp"
#include "pgorm/params.hpp"
#include "pgorm/reflect.hpp"
#include "pgorm/statement_shape.hpp"
#include "pgorm/types.hpp"

namespace pgorm {

// ---- table references ------------------------------------------------------------------------

/// A table as it appears in a query: the struct, and the alias it goes by ("" when none).
template <class T, detail::fixed_string Alias = "">
struct table_ref {
  using type = T;
  static constexpr std::string_view alias = Alias.view();

  /// How columns of this table are qualified: the alias, or the (schema-qualified) name.
  template <class W>
  static constexpr void render_qualifier(W& w) {
    if constexpr (Alias.size() == 0) {
      w.append(detail::table_name_v<T>);
    } else {
      detail::write_identifier(Alias.view(), w);
    }
  }
  /// How the table is written in FROM / JOIN: `name` or `name AS alias`.
  template <class W>
  static constexpr void render_from(W& w) {
    w.append(detail::table_name_v<T>);
    if constexpr (Alias.size() != 0) {
      w.append(" AS ");
      detail::write_identifier(Alias.view(), w);
    }
  }
};

namespace detail {

template <class T>
struct remove_optional {
  using type = T;
};
template <class T>
struct remove_optional<std::optional<T>> {
  using type = T;
};
/// `U` for `std::optional<U>`, else `T`.
template <class T>
using remove_optional_t = typename remove_optional<T>::type;

/// `std::optional<T>` when `nullable`, else `T` (never optional<optional<T>>).
template <class T, bool nullable>
using maybe_optional_t =
    std::conditional_t<nullable && !is_optional<T>::value, std::optional<T>, T>;

template <class T>
inline constexpr bool is_text_like_v =
    std::is_same_v<T, std::string> || std::is_same_v<T, std::string_view> ||
    std::is_same_v<std::decay_t<T>, const char*> || std::is_same_v<std::decay_t<T>, char*>;

template <class T>
inline constexpr bool is_number_v =
    std::is_arithmetic_v<T> && !std::is_same_v<T, bool> && !std::is_same_v<T, char>;

/// SQL can compare (and combine arithmetically, for numbers) values of these C++ types.
template <class A, class B>
inline constexpr bool comparable_v = [] {
  using a = std::remove_cvref_t<remove_optional_t<remove_defaulted_t<std::remove_cvref_t<A>>>>;
  using b = std::remove_cvref_t<remove_optional_t<remove_defaulted_t<std::remove_cvref_t<B>>>>;
  if constexpr (is_number_v<a> && is_number_v<b>) return true;
  if constexpr (is_text_like_v<a> && is_text_like_v<b>) return true;
  return std::is_same_v<a, b>;
}();

}  // namespace detail

// ---- the expression concept ------------------------------------------------------------------

/// A pgorm SQL expression: a type with `value_type` (the C++ type of its SQL value), `tables`
/// (the tables it reads), and render/bind members. Made by pgorm::col, pgorm::val, operators
/// and functions; not by users directly.
template <class E>
concept expression = requires {
  typename std::remove_cvref_t<E>::value_type;
  typename std::remove_cvref_t<E>::tables;
  requires std::remove_cvref_t<E>::is_pgorm_expression;
};

/// An expression of SQL type boolean: what where(), having() and join conditions accept.
template <class E>
concept condition = expression<E> && std::is_same_v <
                    detail::remove_optional_t<typename std::remove_cvref_t<E>::value_type>,
bool > ;

namespace detail {

// Operator precedence, for parentheses (PostgreSQL docs 4.1.6, Table 4.2).
inline constexpr int prec_or = 1;
inline constexpr int prec_and = 2;
inline constexpr int prec_not = 3;
inline constexpr int prec_is = 4;
inline constexpr int prec_compare = 5;
inline constexpr int prec_like = 6;  // LIKE, BETWEEN, IN: above comparisons
inline constexpr int prec_add = 7;
inline constexpr int prec_mul = 8;
inline constexpr int prec_primary = 10;

/// Stands for an object of type `T` when a static shape renders from its type alone. Rendering
/// code is written once over its source, `const T&` (an object) or `shape<T>` (the type only),
/// and reads its parts through part() and element(); no object exists at compile time.
template <class T>
struct shape {
  using type = T;
};

/// The type a rendering source stands for: `T` for `T` and for `shape<T>`.
template <class S>
struct source_type {
  using type = S;
};
template <class T>
struct source_type<shape<T>> {
  using type = T;
};
template <class S>
using source_type_t = typename source_type<S>::type;

/// The member `m` of a rendering source: a reference into the object, or its shape.
template <class S, class M>
constexpr const M& part(const S& self, M S::*m) {
  return self.*m;
}
template <class S, class M>
constexpr shape<M> part(shape<S> /*self*/, M S::* /*m*/) {
  return {};
}

/// Element I of a std::tuple source: a reference into the tuple, or its shape.
template <std::size_t I, class... T>
constexpr const auto& element(const std::tuple<T...>& t) {
  return std::get<I>(t);
}
template <std::size_t I, class... T>
constexpr auto element(shape<std::tuple<T...>> /*t*/) {
  return shape<std::tuple_element_t<I, std::tuple<T...>>>{};
}

/// Renders `E` from its type alone (a static shape).
template <class E, class W>
constexpr void render_expr(W& w, shape<E> /*e*/) {
  E::render(w);
}
/// Renders `e`: from its type when its shape is static, else from the object.
template <class E, class W>
constexpr void render_expr(W& w, const E& e) {
  if constexpr (E::is_static) {
    E::render(w);
  } else {
    e.render_dynamic(w);
  }
}

/// Renders a child (object or shape), in parentheses when it binds looser than its parent
/// requires.
template <class S, class W>
constexpr void render_child(W& w, const S& e, int min_precedence) {
  if (source_type_t<S>::precedence < min_precedence) {
    w.append('(');
    render_expr(w, e);
    w.append(')');
  } else {
    render_expr(w, e);
  }
}

/// The two renderings of the clause protocol, written once: a node (expression, clause or
/// builder) writes its SQL in `template <class W, class S> static constexpr void
/// render_from(W&, const S& self)` over a rendering source (the object, or shape<Derived> for
/// its type alone) and derives from renders_from<Derived>, which gives it
/// - `static constexpr void render(W&)` from the type alone, when Derived::is_static, and
/// - `constexpr void render_dynamic(W&) const` from the object.
/// A node that is an aggregate names this empty base first in braces: `node{{}, members...}`.
/// A leaf whose text never depends on its object defines its own static render() instead.
template <class Derived>
struct renders_from {
  /// Renders a static node from its type alone (usable in constant evaluation).
  template <class W>
  static constexpr void render(W& w) requires(Derived::is_static) {
    Derived::render_from(w, shape<Derived>{});
  }
  /// Renders the node from this object (its values may change its SQL text).
  template <class W>
  constexpr void render_dynamic(W& w) const {
    Derived::render_from(w, static_cast<const Derived&>(*this));
  }
};

/// Nothing: an absent clause (WHERE, HAVING, RETURNING, ON CONFLICT, ...) or the missing
/// left-hand side of EXISTS. It reads no table, renders nothing and binds nothing.
struct absent {
  using tables = type_list<>;
  using row_type = void;
  static constexpr bool present = false;
  static constexpr bool is_static = true;
  static constexpr bool is_aggregate = false;
  static constexpr bool may_write = false;
  static constexpr bool has_bare_column = false;
  static constexpr int precedence = prec_primary;
  template <class W>
  static constexpr void render(W& /*w*/) {}
  template <class W>
  constexpr void render_dynamic(W& /*w*/) const {}
  void bind(param_list& /*p*/) const {}
};

}  // namespace detail

namespace detail {

template <class... E>
struct node_traits {
  using tables = list_union_t<typename E::tables...>;
  static constexpr bool is_static = (E::is_static && ...);
  static constexpr bool is_aggregate = (E::is_aggregate || ...);
  static constexpr bool may_write = (E::may_write || ...);
  static constexpr bool has_bare_column = (E::has_bare_column || ...);
};

struct op_eq {
  static constexpr std::string_view token = " = ";
  static constexpr int precedence = prec_compare;
};
struct op_ne {
  static constexpr std::string_view token = " <> ";
  static constexpr int precedence = prec_compare;
};
struct op_lt {
  static constexpr std::string_view token = " < ";
  static constexpr int precedence = prec_compare;
};
struct op_le {
  static constexpr std::string_view token = " <= ";
  static constexpr int precedence = prec_compare;
};
struct op_gt {
  static constexpr std::string_view token = " > ";
  static constexpr int precedence = prec_compare;
};
struct op_ge {
  static constexpr std::string_view token = " >= ";
  static constexpr int precedence = prec_compare;
};
struct op_and {
  static constexpr std::string_view token = " AND ";
  static constexpr int precedence = prec_and;
};
struct op_or {
  static constexpr std::string_view token = " OR ";
  static constexpr int precedence = prec_or;
};
struct op_add {
  static constexpr std::string_view token = " + ";
  static constexpr int precedence = prec_add;
};
struct op_sub {
  static constexpr std::string_view token = " - ";
  static constexpr int precedence = prec_add;
};
struct op_mul {
  static constexpr std::string_view token = " * ";
  static constexpr int precedence = prec_mul;
};
struct op_div {
  static constexpr std::string_view token = " / ";
  static constexpr int precedence = prec_mul;
};
struct op_mod {
  static constexpr std::string_view token = " % ";
  static constexpr int precedence = prec_mul;
};
struct op_like {
  static constexpr std::string_view token = " LIKE ";
  static constexpr int precedence = prec_like;
};
struct op_ilike {
  static constexpr std::string_view token = " ILIKE ";
  static constexpr int precedence = prec_like;
};
struct op_not_like {
  static constexpr std::string_view token = " NOT LIKE ";
  static constexpr int precedence = prec_like;
};

}  // namespace detail

// ---- forward declarations, so expr_base can name every node ----------------------------------

enum class sort_direction { asc, desc };
enum class nulls_order { unspecified, first, last };

template <class Op, class L, class R, class Value>
struct binary_expr;
template <class E, class Value, detail::fixed_string Prefix, detail::fixed_string Suffix, int Prec>
struct unary_expr;
template <class E, class Lo, class Hi>
struct between_expr;
template <class E, class T>
struct in_values_expr;
template <class E, class Query, bool Exists>
struct subquery_expr;
template <auto Member, class E>
struct assignment;

template <class E, sort_direction Dir = sort_direction::asc,
          nulls_order Nulls = nulls_order::unspecified>
struct order_term;

namespace detail {
template <class R>
struct operand_value;
template <class R>
using operand_value_t = typename operand_value<R>::type;
template <class Like, class V>
constexpr auto as_expr(V&& v);
template <class Like, class V>
constexpr auto make_value(V&& v);
}  // namespace detail

// ---- member functions every expression has ---------------------------------------------------

/// Escapes `%`, `_` and `\` in user input so that LIKE matches it literally.
///
/// Example: `col<&User::name>.like("%" + pgorm::escape_like(input) + "%")`
inline std::string escape_like(std::string_view input) {
  std::string out;
  out.reserve(input.size() + 4);
  for (char c : input) {
    if (c == '%' || c == '_' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  return out;
}
/// A LIKE pattern matching values that contain `input` literally.
inline std::string contains(std::string_view input) { return "%" + escape_like(input) + "%"; }
/// A LIKE pattern matching values that start with `input` literally.
inline std::string starts_with(std::string_view input) { return escape_like(input) + "%"; }
/// A LIKE pattern matching values that end with `input` literally.
inline std::string ends_with(std::string_view input) { return "%" + escape_like(input); }

/// The members every expression has: like, is_null, between, in, asc/desc, ... A composite
/// node writes its SQL once, as `static constexpr void render_from(W&, const S& self)`, and
/// gets render() and render_dynamic() from detail::renders_from. A leaf defines its own static
/// render() instead.
template <class Derived>
struct expr_base : detail::renders_from<Derived> {
  /// `self LIKE pattern`; text only. Escape user input with pgorm::escape_like.
  template <class P>
  constexpr auto like(P&& pattern) const {
    return text_op<detail::op_like>(std::forward<P>(pattern));
  }
  /// `self ILIKE pattern` (case-insensitive LIKE).
  template <class P>
  constexpr auto ilike(P&& pattern) const {
    return text_op<detail::op_ilike>(std::forward<P>(pattern));
  }
  /// `self NOT LIKE pattern`.
  template <class P>
  constexpr auto not_like(P&& pattern) const {
    return text_op<detail::op_not_like>(std::forward<P>(pattern));
  }
  /// `self IS NULL`.
  constexpr auto is_null() const {
    return unary_expr<Derived, bool, "", " IS NULL", detail::prec_is>{{}, self()};
  }
  /// `self IS NOT NULL`.
  constexpr auto is_not_null() const {
    return unary_expr<Derived, bool, "", " IS NOT NULL", detail::prec_is>{{}, self()};
  }
  /// `self BETWEEN lo AND hi`.
  template <class Lo, class Hi>
  constexpr auto between(Lo&& lo, Hi&& hi) const {
    using value = typename Derived::value_type;
    constexpr bool ok = detail::comparable_v<value, detail::operand_value_t<Lo>> &&
                        detail::comparable_v<value, detail::operand_value_t<Hi>>;
    static_assert(ok,
                  "pgorm: between() bounds must have the expression's type; compare a text "
                  "column with strings, a number column with numbers");
    if constexpr (ok) {
      auto l = detail::as_expr<value>(std::forward<Lo>(lo));
      auto h = detail::as_expr<value>(std::forward<Hi>(hi));
      return between_expr<Derived, decltype(l), decltype(h)>{
          {}, self(), std::move(l), std::move(h)};
    } else {
      return self();
    }
  }
  /// `self = ANY($n)` for a range of values, or `self IN (subquery)` for a select builder.
  template <class R>
  constexpr auto in(R&& values_or_query) const {
    using value = typename Derived::value_type;
    if constexpr (requires { std::remove_cvref_t<R>::is_pgorm_select; }) {
      using Q = std::remove_cvref_t<R>;
      static_assert(Q::column_count == 1,
                    "pgorm: an IN subquery must select exactly one column, e.g. "
                    "pgorm::select(pgorm::col<&Session::user_id>)");
      return subquery_expr<Derived, Q, false>{{}, self(), std::forward<R>(values_or_query)};
    } else {
      static_assert(std::ranges::input_range<R>,
                    "pgorm: in() takes a range of values (std::vector, std::array, ...) or a "
                    "select builder");
      using element = std::remove_cvref_t<std::ranges::range_value_t<R>>;
      static_assert(detail::comparable_v<value, element>,
                    "pgorm: in() values must have the expression's type; compare a text column "
                    "with strings, a number column with numbers");
      using stored = detail::remove_optional_t<value>;
      std::vector<stored> list;
      for (auto&& v : values_or_query) list.push_back(detail::make_value<stored>(v).value);
      return in_values_expr<Derived, stored>{{}, self(), std::move(list)};
    }
  }
  /// Ascending, for order_by.
  constexpr auto asc() const { return order_term<Derived, sort_direction::asc>{{}, self()}; }
  /// Descending, for order_by.
  constexpr auto desc() const { return order_term<Derived, sort_direction::desc>{{}, self()}; }

 private:
  constexpr const Derived& self() const { return static_cast<const Derived&>(*this); }

  template <class Op, class P>
  constexpr auto text_op(P&& pattern) const {
    using value = detail::remove_optional_t<typename Derived::value_type>;
    static_assert(detail::is_text_like_v<value>,
                  "pgorm: like()/ilike() apply to text expressions only; compare other types "
                  "with ==, <, between()");
    auto p = detail::as_expr<std::string>(std::forward<P>(pattern));
    static_assert(
        detail::is_text_like_v<detail::remove_optional_t<typename decltype(p)::value_type>>,
        "pgorm: a LIKE pattern must be text");
    return binary_expr<Op, Derived, decltype(p), bool>{{}, self(), std::move(p)};
  }
};

// ---- leaves ----------------------------------------------------------------------------------

/// The column a data member maps to, optionally through a table alias. Use pgorm::col.
template <auto Member, detail::fixed_string Alias = "">
struct column_expr : expr_base<column_expr<Member, Alias>> {
  static_assert(data_member_pointer<decltype(Member)>,
                "pgorm: a column is named by a pointer to a data member, e.g. "
                "pgorm::col<&User::email>");
  using owner = member_class_t<Member>;
  using value_type = detail::remove_defaulted_t<member_type_t<Member>>;
  using table = table_ref<owner, Alias>;
  using tables = detail::type_list<table>;
  static constexpr bool is_pgorm_expression = true;
  static constexpr bool is_static = true;
  static constexpr bool is_aggregate = false;
  static constexpr bool may_write = false;
  static constexpr bool has_bare_column = true;
  static constexpr int precedence = detail::prec_primary;
  static constexpr auto member = Member;

  template <class W>
  static constexpr void render(W& w) {
    if (w.qualify) {
      table::render_qualifier(w);
      w.append('.');
    }
    w.append(detail::column_name_v<Member>);
  }
  void bind(detail::param_list& /*sink*/) const {}

  /// `column = value` for update().set(...) and on_conflict().do_update(...): an assignment,
  /// not a comparison. The value is an expression or a plain value of the column's type.
  template <class V>
  constexpr auto operator=(V&& value) const {  // NOLINT(misc-unconventional-assign-operator)
    auto e = detail::as_expr<value_type>(std::forward<V>(value));
    static_assert(detail::comparable_v<value_type, typename decltype(e)::value_type>,
                  "pgorm: the value assigned to a column must have the column's type");
    static_assert(detail::is_optional<value_type>::value ||
                      !detail::is_optional<typename decltype(e)::value_type>::value,
                  "pgorm: a NULL (std::optional) value cannot be assigned to a NOT NULL column; "
                  "make the field std::optional or assign a value");
    return assignment<Member, decltype(e)>{{}, std::move(e)};
  }
};

/// `column = expr` in SET lists (update, upsert). Made by `pgorm::col<&T::m> = value`.
template <auto Member, class E>
struct assignment : detail::renders_from<assignment<Member, E>> {
  using column = column_expr<Member>;
  using tables = typename E::tables;
  static constexpr bool is_static = E::is_static;
  static constexpr bool may_write = E::may_write;
  static constexpr bool is_pgorm_assignment = true;
  E value;

  /// Writes `col = value` (never table-qualified on the left, as SET requires).
  template <class W, class S>
  static constexpr void render_from(W& w, const S& self) {
    w.append(detail::column_name_v<Member>);
    w.append(" = ");
    detail::render_expr(w, detail::part(self, &assignment::value));
  }
  void bind(detail::param_list& sink) const { value.bind(sink); }
};

/// `excluded.col` in on_conflict(...).do_update(...): the value the conflicting insert proposed.
template <auto Member>
struct excluded_expr : expr_base<excluded_expr<Member>> {
  using value_type = detail::remove_defaulted_t<member_type_t<Member>>;
  using tables = detail::type_list<>;
  static constexpr bool is_pgorm_expression = true;
  static constexpr bool is_static = true;
  static constexpr bool is_aggregate = false;
  static constexpr bool may_write = false;
  static constexpr bool has_bare_column = false;
  static constexpr int precedence = detail::prec_primary;
  template <class W>
  static constexpr void render(W& w) {
    w.append("excluded.");
    w.append(detail::column_name_v<Member>);
  }
  void bind(detail::param_list& /*sink*/) const {}
};

/// `excluded.col`: in an upsert, the value the row that conflicted would have written.
///
/// Example: `.on_conflict(pgorm::col<&User::email>).do_update(pgorm::col<&User::name> =
/// pgorm::excluded<&User::name>)`
template <auto Member>
inline constexpr excluded_expr<Member> excluded{};

/// The column for `Member`, e.g. `pgorm::col<&User::email>`; with an alias for self-joins:
/// `pgorm::col<&User::id, "manager">`.
template <auto Member, detail::fixed_string Alias = "">
inline constexpr column_expr<Member, Alias> col{};

template <class T>
struct composite_traits;  // a struct mapped to a composite type: pgorm/composite.hpp

namespace detail {
/// The SQL type a `$n` of C++ type T is cast to: a composite's name (`$1::address`), since the
/// server resolves `column = $1` with an untyped $1 to the anonymous `record` operator and then
/// cannot read the value; empty (no cast) for every other type, whose OID goes with it.
template <class T>
consteval std::string_view param_cast() {
  using U = remove_optional_t<T>;
  if constexpr (requires { composite_traits<U>::type_name; }) {
    return composite_traits<U>::type_name;
  } else {
    return {};
  }
}

/// The values of an in() over a composite column as one parameter: its pg_type (in
/// pgorm/composite.hpp) writes the array literal of their records, `{"(...)","(...)"}`, which
/// the server reads as the array type the parameter is cast to (`$1::address[]`); a binary
/// array would need the composite type's OID, which only the server knows.
template <class T>
struct composite_list {
  const std::vector<T>* values;
};
}  // namespace detail

/// A value sent as a `$n` parameter.
template <class T>
struct value_expr : expr_base<value_expr<T>> {
  using value_type = T;
  using tables = detail::type_list<>;
  static constexpr bool is_pgorm_expression = true;
  static constexpr bool is_static = true;
  static constexpr bool is_aggregate = false;
  static constexpr bool may_write = false;
  static constexpr bool has_bare_column = false;
  static constexpr int precedence = detail::prec_primary;

  T value;

  template <class W>
  static constexpr void render(W& w) {
    w.placeholder();
    if constexpr (!detail::param_cast<T>().empty()) {
      w.append("::");
      w.append(detail::param_cast<T>());
    }
  }
  void bind(detail::param_list& sink) const { sink.add(value); }
};

namespace detail {

// The C++ type a plain value is stored as: string-likes own their text, so a query can be kept
// and run later; everything else as is.
template <class V>
using stored_value_t = std::conditional_t<is_text_like_v<std::remove_cvref_t<V>> ||
                                              std::is_array_v<std::remove_cvref_t<V>>,
                                          std::string, std::remove_cvref_t<V>>;

/// Wraps a plain value as a parameter typed like `Like` (the column it is compared with), so the
/// parameter's OID is the column's: `col<&User::age> == 18` sends 18 as the column's int type.
template <class Like, class V>
constexpr auto make_value(V&& v) {
  using target = remove_optional_t<Like>;
  using source = std::remove_cvref_t<V>;
  if constexpr (std::is_same_v<source, std::nullopt_t>) {
    return value_expr<std::optional<target>>{{}, std::nullopt};
  } else if constexpr (is_optional<source>::value) {
    return value_expr<std::optional<target>>{
        {}, v.has_value() ? std::optional<target>(static_cast<target>(*v)) : std::nullopt};
  } else if constexpr (std::is_integral_v<target> && std::is_integral_v<source> &&
                       !std::is_same_v<target, bool>) {
    if (!std::in_range<target>(v)) {
      throw_encode_error("pgorm: the value " + std::to_string(v) +
                         " is out of range for the column it is compared with");
    }
    return value_expr<target>{{}, static_cast<target>(v)};
  } else if constexpr (is_number_v<target> && is_number_v<source>) {
    return value_expr<target>{{}, static_cast<target>(v)};
  } else if constexpr (is_text_like_v<target> || std::is_array_v<source>) {
    return value_expr<std::string>{{}, std::string(std::forward<V>(v))};
  } else {
    return value_expr<target>{{}, target(std::forward<V>(v))};
  }
}

/// An expression as is, or a plain value as a parameter typed like `Like`.
template <class Like, class V>
constexpr auto as_expr(V&& v) {
  if constexpr (expression<V>) {
    return std::remove_cvref_t<V>(std::forward<V>(v));
  } else {
    return make_value<Like>(std::forward<V>(v));
  }
}

template <class V>
constexpr auto as_expr_untyped(V&& v) {
  if constexpr (expression<V>) {
    return std::remove_cvref_t<V>(std::forward<V>(v));
  } else {
    return value_expr<stored_value_t<V>>{{}, stored_value_t<V>(std::forward<V>(v))};
  }
}

}  // namespace detail

/// A value as an explicit parameter, e.g. in a select list: `pgorm::val(42)`.
template <class T>
constexpr auto val(T&& v) {
  return detail::as_expr_untyped(std::forward<T>(v));
}

// ---- composite nodes -------------------------------------------------------------------------

/// `L <op> R`. value_type is given by the operator's family (see the factories below).
template <class Op, class L, class R, class Value>
struct binary_expr : expr_base<binary_expr<Op, L, R, Value>> {
  using value_type = Value;
  using tables = typename detail::node_traits<L, R>::tables;
  static constexpr bool is_pgorm_expression = true;
  static constexpr bool is_static = detail::node_traits<L, R>::is_static;
  static constexpr bool is_aggregate = detail::node_traits<L, R>::is_aggregate;
  static constexpr bool may_write = detail::node_traits<L, R>::may_write;
  static constexpr bool has_bare_column = detail::node_traits<L, R>::has_bare_column;
  static constexpr int precedence = Op::precedence;

  L lhs;
  R rhs;

  template <class W, class S>
  static constexpr void render_from(W& w, const S& self) {
    detail::render_child(w, detail::part(self, &binary_expr::lhs), precedence);
    w.append(Op::token);
    detail::render_child(w, detail::part(self, &binary_expr::rhs), precedence + 1);
  }
  void bind(detail::param_list& sink) const {
    lhs.bind(sink);
    rhs.bind(sink);
  }
};

/// A prefix (`NOT x`, `-x`) or postfix (`x IS NULL`) operator.
template <class E, class Value, detail::fixed_string Prefix, detail::fixed_string Suffix, int Prec>
struct unary_expr : expr_base<unary_expr<E, Value, Prefix, Suffix, Prec>> {
  using value_type = Value;
  using tables = typename E::tables;
  static constexpr bool is_pgorm_expression = true;
  static constexpr bool is_static = E::is_static;
  static constexpr bool is_aggregate = E::is_aggregate;
  static constexpr bool may_write = E::may_write;
  static constexpr bool has_bare_column = E::has_bare_column;
  static constexpr int precedence = Prec;

  E operand;

  template <class W, class S>
  static constexpr void render_from(W& w, const S& self) {
    w.append(Prefix.view());
    detail::render_child(w, detail::part(self, &unary_expr::operand), Prec + 1);
    w.append(Suffix.view());
  }
  void bind(detail::param_list& sink) const { operand.bind(sink); }
};

namespace detail {
/// What a function_expr calls: an aggregate (count, sum, pgorm::aggregate<>), a function known
/// to have no side effects (the library's own calls, pgorm::fn_reads<>), or any function
/// (pgorm::fn<>), which may write unless its name is one of reads_only_builtins.
enum class call_kind : unsigned char { function, reads, aggregate };

/// Built-in PostgreSQL functions that change no data, so that fn<"lower", ...>() keeps a select
/// a read: a short list of common ones, not a catalogue. A name not listed (a user's function,
/// nextval, a schema-qualified name) may write; pgorm::fn_reads<> declares one that does not.
inline constexpr std::string_view reads_only_builtins[] = {
    "abs",      "age",    "array_length", "btrim",     "cardinality", "ceil",   "char_length",
    "coalesce", "concat", "concat_ws",    "date_part", "date_trunc",  "floor",  "greatest",
    "initcap",  "least",  "left",         "length",    "lower",       "ltrim",  "md5",
    "now",      "nullif", "position",     "power",     "replace",     "right",  "round",
    "rtrim",    "sign",   "split_part",   "sqrt",      "starts_with", "strpos", "substr",
    "to_char",  "trim",   "trunc",        "upper"};

/// Whether a call of the function `name` with kind `kind` may change data.
constexpr bool call_may_write(call_kind kind, std::string_view name) {
  if (kind != call_kind::function) return false;
  for (const std::string_view b : reads_only_builtins) {
    if (b == name) return false;
  }
  return true;
}
}  // namespace detail

/// A function call `name(args...)`; `Kind` tells an aggregate (count/sum/avg/min/max) and
/// whether the call may change data (see detail::call_kind).
template <detail::fixed_string Name, class Value, detail::call_kind Kind, class... Args>
struct function_expr : expr_base<function_expr<Name, Value, Kind, Args...>> {
  using value_type = Value;
  using tables = detail::list_union_t<detail::type_list<>, typename Args::tables...>;
  static constexpr bool is_pgorm_expression = true;
  static constexpr bool is_static = (Args::is_static && ...);
  static constexpr bool is_aggregate =
      Kind == detail::call_kind::aggregate || (Args::is_aggregate || ...);
  static constexpr bool may_write =
      detail::call_may_write(Kind, Name.view()) || (Args::may_write || ...);
  // Columns inside an aggregate are not bare: they need no GROUP BY.
  static constexpr bool has_bare_column =
      Kind != detail::call_kind::aggregate && (Args::has_bare_column || ...);
  static constexpr int precedence = detail::prec_primary;

  std::tuple<Args...> args;

  template <class W, class S>
  static constexpr void render_from(W& w, const S& self) {
    w.append(Name.view());
    w.append('(');
    [&]<std::size_t... I>(std::index_sequence<I...>) {
      (
          [&] {
            if constexpr (I > 0) w.append(", ");
            detail::render_expr(w, detail::element<I>(detail::part(self, &function_expr::args)));
          }(),
          ...);
    }
    (std::index_sequence_for<Args...>{});
    w.append(')');
  }
  void bind(detail::param_list& sink) const {
    std::apply([&](const auto&... a) { (a.bind(sink), ...); }, args);
  }
};

/// `count(*)`.
struct count_star_expr : expr_base<count_star_expr> {
  using value_type = std::int64_t;
  using tables = detail::type_list<>;
  static constexpr bool is_pgorm_expression = true;
  static constexpr bool is_static = true;
  static constexpr bool is_aggregate = true;
  static constexpr bool may_write = false;
  static constexpr bool has_bare_column = false;
  static constexpr int precedence = detail::prec_primary;
  template <class W>
  static constexpr void render(W& w) {
    w.append("count(*)");
  }
  void bind(detail::param_list& /*sink*/) const {}
};

/// `e BETWEEN lo AND hi`.
template <class E, class Lo, class Hi>
struct between_expr : expr_base<between_expr<E, Lo, Hi>> {
  using value_type = bool;
  using tables = typename detail::node_traits<E, Lo, Hi>::tables;
  static constexpr bool is_pgorm_expression = true;
  static constexpr bool is_static = detail::node_traits<E, Lo, Hi>::is_static;
  static constexpr bool is_aggregate = detail::node_traits<E, Lo, Hi>::is_aggregate;
  static constexpr bool may_write = detail::node_traits<E, Lo, Hi>::may_write;
  static constexpr bool has_bare_column = detail::node_traits<E, Lo, Hi>::has_bare_column;
  static constexpr int precedence = detail::prec_like;
  E e;
  Lo lo;
  Hi hi;
  template <class W, class S>
  static constexpr void render_from(W& w, const S& self) {
    detail::render_child(w, detail::part(self, &between_expr::e), precedence + 1);
    w.append(" BETWEEN ");
    detail::render_child(w, detail::part(self, &between_expr::lo), precedence + 1);
    w.append(" AND ");
    detail::render_child(w, detail::part(self, &between_expr::hi), precedence + 1);
  }
  void bind(detail::param_list& sink) const {
    e.bind(sink);
    lo.bind(sink);
    hi.bind(sink);
  }
};

/// `e = ANY($n)`: membership in a list of values, sent as one array parameter, so the SQL text
/// (and the prepared statement) is the same for every list length.
template <class E, class T>
struct in_values_expr : expr_base<in_values_expr<E, T>> {
  using value_type = bool;
  using tables = typename E::tables;
  static constexpr bool is_pgorm_expression = true;
  static constexpr bool is_static = E::is_static;
  static constexpr bool is_aggregate = E::is_aggregate;
  static constexpr bool may_write = E::may_write;
  static constexpr bool has_bare_column = E::has_bare_column;
  static constexpr int precedence = detail::prec_compare;
  E e;
  std::vector<T> values;
  template <class W, class S>
  static constexpr void render_from(W& w, const S& self) {
    detail::render_child(w, detail::part(self, &in_values_expr::e), precedence + 1);
    w.append(" = ANY(");
    w.placeholder();
    if constexpr (!detail::param_cast<T>().empty()) {
      w.append("::");
      w.append(detail::param_cast<T>());
      w.append("[]");
    }
    w.append(')');
  }
  void bind(detail::param_list& sink) const {
    e.bind(sink);
    if constexpr (!detail::param_cast<T>().empty()) {
      sink.add(detail::composite_list<T>{&values});
    } else {
      sink.add(values);
    }
  }
};

/// `EXISTS (subquery)` and `e IN (subquery)`; the subquery is any select builder.
template <class E, class Query, bool Exists>
struct subquery_expr : expr_base<subquery_expr<E, Query, Exists>> {
  using value_type = bool;
  // A correlated subquery may use the outer query's tables; its own are bound inside it.
  using tables =
      std::conditional_t<Exists, typename Query::outer_tables,
                         detail::list_union_t<typename E::tables, typename Query::outer_tables>>;
  static constexpr bool is_pgorm_expression = true;
  static constexpr bool is_static = E::is_static && Query::is_static;
  static constexpr bool is_aggregate = E::is_aggregate;
  static constexpr bool may_write = E::may_write || Query::effect != sql_effect::reads;
  static constexpr bool has_bare_column = E::has_bare_column;
  static constexpr int precedence = detail::prec_like;
  E e;
  Query query;
  template <class W, class S>
  static constexpr void render_from(W& w, const S& self) {
    if constexpr (Exists) {
      w.append("EXISTS (");
    } else {
      detail::render_child(w, detail::part(self, &subquery_expr::e), precedence + 1);
      w.append(" IN (");
    }
    const bool outer_qualify = w.qualify;
    detail::render_expr(w, detail::part(self, &subquery_expr::query));
    w.qualify = outer_qualify;
    w.append(')');
  }
  void bind(detail::param_list& sink) const {
    e.bind(sink);
    query.bind(sink);
  }
};

// ---- ORDER BY terms --------------------------------------------------------------------------

/// One ORDER BY item: an expression, a direction, and where NULLs go.
template <class E, sort_direction Dir, nulls_order Nulls>
struct order_term : detail::renders_from<order_term<E, Dir, Nulls>> {
  using expr_type = E;
  using tables = typename E::tables;
  static constexpr bool is_pgorm_order_term = true;
  static constexpr bool is_static = E::is_static;
  static constexpr bool may_write = E::may_write;
  static constexpr sort_direction direction = Dir;
  E e;

  /// NULLs before the other values.
  constexpr order_term<E, Dir, nulls_order::first> nulls_first() const { return {{}, e}; }
  /// NULLs after the other values.
  constexpr order_term<E, Dir, nulls_order::last> nulls_last() const { return {{}, e}; }

  template <class W, class S>
  static constexpr void render_from(W& w, const S& self) {
    detail::render_expr(w, detail::part(self, &order_term::e));
    if constexpr (Dir == sort_direction::desc) w.append(" DESC");
    if constexpr (Nulls == nulls_order::first) w.append(" NULLS FIRST");
    if constexpr (Nulls == nulls_order::last) w.append(" NULLS LAST");
  }
  void bind(detail::param_list& sink) const { e.bind(sink); }
};

template <class T>
concept order_item = requires {
  requires std::remove_cvref_t<T>::is_pgorm_order_term;
};

// ---- operators -------------------------------------------------------------------------------

namespace detail {

/// The C++ value type of an operand: an expression's value_type, or what a plain value is
/// stored as.
template <class R>
struct operand_value {
  using type = stored_value_t<R>;
};
template <class R>
requires expression<R>
struct operand_value<R> {
  using type = typename std::remove_cvref_t<R>::value_type;
};

template <class Op, class L, class R>
constexpr auto compare(const L& lhs, R&& rhs) {
  using lvalue = typename L::value_type;
  static_assert(!std::is_same_v<std::remove_cvref_t<R>, std::nullopt_t>,
                "pgorm: compare with NULL through is_null() or is_not_null(); in SQL, = NULL is "
                "never true");
  constexpr bool ok = comparable_v<lvalue, operand_value_t<R>>;
  static_assert(ok,
                "pgorm: these two types cannot be compared in SQL; compare a text column with "
                "strings, a number column with numbers, a column with a value of its own type");
  if constexpr (ok) {
    auto r = as_expr<lvalue>(std::forward<R>(rhs));
    using rvalue = typename decltype(r)::value_type;
    constexpr bool nullable = is_optional<lvalue>::value || is_optional<rvalue>::value;
    return binary_expr<Op, L, decltype(r), maybe_optional_t<bool, nullable>>{{}, lhs, std::move(r)};
  } else {
    return lhs;
  }
}

// The operands are forwarded: a condition built in place (`col == token && ...`) moves its
// values into the result instead of copying them (a string parameter is a heap allocation).
template <class Op, class L, class R>
constexpr auto logical(L&& lhs, R&& rhs) {
  using l = std::remove_cvref_t<L>;
  using r = std::remove_cvref_t<R>;
  static_assert(condition<l> && condition<r>,
                "pgorm: && and || combine boolean conditions; compare a column (==, <, like(), "
                "is_null()) instead of using it alone");
  constexpr bool nullable =
      is_optional<typename l::value_type>::value || is_optional<typename r::value_type>::value;
  return binary_expr<Op, l, r, maybe_optional_t<bool, nullable>>{
      {}, std::forward<L>(lhs), std::forward<R>(rhs)};
}

template <class T>
struct is_duration : std::false_type {};
template <class Rep, class Period>
struct is_duration<std::chrono::duration<Rep, Period>> : std::true_type {};

/// What SQL defines on dates, timestamps and intervals (PG docs 9.9, Table 9.33): the result
/// type of `A op B` wrapped in std::type_identity, or std::type_identity<void> when none.
template <class Op, class A, class B>
constexpr auto time_arithmetic() {
  constexpr bool add_sub = std::is_same_v<Op, op_add> || std::is_same_v<Op, op_sub>;
  constexpr bool sub = std::is_same_v<Op, op_sub>;
  constexpr bool mul_div = std::is_same_v<Op, op_mul> || std::is_same_v<Op, op_div>;
  constexpr bool time_point = std::is_same_v<A, timestamptz> || std::is_same_v<A, timestamp>;
  if constexpr (add_sub && time_point && std::is_same_v<B, interval>) {
    return std::type_identity<A>{};  // timestamp(tz) +/- interval
  } else if constexpr (add_sub && std::is_same_v<A, date> && std::is_same_v<B, interval>) {
    return std::type_identity<timestamp>{};  // date +/- interval is a timestamp
  } else if constexpr (sub && time_point && std::is_same_v<A, B>) {
    return std::type_identity<interval>{};  // timestamp(tz) - timestamp(tz)
  } else if constexpr (sub && std::is_same_v<A, date> && std::is_same_v<B, date>) {
    return std::type_identity<std::int32_t>{};  // date - date: days
  } else if constexpr (add_sub && std::is_same_v<A, interval> && std::is_same_v<B, interval>) {
    return std::type_identity<interval>{};
  } else if constexpr (mul_div && std::is_same_v<A, interval> && is_number_v<B>) {
    return std::type_identity<interval>{};
  } else {
    return std::type_identity<void>{};
  }
}

/// The right operand of time arithmetic as an expression: a std::chrono duration as an
/// interval of that many microseconds, a number as double precision, anything else typed like
/// `Like`.
template <class Like, class R>
constexpr auto time_operand(R&& rhs) {
  using source = std::remove_cvref_t<R>;
  if constexpr (is_duration<source>::value) {
    static_assert(std::is_convertible_v<source, std::chrono::microseconds>,
                  "pgorm: an interval has microsecond precision; convert the duration with "
                  "std::chrono::floor<std::chrono::microseconds>()");
    return value_expr<interval>{{},
                                interval{0, 0, std::chrono::microseconds(std::forward<R>(rhs))}};
  } else if constexpr (!expression<R> && is_number_v<source>) {
    return value_expr<double>{{}, static_cast<double>(rhs)};
  } else {
    return as_expr<Like>(std::forward<R>(rhs));
  }
}

template <class Op, class L, class R>
constexpr auto arithmetic(const L& lhs, R&& rhs) {
  using lvalue = typename L::value_type;
  using rsource = remove_optional_t<operand_value_t<R>>;
  using time_result =
      typename decltype(time_arithmetic<Op, remove_optional_t<lvalue>,
                                        std::conditional_t<is_duration<rsource>::value, interval,
                                                           rsource>>())::type;
  constexpr bool ok = !std::is_void_v<time_result> ||
                      (is_number_v<remove_optional_t<lvalue>> && is_number_v<rsource>);
  static_assert(ok,
                "pgorm: arithmetic (+ - * / %) applies to numeric expressions only, and to "
                "dates, timestamps and intervals as SQL defines it (timestamp +/- interval, "
                "timestamp - timestamp, interval * number)");
  if constexpr (!std::is_void_v<time_result>) {
    auto r = time_operand<std::conditional_t<is_duration<rsource>::value, interval, rsource>>(
        std::forward<R>(rhs));
    using rvalue = typename decltype(r)::value_type;
    constexpr bool nullable = is_optional<lvalue>::value || is_optional<rvalue>::value;
    return binary_expr<Op, L, decltype(r), maybe_optional_t<time_result, nullable>>{
        {}, lhs, std::move(r)};
  } else if constexpr (ok) {
    auto r = as_expr<lvalue>(std::forward<R>(rhs));
    using rvalue = typename decltype(r)::value_type;
    using a = remove_optional_t<lvalue>;
    using b = remove_optional_t<rvalue>;
    constexpr bool nullable = is_optional<lvalue>::value || is_optional<rvalue>::value;
    using out = std::common_type_t<a, b>;
    return binary_expr<Op, L, decltype(r), maybe_optional_t<out, nullable>>{{}, lhs, std::move(r)};
  } else {
    return lhs;
  }
}

}  // namespace detail

template <expression L, class R>
constexpr auto operator==(const L& lhs, R&& rhs) {
  return detail::compare<detail::op_eq>(lhs, std::forward<R>(rhs));
}
template <expression L, class R>
constexpr auto operator!=(const L& lhs, R&& rhs) {
  return detail::compare<detail::op_ne>(lhs, std::forward<R>(rhs));
}
template <expression L, class R>
constexpr auto operator<(const L& lhs, R&& rhs) {
  return detail::compare<detail::op_lt>(lhs, std::forward<R>(rhs));
}
template <expression L, class R>
constexpr auto operator<=(const L& lhs, R&& rhs) {
  return detail::compare<detail::op_le>(lhs, std::forward<R>(rhs));
}
template <expression L, class R>
constexpr auto operator>(const L& lhs, R&& rhs) {
  return detail::compare<detail::op_gt>(lhs, std::forward<R>(rhs));
}
template <expression L, class R>
constexpr auto operator>=(const L& lhs, R&& rhs) {
  return detail::compare<detail::op_ge>(lhs, std::forward<R>(rhs));
}

template <expression L, expression R>
requires(std::remove_cvref_t<L>::is_static&& std::remove_cvref_t<R>::is_static) constexpr auto
operator&&(L&& lhs, R&& rhs) {
  return detail::logical<detail::op_and>(std::forward<L>(lhs), std::forward<R>(rhs));
}
template <expression L, expression R>
requires(std::remove_cvref_t<L>::is_static&& std::remove_cvref_t<R>::is_static) constexpr auto
operator||(L&& lhs, R&& rhs) {
  return detail::logical<detail::op_or>(std::forward<L>(lhs), std::forward<R>(rhs));
}
template <expression E>
constexpr auto operator!(const E& e) {
  static_assert(condition<E>, "pgorm: ! negates a boolean condition");
  return unary_expr<E, typename E::value_type, "NOT ", "", detail::prec_not>{{}, e};
}

template <expression L, class R>
constexpr auto operator+(const L& lhs, R&& rhs) {
  return detail::arithmetic<detail::op_add>(lhs, std::forward<R>(rhs));
}
template <expression L, class R>
constexpr auto operator-(const L& lhs, R&& rhs) {
  return detail::arithmetic<detail::op_sub>(lhs, std::forward<R>(rhs));
}
template <expression L, class R>
constexpr auto operator*(const L& lhs, R&& rhs) {
  return detail::arithmetic<detail::op_mul>(lhs, std::forward<R>(rhs));
}
template <expression L, class R>
constexpr auto operator/(const L& lhs, R&& rhs) {
  return detail::arithmetic<detail::op_div>(lhs, std::forward<R>(rhs));
}
template <expression L, class R>
constexpr auto operator%(const L& lhs, R&& rhs) {
  return detail::arithmetic<detail::op_mod>(lhs, std::forward<R>(rhs));
}

// ---- functions -------------------------------------------------------------------------------

/// `lower(text)`.
template <expression E>
constexpr auto lower(const E& e) {
  static_assert(detail::is_text_like_v<detail::remove_optional_t<typename E::value_type>>,
                "pgorm: lower() takes a text expression");
  return function_expr<"lower", typename E::value_type, detail::call_kind::reads, E>{{}, {e}};
}
/// `upper(text)`.
template <expression E>
constexpr auto upper(const E& e) {
  static_assert(detail::is_text_like_v<detail::remove_optional_t<typename E::value_type>>,
                "pgorm: upper() takes a text expression");
  return function_expr<"upper", typename E::value_type, detail::call_kind::reads, E>{{}, {e}};
}
/// `coalesce(e, fallback)`: the first non-NULL; its type is the non-optional one when the
/// fallback cannot be NULL.
template <expression E, class F>
constexpr auto coalesce(const E& e, F&& fallback) {
  using value = typename E::value_type;
  constexpr bool ok = detail::comparable_v<value, detail::operand_value_t<F>>;
  static_assert(ok, "pgorm: coalesce() arguments must have the same type");
  if constexpr (ok) {
    auto f = detail::as_expr<value>(std::forward<F>(fallback));
    using fvalue = typename decltype(f)::value_type;
    using out = std::conditional_t<detail::is_optional<fvalue>::value, value,
                                   detail::remove_optional_t<value>>;
    return function_expr<"coalesce", out, detail::call_kind::reads, E, decltype(f)>{
        {}, {e, std::move(f)}};
  } else {
    return e;
  }
}
/// `now()`: the transaction's start time, as timestamptz.
inline constexpr function_expr<"now", timestamptz, detail::call_kind::reads> now_expr{};
/// `now()`.
constexpr auto now() { return now_expr; }

/// `count(*)`.
constexpr auto count() { return count_star_expr{}; }
/// `count(e)`: the non-NULL values of e.
template <expression E>
constexpr auto count(const E& e) {
  return function_expr<"count", std::int64_t, detail::call_kind::aggregate, E>{{}, {e}};
}
/// `count(DISTINCT e)`.
template <expression E>
constexpr auto count_distinct(const E& e) {
  return function_expr<"count", std::int64_t, detail::call_kind::aggregate,
                       unary_expr<E, typename E::value_type, "DISTINCT ", "", 0>>{{}, {{{}, e}}};
}

namespace detail {
// sum(int2/int4) is bigint, sum(int8) is numeric, sum(float) keeps its type (PG docs 9.21).
template <class T>
using sum_result_t =
    std::conditional_t<std::is_integral_v<T>,
                       std::conditional_t<(sizeof(T) < 8), std::int64_t, numeric>, T>;
template <class T>
using avg_result_t = std::conditional_t<std::is_integral_v<T>, numeric, T>;
}  // namespace detail

/// `sum(e)`: NULL (std::nullopt) over no rows.
template <expression E>
constexpr auto sum(const E& e) {
  using value = detail::remove_optional_t<typename E::value_type>;
  static_assert(detail::is_number_v<value> || std::is_same_v<value, numeric>,
                "pgorm: sum() takes a numeric expression");
  return function_expr<"sum", std::optional<detail::sum_result_t<value>>,
                       detail::call_kind::aggregate, E>{{}, {e}};
}
/// `avg(e)`: NULL over no rows.
template <expression E>
constexpr auto avg(const E& e) {
  using value = detail::remove_optional_t<typename E::value_type>;
  static_assert(detail::is_number_v<value> || std::is_same_v<value, numeric>,
                "pgorm: avg() takes a numeric expression");
  return function_expr<"avg", std::optional<detail::avg_result_t<value>>,
                       detail::call_kind::aggregate, E>{{}, {e}};
}
/// `min(e)`: NULL over no rows.
template <expression E>
constexpr auto min(const E& e) {
  using value = detail::remove_optional_t<typename E::value_type>;
  return function_expr<"min", std::optional<value>, detail::call_kind::aggregate, E>{{}, {e}};
}
/// `max(e)`: NULL over no rows.
template <expression E>
constexpr auto max(const E& e) {
  using value = detail::remove_optional_t<typename E::value_type>;
  return function_expr<"max", std::optional<value>, detail::call_kind::aggregate, E>{{}, {e}};
}

/// `EXISTS (subquery)`.
template <class Q>
requires requires { std::remove_cvref_t<Q>::is_pgorm_select; }
constexpr auto exists(Q&& query) {
  return subquery_expr<detail::absent, std::remove_cvref_t<Q>, true>{
      {}, {}, std::forward<Q>(query)};
}

// ---- conditions chosen at run time -----------------------------------------------------------

/// A condition assembled at run time over the tables `Tables...`, for optional search fields:
/// start empty (it renders as TRUE), add conditions with &= or |= (or f && cond); values stay
/// parameters.
///
/// Example:
/// ```
/// pgorm::filter<User> f;
/// if (name) f &= pgorm::col<&User::name>.ilike(pgorm::contains(*name));
/// if (min_age) f &= pgorm::col<&User::age> >= *min_age;
/// auto users = db.select<User>().where(f).all();
/// ```
template <class... Tables>
class filter : public expr_base<filter<Tables...>> {
 public:
  using value_type = bool;
  using tables = detail::type_list<table_ref<Tables>...>;
  static constexpr bool is_pgorm_expression = true;
  static constexpr bool is_static = false;
  static constexpr bool is_aggregate = false;
  static constexpr bool may_write = false;
  static constexpr bool has_bare_column = true;
  static constexpr int precedence = detail::prec_and;

  /// True when no condition was added.
  [[nodiscard]] bool empty() const noexcept { return parts_.empty(); }

  /// Adds `cond` with AND.
  template <class C>
  filter& operator&=(const C& cond) {
    return add(cond, " AND ");
  }
  /// Adds `cond` with OR (the existing conditions are parenthesized).
  template <class C>
  filter& operator|=(const C& cond) {
    return add(cond, " OR ");
  }

  /// Renders as a left fold: ((a) AND (b)) OR (c). TRUE when empty.
  template <class W>
  void render_dynamic(W& w) const {
    if (parts_.empty()) {
      w.append("TRUE");
      return;
    }
    for (std::size_t i = 1; i < parts_.size(); ++i) w.append('(');
    for (std::size_t i = 0; i < parts_.size(); ++i) {
      if (i > 0) w.append(parts_[i].joiner);
      w.append('(');
      parts_[i].render(w);
      w.append(')');
      if (i > 0) w.append(')');
    }
  }
  void bind(detail::param_list& sink) const {
    for (const part& p : parts_) p.bind(sink);
  }

 private:
  using writer = detail::sql_writer<detail::string_out>;
  struct part {
    const char* joiner;
    std::function<void(writer&)> render;
    std::function<void(detail::param_list&)> bind;
  };

  template <class C>
  filter& add(const C& cond, const char* joiner) {
    static_assert(condition<C>,
                  "pgorm: a filter takes boolean conditions such as col<&User::age> >= 18");
    static_assert(detail::list_subset_v<typename C::tables, tables>,
                  "pgorm: the condition uses a table the filter was not declared over; list it: "
                  "pgorm::filter<User, Session>");
    static_assert(!C::may_write,
                  "pgorm: a filter cannot hold a call of a function that may change data "
                  "(pgorm::fn<> of a name not known to be read-only): its select would count "
                  "as a read; declare a read-only function with pgorm::fn_reads<>");
    if constexpr (C::is_static) {
      parts_.push_back({joiner, [](writer& w) { C::render(w); },
                        [cond](detail::param_list& s) { cond.bind(s); }});
    } else {
      parts_.push_back({joiner, [cond](writer& w) { cond.render_dynamic(w); },
                        [cond](detail::param_list& s) { cond.bind(s); }});
    }
    return *this;
  }

  std::vector<part> parts_;
};

/// `f && cond`: a copy of the filter with `cond` added.
template <class... T, expression C>
filter<T...> operator&&(filter<T...> f, const C& cond) {
  f &= cond;
  return f;
}
/// `cond && f`.
template <expression C, class... T>
requires(C::is_static) filter<T...>
operator&&(const C& cond, const filter<T...>& f) {
  filter<T...> out;
  out &= cond;
  out &= f;
  return out;
}
/// `f || cond`.
template <class... T, expression C>
filter<T...> operator||(filter<T...> f, const C& cond) {
  f |= cond;
  return f;
}
/// `cond || f`.
template <expression C, class... T>
requires(C::is_static) filter<T...>
operator||(const C& cond, const filter<T...>& f) {
  filter<T...> out;
  out &= cond;
  out |= f;
  return out;
}

}  // namespace pgorm
