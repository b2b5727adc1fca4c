// SPDX-License-Identifier: MIT
#pragma once

/// \file
/// The clause protocol every builder (select, insert, update, remove) is made of. A clause is a
/// value type that knows
/// - `tables`: the tables its expressions read (a detail::type_list of table_refs);
/// - `is_static`: whether its SQL text depends only on its type;
/// - how it renders: `static constexpr void render(W&)` from the type alone when static, and
///   `void render_dynamic(W&) const` from the object (detail::render_expr picks one);
/// - `void bind(param_list&) const`: appends its parameters, in the order it renders them.
/// An absent clause is detail::absent (expr.hpp), the same type in every builder.

#include <cstddef>
#include <tuple>
#include <type_traits>
#include <utility>

#include "pgorm/expr.hpp"

namespace pgorm::detail {

/// Whether clause `C` was given (is not detail::absent).
template <class C>
inline constexpr bool present_v = !std::is_same_v<C, absent>;

/// Writes `a, b, c` for a std::tuple of clause items (expressions, order terms, assignments),
/// from the object or from its shape.
template <class W, class S>
constexpr void render_comma_list(W& w, const S& items) {
  [&]<std::size_t... I>(std::index_sequence<I...>) {
    (
        [&] {
          if constexpr (I > 0) w.append(", ");
          render_expr(w, element<I>(items));
        }(),
        ...);
  }
  (std::make_index_sequence<std::tuple_size_v<source_type_t<S>>>{});
}

/// Writes each clause of a std::tuple in turn, without separators (e.g. joins).
template <class W, class S>
constexpr void render_each(W& w, const S& items) {
  [&]<std::size_t... I>(std::index_sequence<I...>) { (render_expr(w, element<I>(items)), ...); }
  (std::make_index_sequence<std::tuple_size_v<source_type_t<S>>>{});
}

/// Appends the parameters of each clause of a std::tuple, in order.
template <class... C>
void bind_each(param_list& p, const std::tuple<C...>& items) {
  std::apply([&](const C&... c) { (c.bind(p), ...); }, items);
}

/// What a std::tuple of clauses reads and whether its text is static.
template <class Tuple>
struct clause_list;
template <class... C>
struct clause_list<std::tuple<C...>> {
  using tables = list_union_t<type_list<>, typename C::tables...>;
  static constexpr bool is_static = (C::is_static && ...);
};

}  // namespace pgorm::detail
