// SPDX-License-Identifier: MIT
#pragma once

/// \file
/// JSON operators on jsonb expressions: `->` (pgorm::json_get), `->>` (pgorm::json_get_text),
/// `@>` (pgorm::json_contains), `?` (pgorm::json_has_key), `#>` / `#>>` (pgorm::json_get_path,
/// pgorm::json_get_path_text), `@?` (pgorm::json_path_exists), `@@` (pgorm::json_path_match),
/// `-` (pgorm::json_remove, pgorm::json_remove_keys) and `#-` (pgorm::json_remove_path). Keys,
/// indexes, paths and documents are sent as `$n` parameters. A jsonb expression is a pgorm::jsonb
/// column or value, or a struct mapped to jsonb (pgorm/json_struct.hpp). See docs/queries.md,
/// "JSON".
///
/// ```cpp
/// auto city = pgorm::json_get_text(pgorm::json_get(pgorm::col<&Order::data>, "address"), "city");
/// ```

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "pgorm/codec.hpp"
#include "pgorm/expr.hpp"
#include "pgorm/json.hpp"
#include "pgorm/oids.hpp"

namespace pgorm {

namespace detail {

/// Whether T (optional or not) is sent and read as jsonb: pgorm::jsonb, or a struct mapped to
/// jsonb.
template <class T>
constexpr bool is_jsonb() {
  using U = remove_optional_t<T>;
  if constexpr (has_pg_type<U>) {
    return pg_type<U>::oid == oids::jsonb;
  } else {
    return false;
  }
}
template <class T>
inline constexpr bool is_jsonb_v = is_jsonb<T>();

template <fixed_string Token>
struct op_json {
  static constexpr std::string_view token = Token.view();
  static constexpr int precedence = prec_like;  // binds tighter than comparisons
};

template <class E>
constexpr void check_jsonb_operand() {
  static_assert(is_jsonb_v<typename E::value_type>,
                "pgorm: JSON operators apply to jsonb expressions (a pgorm::jsonb column, or a "
                "struct mapped to jsonb with pgorm/json_struct.hpp)");
}

/// A key (text) or an array index (integer) as a parameter.
template <class K>
constexpr auto json_key(K&& key) {
  using source = std::remove_cvref_t<K>;
  if constexpr (std::is_integral_v<source> && !std::is_same_v<source, bool> &&
                !std::is_same_v<source, char>) {
    return value_expr<std::int32_t>{{}, static_cast<std::int32_t>(key)};
  } else {
    static_assert(is_text_like_v<remove_optional_t<operand_value_t<K>>>,
                  "pgorm: a JSON key is text (an object's key) or an integer (an array index)");
    return as_expr<std::string>(std::forward<K>(key));
  }
}

/// A path of keys for `#>` and `#>>`: a text[] parameter.
inline auto json_path_param(std::vector<std::string> path) {
  return value_expr<std::vector<std::string>>{{}, std::move(path)};
}

/// `CAST($n AS jsonpath)`: a SQL/JSON path sent as a text parameter and cast on the server
/// (pgorm has no C++ jsonpath type; the server parses the path and reports a malformed one).
struct jsonpath_param : expr_base<jsonpath_param> {
  using value_type = std::string;
  using tables = type_list<>;
  static constexpr bool is_pgorm_expression = true;
  static constexpr bool is_static = true;
  static constexpr bool is_aggregate = false;
  static constexpr bool may_write = false;
  static constexpr bool has_bare_column = false;
  static constexpr int precedence = prec_primary;
  value_expr<std::string> path;

