// SPDX-License-Identifier: MIT
#pragma once

/// \file
/// JSON operators on jsonb expressions: `->` (pgorm::json_get), `->>` (pgorm::json_get_text),
/// `@>` (pgorm::json_contains) and `?` (pgorm::json_has_key). Keys, indexes and documents are
/// sent as `$n` parameters. A jsonb expression is a pgorm::jsonb column or value, or a struct
/// mapped to jsonb (pgorm/json_struct.hpp). See docs/queries.md, "JSON".
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

}  // namespace pgorm
