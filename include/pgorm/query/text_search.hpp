// SPDX-License-Identifier: MIT
#pragma once

/// \file
/// Full-text search: to_tsvector, websearch_to_tsquery / plainto_tsquery / phraseto_tsquery /
/// to_tsquery, the match operator `@@` (pgorm::matches) and ts_rank / ts_rank_cd. The text
/// search configuration ("english", "simple", ...) is a compile-time constant. A document is
/// a pgorm::tsvector: a column of that type, or to_tsvector(text). See docs/queries.md,
/// "Full-text search".
///
/// ```cpp
/// auto hit = pgorm::matches(pgorm::to_tsvector<"english">(pgorm::col<&Post::body>),
///                           pgorm::websearch_to_tsquery<"english">(user_input));
/// ```

#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include "pgorm/detail/fixed_string.hpp"
#include "pgorm/expr.hpp"
#include "pgorm/query/functions.hpp"
#include "pgorm/tsvector.hpp"

namespace pgorm {

/// The SQL type tsquery, as the value type of text search expressions (a parsed search). It is
/// not read into C++ as such (its binary form is an operator tree): select
/// pgorm::ts_text(query) for its text form.
struct tsquery_type {};

namespace detail {

/// The text search configuration argument `'config'`: a compile-time constant written into the
/// SQL text (checked to be a plain identifier), so that the planner can match an expression
/// index built with the same configuration.
template <fixed_string Config>
struct ts_config_arg : expr_base<ts_config_arg<Config>> {
  static_assert(valid_function_name(Config.view()),
                "pgorm: a text search configuration is a lowercase SQL identifier, e.g. "
                "\"english\" or \"simple\"");
  struct regconfig {};  // the SQL type of the argument; never read into C++
  using value_type = regconfig;
  using tables = type_list<>;
  static constexpr bool is_pgorm_expression = true;
  static constexpr bool is_static = true;
  static constexpr bool is_aggregate = false;
  static constexpr bool may_write = false;
  static constexpr bool has_bare_column = false;
  static constexpr int precedence = prec_primary;