  template <class W, class S>
  static constexpr void render_from(W& w, const S& self) {
    w.append("CAST(");
    render_expr(w, part(self, &jsonpath_param::path));
    w.append(" AS jsonpath)");
  }
  void bind(param_list& sink) const { path.bind(sink); }
};

}  // namespace detail

/// `e -> key`: the member `key` of a JSON object (text) or the element at `key` of an array
/// (integer; negative counts from the end), as jsonb; NULL when there is none.
///
/// Example: `pgorm::json_get(col<&Order::data>, "address")`
template <expression E, class K>
constexpr auto json_get(const E& e, K&& key) {
  detail::check_jsonb_operand<E>();
  auto k = detail::json_key(std::forward<K>(key));
  return binary_expr<detail::op_json<" -> ">, E, decltype(k), std::optional<jsonb>>{
      {}, e, std::move(k)};
}

/// `e ->> key`: as json_get(), as text (a JSON string without its quotes); NULL when there is
/// none or it is JSON null.
///
/// Example: `pgorm::json_get_text(col<&Order::data>, "status") == "paid"`
template <expression E, class K>
constexpr auto json_get_text(const E& e, K&& key) {
  detail::check_jsonb_operand<E>();
  auto k = detail::json_key(std::forward<K>(key));
  return binary_expr<detail::op_json<" ->> ">, E, decltype(k), std::optional<std::string>>{
      {}, e, std::move(k)};
}

/// `e @> doc`: whether the jsonb value contains `doc` (every member and element of doc, at the
/// same place). doc is a jsonb expression, a pgorm::jsonb, or a struct mapped to jsonb.
///
/// Example: `pgorm::json_contains(col<&Order::data>, pgorm::jsonb{R"({"status": "paid"})"})`
template <expression E, class D>
constexpr auto json_contains(const E& e, D&& doc) {
  detail::check_jsonb_operand<E>();
  static_assert(detail::is_jsonb_v<detail::operand_value_t<D>>,
                "pgorm: json_contains() takes a jsonb document: a pgorm::jsonb, a struct mapped "
                "to jsonb, or a jsonb expression");
  auto d = detail::as_expr_untyped(std::forward<D>(doc));
  constexpr bool nullable = detail::is_optional<typename E::value_type>::value ||
                            detail::is_optional<typename decltype(d)::value_type>::value;
  return binary_expr<detail::op_json<" @> ">, E, decltype(d),
                     detail::maybe_optional_t<bool, nullable>>{{}, e, std::move(d)};
}

/// `e ? key`: whether the jsonb object has the top-level key (or the array has the string
/// element) `key`.
///
/// Example: `pgorm::json_has_key(col<&Order::data>, "coupon")`
template <expression E, class K>
constexpr auto json_has_key(const E& e, K&& key) {
  detail::check_jsonb_operand<E>();
  static_assert(detail::is_text_like_v<detail::remove_optional_t<detail::operand_value_t<K>>>,
                "pgorm: json_has_key() takes a text key");
  auto k = detail::as_expr<std::string>(std::forward<K>(key));
  constexpr bool nullable = detail::is_optional<typename E::value_type>::value;
  return binary_expr<detail::op_json<" ? ">, E, decltype(k),
                     detail::maybe_optional_t<bool, nullable>>{{}, e, std::move(k)};
}

/// `e #> path`: the value at a path of keys and array indexes (as text: `{"address", "city"}`,
/// `{"tags", "0"}`), as jsonb; NULL when there is none. The path is one text[] parameter.
///
/// Example: `pgorm::json_get_path(col<&Order::data>, {"address", "city"})`
template <expression E>
auto json_get_path(const E& e, std::vector<std::string> path) {
  detail::check_jsonb_operand<E>();
  auto p = detail::json_path_param(std::move(path));
  return binary_expr<detail::op_json<" #> ">, E, decltype(p), std::optional<jsonb>>{
      {}, e, std::move(p)};
}

/// `e #>> path`: as json_get_path(), as text (a JSON string without its quotes); NULL when
/// there is none or it is JSON null.
///
/// Example: `pgorm::json_get_path_text(col<&Order::data>, {"address", "city"}) == "Oslo"`
template <expression E>
auto json_get_path_text(const E& e, std::vector<std::string> path) {
  detail::check_jsonb_operand<E>();
  auto p = detail::json_path_param(std::move(path));
  return binary_expr<detail::op_json<" #>> ">, E, decltype(p), std::optional<std::string>>{
      {}, e, std::move(p)};
}

/// `e @? CAST(path AS jsonpath)`: whether the SQL/JSON path (e.g. `$.items[*] ? (@.qty > 2)`)
/// returns any item for the value. A malformed path is a pgorm::sql_error from the server
/// (SQLSTATE 42601).
///
/// Example: `pgorm::json_path_exists(col<&Order::data>, "$.items[*] ? (@.qty > 2)")`
template <expression E>
auto json_path_exists(const E& e, std::string path) {
  detail::check_jsonb_operand<E>();
  detail::jsonpath_param p{{}, {{}, std::move(path)}};
  constexpr bool nullable = detail::is_optional<typename E::value_type>::value;
  return binary_expr<detail::op_json<" @? ">, E, detail::jsonpath_param,
                     detail::maybe_optional_t<bool, nullable>>{{}, e, std::move(p)};
}

/// `e @@ CAST(path AS jsonpath)`: the result of a SQL/JSON path predicate (e.g.
/// `$.total > 100`) for the value: NULL (std::nullopt) when the predicate's result is unknown,
/// such as a missing member.
///
/// Example: `pgorm::json_path_match(col<&Order::data>, "$.total > 100")`
template <expression E>
auto json_path_match(const E& e, std::string path) {
  detail::check_jsonb_operand<E>();
  detail::jsonpath_param p{{}, {{}, std::move(path)}};
  return binary_expr<detail::op_json<" @@ ">, E, detail::jsonpath_param, std::optional<bool>>{
      {}, e, std::move(p)};
}

/// `e - key`: the jsonb value without the top-level member `key` (text), or without the array
/// element at `key` (integer; negative counts from the end). Useful in an update's set().
///
/// Example: `pgorm::json_remove(col<&Order::data>, "coupon")`
template <expression E, class K>
constexpr auto json_remove(const E& e, K&& key) {
  detail::check_jsonb_operand<E>();
  auto k = detail::json_key(std::forward<K>(key));
  // pgorm::jsonb even for a struct column: the result lacks a member the struct may need.
  using out = detail::maybe_optional_t<jsonb, detail::is_optional<typename E::value_type>::value>;
  return binary_expr<detail::op_sub, E, decltype(k), out>{{}, e, std::move(k)};
}

/// `e - keys`: the jsonb object without any of the top-level members `keys` (one text[]
/// parameter); keys it does not have are ignored.
///
/// Example: `pgorm::json_remove_keys(col<&Order::data>, {"coupon", "note"})`
template <expression E>
auto json_remove_keys(const E& e, std::vector<std::string> keys) {
  detail::check_jsonb_operand<E>();
  auto k = detail::json_path_param(std::move(keys));
  using out = detail::maybe_optional_t<jsonb, detail::is_optional<typename E::value_type>::value>;
  return binary_expr<detail::op_sub, E, decltype(k), out>{{}, e, std::move(k)};
}

/// `e #- path`: the jsonb value without the member or array element at a path of keys and
/// array indexes (as text, as for json_get_path(); negative indexes count from the end). The
/// value is unchanged when the path leads nowhere.
///
/// Example: `pgorm::json_remove_path(col<&Order::data>, {"address", "zip"})`
template <expression E>
auto json_remove_path(const E& e, std::vector<std::string> path) {
  detail::check_jsonb_operand<E>();
  auto p = detail::json_path_param(std::move(path));
  using out = detail::maybe_optional_t<jsonb, detail::is_optional<typename E::value_type>::value>;
  return binary_expr<detail::op_json<" #- ">, E, decltype(p), out>{{}, e, std::move(p)};
}

}  // namespace pgorm
