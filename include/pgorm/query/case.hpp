// SPDX-License-Identifier: MIT
#pragma once

/// \file
/// CASE expressions: `pgorm::case_when(cond, value).when(cond, value).else_(value)`. Every
/// branch has the type of the first one (checked at compile time); without else_() the result
/// is optional (NULL when no condition holds). See docs/queries.md, "CASE".
///
/// ```cpp
/// auto bracket = pgorm::case_when(pgorm::col<&User::age> < 18, "minor").else_("adult");
/// ```

#include <cstddef>
#include <optional>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>

#include "pgorm/expr.hpp"

namespace pgorm {

namespace detail {

/// The type CASE branches share: the value type without optional, text-likes as std::string.
template <class T>
using case_type_t =
    std::conditional_t<is_text_like_v<remove_optional_t<T>>, std::string, remove_optional_t<T>>;

/// One `WHEN cond THEN value`.
template <class C, class V>
struct case_branch {
  C cond;
  V value;
};

template <class... B>
struct case_branches_traits;
template <class... C, class... V>
struct case_branches_traits<case_branch<C, V>...> {
  using tables = list_union_t<type_list<>, typename C::tables..., typename V::tables...>;
  static constexpr bool is_static = ((C::is_static && V::is_static) && ...);
  static constexpr bool is_aggregate = ((C::is_aggregate || V::is_aggregate) || ...);
  static constexpr bool may_write = ((C::may_write || V::may_write) || ...);
  static constexpr bool has_bare_column = ((C::has_bare_column || V::has_bare_column) || ...);
  static constexpr bool nullable = (is_optional<typename V::value_type>::value || ...);
};

/// The value of a branch as an expression of type T: a plain value becomes a `$n` parameter of
/// T's SQL type; an expression must already have T's type.
template <class T, class V>
constexpr auto case_value(V&& value) {
  using given = case_type_t<operand_value_t<V>>;
  if constexpr (expression<V>) {
    static_assert(std::is_same_v<given, T>,
                  "pgorm: every CASE branch must have the same SQL type as the first one; "
                  "convert with pgorm::cast<T>() (query/functions.hpp)");
  } else {
    static_assert(std::is_same_v<std::remove_cvref_t<V>, std::nullopt_t> ||
                      comparable_v<T, operand_value_t<V>>,
                  "pgorm: every CASE branch must have the same SQL type as the first one; "
                  "convert with pgorm::cast<T>() (query/functions.hpp)");
  }
  return as_expr<T>(std::forward<V>(value));
}

/// Whether the ELSE branch can be NULL (false when there is none: then the CASE itself can).
template <class Else>
inline constexpr bool else_nullable_v = is_optional<typename Else::value_type>::value;
template <>
inline constexpr bool else_nullable_v<absent> = false;

template <class C>
constexpr void check_case_condition() {
  static_assert(condition<C>,
                "pgorm: case_when() and when() take a boolean condition first, e.g. "
                "pgorm::col<&User::age> >= 18");
}

}  // namespace detail

/// `CASE WHEN c1 THEN v1 [WHEN ...] [ELSE e] END`, made by pgorm::case_when(). `T` is the
/// branches' type; `Else` is detail::absent until else_().
template <class T, class Else, class... Branch>
struct case_expr : expr_base<case_expr<T, Else, Branch...>> {
 private:
  using traits = detail::case_branches_traits<Branch...>;
  static constexpr bool has_else = !std::is_same_v<Else, detail::absent>;

 public:
  using value_type =
      detail::maybe_optional_t<T, !has_else || traits::nullable || detail::else_nullable_v<Else>>;
  using tables = detail::list_union_t<typename traits::tables, typename Else::tables>;
  static constexpr bool is_pgorm_expression = true;
  static constexpr bool is_static = traits::is_static && Else::is_static;
  static constexpr bool is_aggregate = traits::is_aggregate || Else::is_aggregate;
  static constexpr bool may_write = traits::may_write || Else::may_write;
  static constexpr bool has_bare_column = traits::has_bare_column || Else::has_bare_column;
  static constexpr int precedence = detail::prec_primary;

  std::tuple<Branch...> branches;
  Else otherwise;

  /// Adds `WHEN cond THEN value`; value has the first branch's type (a plain value is sent as
  /// a parameter of that type, std::nullopt as NULL).
  template <class C, class V>
  constexpr auto when(const C& cond, V&& value) const {
    static_assert(!has_else, "pgorm: when() after else_(); give else_() last");
    detail::check_case_condition<C>();
    auto v = detail::case_value<T>(std::forward<V>(value));
    using branch = detail::case_branch<C, decltype(v)>;
    return case_expr<T, Else, Branch..., branch>{
        {}, std::tuple_cat(branches, std::tuple<branch>{branch{cond, std::move(v)}}), otherwise};
  }

  /// Adds `ELSE value`: the result when no condition holds (no longer NULL then, unless the
  /// value or a branch can be).
  template <class V>
  constexpr auto else_(V&& value) const {
    static_assert(!has_else, "pgorm: else_() was already given");
    auto v = detail::case_value<T>(std::forward<V>(value));
    return case_expr<T, decltype(v), Branch...>{{}, branches, std::move(v)};
  }

  template <class W, class S>
  static constexpr void render_from(W& w, const S& self) {
    w.append("CASE");
    const auto& all = detail::part(self, &case_expr::branches);
    [&]<std::size_t... I>(std::index_sequence<I...>) {
      (
          [&] {
            const auto& b = detail::element<I>(all);
            using B = std::tuple_element_t<I, std::tuple<Branch...>>;
            w.append(" WHEN ");
            detail::render_expr(w, detail::part(b, &B::cond));
            w.append(" THEN ");
            detail::render_expr(w, detail::part(b, &B::value));
          }(),
          ...);
    }
    (std::index_sequence_for<Branch...>{});
    if constexpr (has_else) {
      w.append(" ELSE ");
      detail::render_expr(w, detail::part(self, &case_expr::otherwise));
    }
    w.append(" END");
  }
  void bind(detail::param_list& sink) const {
    std::apply([&](const Branch&... b) { ((b.cond.bind(sink), b.value.bind(sink)), ...); },
               branches);
    otherwise.bind(sink);
  }
};

/// Starts `CASE WHEN cond THEN value ... END`. The first value fixes the type of every branch
/// (a column, an expression, or a plain value such as `"adult"` or `0`); add branches with
/// .when(cond, value) and the fallback with .else_(value). Without else_() the result is
/// std::optional (NULL when no condition holds).
///
/// Example: `pgorm::case_when(col<&User::age> < 18, "minor").when(col<&User::age> < 65,
/// "adult").else_("senior")`
template <class C, class V>
constexpr auto case_when(const C& cond, V&& value) {
  static_assert(!std::is_same_v<std::remove_cvref_t<V>, std::nullopt_t>,
                "pgorm: the first CASE branch fixes the result type, so it cannot be "
                "std::nullopt; start with a valued branch or put NULL in else_()");
  detail::check_case_condition<C>();
  using T = detail::case_type_t<detail::operand_value_t<V>>;
  auto v = detail::as_expr<T>(std::forward<V>(value));
  using branch = detail::case_branch<C, decltype(v)>;
  return case_expr<T, detail::absent, branch>{{}, {branch{cond, std::move(v)}}, {}};
}

}  // namespace pgorm