  template <class W>
  static constexpr void render(W& w) {
    w.append('\'');
    w.append(Config.view());
    w.append('\'');
  }
  void bind(param_list& /*sink*/) const {}
};

/// A text search function `name('config', text)` (`name(text)`, the server's
/// default_text_search_config, when Config is empty): a SQL function call with a declared
/// result, as pgorm::fn makes, whose text is a text expression or a value sent as a text
/// parameter.
template <fixed_string Name, fixed_string Config, class Value, class T>
constexpr auto text_call(T&& text) {
  using given = remove_optional_t<operand_value_t<T>>;
  static_assert(is_text_like_v<given>,
                "pgorm: to_tsvector() and the *_to_tsquery() functions take text");
  auto e = as_expr<std::string>(std::forward<T>(text));
  using E = decltype(e);
  using out = maybe_optional_t<Value, is_optional<typename E::value_type>::value>;
  if constexpr (Config.size() == 0) {
    return function_expr<Name, out, detail::call_kind::reads, E>{{}, {std::move(e)}};
  } else {
    return function_expr<Name, out, detail::call_kind::reads, ts_config_arg<Config>, E>{
        {}, {ts_config_arg<Config>{}, std::move(e)}};
  }
}

template <class E, class T>
inline constexpr bool has_type_v = std::is_same_v<remove_optional_t<typename E::value_type>, T>;

struct op_ts_match {
  static constexpr std::string_view token = " @@ ";
  static constexpr int precedence = prec_like;  // binds tighter than comparisons
};

}  // namespace detail

/// `to_tsvector('config', text)`: the document's lexemes under a text search configuration
/// (`to_tsvector(text)` with the server's default one when Config is omitted).
///
/// Example: `pgorm::to_tsvector<"english">(pgorm::col<&Post::body>)`
template <detail::fixed_string Config = "", class T>
constexpr auto to_tsvector(T&& text) {
  return detail::text_call<"to_tsvector", Config, tsvector>(std::forward<T>(text));
}
/// `websearch_to_tsquery('config', text)`: a search typed by a user, web-search style
/// (`"exact phrase"`, `or`, `-excluded`); never a syntax error, whatever the input.
template <detail::fixed_string Config = "", class T>
constexpr auto websearch_to_tsquery(T&& text) {
  return detail::text_call<"websearch_to_tsquery", Config, tsquery_type>(std::forward<T>(text));
}
/// `plainto_tsquery('config', text)`: every word of the text (AND); punctuation ignored.
template <detail::fixed_string Config = "", class T>
constexpr auto plainto_tsquery(T&& text) {
  return detail::text_call<"plainto_tsquery", Config, tsquery_type>(std::forward<T>(text));
}
/// `phraseto_tsquery('config', text)`: the words of the text in this order (`<->`).
template <detail::fixed_string Config = "", class T>
constexpr auto phraseto_tsquery(T&& text) {
  return detail::text_call<"phraseto_tsquery", Config, tsquery_type>(std::forward<T>(text));
}
/// `to_tsquery('config', text)`: tsquery syntax (`cat & (dog | rat)`); malformed text is a
/// pgorm::sql_error, so give it only queries your program wrote.
template <detail::fixed_string Config = "", class T>
constexpr auto to_tsquery(T&& text) {
  return detail::text_call<"to_tsquery", Config, tsquery_type>(std::forward<T>(text));
}

/// `document @@ query`: whether a tsvector matches a tsquery.
///
/// Example: `pgorm::matches(pgorm::to_tsvector<"english">(col<&Post::body>),
/// pgorm::websearch_to_tsquery<"english">(input))`
template <expression D, expression Q>
constexpr auto matches(const D& document, const Q& query) {
  static_assert(
      detail::has_type_v<D, tsvector> && detail::has_type_v<Q, tsquery_type>,
      "pgorm: matches() takes a tsvector (a pgorm::tsvector column, pgorm::to_tsvector) and "
      "a tsquery "
      "(pgorm::websearch_to_tsquery, plainto_tsquery, ...), in this order");
  constexpr bool nullable = detail::is_optional<typename D::value_type>::value ||
                            detail::is_optional<typename Q::value_type>::value;
  return binary_expr<detail::op_ts_match, D, Q, detail::maybe_optional_t<bool, nullable>>{
      {}, document, query};
}

/// `ts_rank(document, query)`: how well the document matches (real), for order_by(x.desc());
/// NULL (std::nullopt) when the document is.
template <expression D, expression Q>
constexpr auto ts_rank(const D& document, const Q& query) {
  static_assert(detail::has_type_v<D, tsvector> && detail::has_type_v<Q, tsquery_type>,
                "pgorm: ts_rank() takes a tsvector (pgorm::to_tsvector) and a tsquery "
                "(pgorm::websearch_to_tsquery, plainto_tsquery, ...), in this order");
  using out =
      detail::maybe_optional_t<float, detail::is_optional<typename D::value_type>::value ||
                                          detail::is_optional<typename Q::value_type>::value>;
  return function_expr<"ts_rank", out, detail::call_kind::reads, D, Q>{{}, {document, query}};
}
/// `ts_rank_cd(document, query)`: cover density ranking (real): matches close together rank
/// higher.
template <expression D, expression Q>
constexpr auto ts_rank_cd(const D& document, const Q& query) {
  static_assert(detail::has_type_v<D, tsvector> && detail::has_type_v<Q, tsquery_type>,
                "pgorm: ts_rank() takes a tsvector (pgorm::to_tsvector) and a tsquery "
                "(pgorm::websearch_to_tsquery, plainto_tsquery, ...), in this order");
  using out =
      detail::maybe_optional_t<float, detail::is_optional<typename D::value_type>::value ||
                                          detail::is_optional<typename Q::value_type>::value>;
  return function_expr<"ts_rank_cd", out, detail::call_kind::reads, D, Q>{{}, {document, query}};
}

/// `CAST(e AS text)`: a tsvector (`'fox':2 'quick':1`) or tsquery (`'fox' & 'quick'`) as its
/// text form, read as std::string (std::optional when e may be NULL), as pgorm::cast
/// writes it. A tsvector also reads as pgorm::tsvector (its lexemes); a tsquery only as text.
///
/// Example: `pgorm::ts_text(pgorm::to_tsvector<"english">(col<&User::name>))`
template <expression E>
constexpr auto ts_text(const E& e) {
  static_assert(detail::has_type_v<E, tsvector> || detail::has_type_v<E, tsquery_type>,
                "pgorm: ts_text() takes a tsvector or tsquery expression, e.g. "
                "pgorm::to_tsvector<\"english\">(text)");
  return pgorm::cast<std::string>(e);
}

}  // namespace pgorm
