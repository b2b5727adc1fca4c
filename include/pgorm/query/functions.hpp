// SPDX-License-Identifier: MIT
#pragma once

/// \file
/// Any SQL function, called with a declared result type: `pgorm::fn<"name", Result>(args...)`
/// for ordinary functions, `pgorm::aggregate<"name", Result>(args...)` for aggregates, and
/// `pgorm::cast<T>(e)` to convert a value to the SQL type of T. The function name is a
/// compile-time constant checked to be a plain SQL identifier; the arguments are expressions or
/// values sent as `$n` parameters, never spliced into the SQL text. See docs/queries.md,
/// "Calling any SQL function".
///
/// ```cpp
/// auto day = pgorm::fn<"date_trunc", pgorm::timestamptz>("day", pgorm::col<&User::created_at>);
/// ```

#include <cstddef>
#include <string_view>
#include <type_traits>
#include <utility>

#include "pgorm/codec.hpp"
#include "pgorm/detail/fixed_string.hpp"
#include "pgorm/detail/identifier.hpp"
#include "pgorm/expr.hpp"

namespace pgorm {

namespace detail {

/// Whether `name` is written as a function name as is: one or two (schema-qualified)
/// identifiers of lowercase letters, digits, `_` and `$`, not starting with a digit or `$`,
/// each at most 63 characters. Uppercase is refused because SQL folds unquoted names to
/// lowercase: the function called would not be the one spelled.
constexpr bool valid_function_name(std::string_view name) {
  std::size_t part = 0;
  int dots = 0;
  for (char c : name) {
    if (c == '.') {
      if (part == 0 || ++dots > 1) return false;
      part = 0;
      continue;
    }
    const bool letter = (c >= 'a' && c <= 'z') || c == '_';
    const bool later = (c >= '0' && c <= '9') || c == '$';
    if (!letter && !(part > 0 && later)) return false;
    if (++part > max_identifier_length) return false;
  }
  return part > 0;
}

/// The C++ type a declared function result reads into must have a codec (optional or not).
template <class R>
inline constexpr bool readable_result_v = has_pg_type<remove_optional_t<R>>;

template <fixed_string Name, class Result, call_kind Kind, class... A>
constexpr auto make_call(A&&... args) {
  static_assert(valid_function_name(Name.view()),
                "pgorm: a function name must be a lowercase SQL identifier, optionally "
                "schema-qualified, e.g. \"similarity\" or \"app.slugify\"");
  static_assert(readable_result_v<Result>,
                "pgorm: the declared result type of a SQL function must be a type pgorm reads "
                "(std::int64_t, double, std::string, pgorm::timestamptz, ..., or std::optional "
                "of one; see docs/types.md)");
  return function_expr<Name, Result, Kind, decltype(as_expr_untyped(std::forward<A>(args)))...>{
      {}, {as_expr_untyped(std::forward<A>(args))...}};
}

/// `CAST(e AS type)`.
template <class E, class T>
struct cast_expr : expr_base<cast_expr<E, T>> {
  using value_type = T;
  using tables = typename E::tables;
  static constexpr bool is_pgorm_expression = true;
  static constexpr bool is_static = E::is_static;
  static constexpr bool is_aggregate = E::is_aggregate;
  static constexpr bool may_write = E::may_write;
  static constexpr bool has_bare_column = E::has_bare_column;
  static constexpr int precedence = prec_primary;
  E operand;

  template <class W, class S>
  static constexpr void render_from(W& w, const S& self) {
    w.append("CAST(");
    render_expr(w, part(self, &cast_expr::operand));
    w.append(" AS ");
    w.append(pg_type<remove_optional_t<T>>::sql_name);
    w.append(')');
  }
  void bind(param_list& sink) const { operand.bind(sink); }
};

}  // namespace detail

/// Calls the SQL function `Name` with `args` (expressions, or values sent as `$n` parameters)
/// and reads its result as `Result`: declare `std::optional<R>` when it can be NULL. The name is
/// a compile-time constant (a lowercase identifier, optionally `schema.name`), so user text can
/// never become SQL. When the server's result type does not match `Result`, reading the row
/// throws pgorm::conversion_error naming the column; cast with pgorm::cast<T>() when needed.
///
///
/// A function may change data (a user's function that inserts, nextval): unless `Name` is one
/// of a few common built-ins known not to (lower, length, coalesce, date_trunc, now, ...; see
/// docs/queries.md), the call makes its select a write (sql_effect::writes), so that a cluster
/// sends it to the primary and an async pool never shares its implicit transaction. Call a
/// function of yours that only reads with fn_reads() instead.
///
/// Example: `pgorm::fn<"length", std::int32_t>(pgorm::col<&User::email>)` → `length(email)`
template <detail::fixed_string Name, class Result, class... A>
constexpr auto fn(A&&... args) {
  return detail::make_call<Name, Result, detail::call_kind::function>(std::forward<A>(args)...);
}

/// Calls the SQL function `Name` like fn(), declaring that it changes no data (it is STABLE or
/// IMMUTABLE, or at least writes nothing): the select stays a read, which a cluster may send to
/// a replica and an async pool may run in a transaction shared with other reads. Declaring a
/// function that does write is a bug: its writes can then be rolled back with another read.
///
/// Example: `pgorm::fn_reads<"app.slugify", std::string>(pgorm::col<&User::name>)`
template <detail::fixed_string Name, class Result, class... A>
constexpr auto fn_reads(A&&... args) {
  return detail::make_call<Name, Result, detail::call_kind::reads>(std::forward<A>(args)...);
}

/// Calls the SQL aggregate function `Name` (like fn(), but the query groups: a column selected
/// beside it must be in group_by()). Most aggregates return NULL over no rows: declare
/// `std::optional<R>`. An aggregate counts as reading (aggregates do not write in practice).
///
/// Example: `pgorm::aggregate<"string_agg", std::optional<std::string>>(col<&User::email>, ",")`
template <detail::fixed_string Name, class Result, class... A>
constexpr auto aggregate(A&&... args) {
  return detail::make_call<Name, Result, detail::call_kind::aggregate>(std::forward<A>(args)...);
}

/// `CAST(e AS type)`, where type is the SQL type of T (e.g. bigint for std::int64_t): converts
/// on the server, so that a value reads into T. A NULL stays NULL (the result is optional when
/// `e` is).
///
/// Example: `pgorm::cast<std::int64_t>(pgorm::fn<"length", std::int32_t>(col<&User::email>))`
template <class T, class E>
constexpr auto cast(E&& e) {
  static_assert(has_pg_type<T>,
                "pgorm: cast<T>() needs a type pgorm maps to SQL (std::int64_t, double, "
                "std::string, ...; see docs/types.md)");
  auto operand = detail::as_expr_untyped(std::forward<E>(e));
  using operand_type = decltype(operand);
  using out =
      detail::maybe_optional_t<T, detail::is_optional<typename operand_type::value_type>::value>;
  return detail::cast_expr<operand_type, out>{{}, std::move(operand)};
}

}  // namespace pgorm
