// SPDX-License-Identifier: MIT
#pragma once

/// \file
/// Lookup by primary key: `pgorm::find<User>(conn, 42)` is a std::optional<User>.

#include <cstddef>
#include <optional>
#include <tuple>
#include <utility>

#include "pgorm/expr.hpp"
#include "pgorm/query/select.hpp"
#include "pgorm/table.hpp"

namespace pgorm {

namespace detail {
template <class T, std::size_t... I>
auto key_tuple_type(std::index_sequence<I...>)
    -> std::tuple<field_type_t<T, table<T>::primary_key[I]>...>;
template <class T>
using key_tuple_t =
    decltype(key_tuple_type<T>(std::make_index_sequence<table<T>::primary_key.size()>{}));
}  // namespace detail

/// `pk1 = $1 AND pk2 = $2 ...` over the primary key of T: the condition find() uses.
template <class T>
struct primary_key_expr : expr_base<primary_key_expr<T>> {
  using value_type = bool;
  using tables = detail::type_list<table_ref<T>>;
  static constexpr bool is_pgorm_expression = true;
  static constexpr bool is_static = true;
  static constexpr bool is_aggregate = false;
  static constexpr bool may_write = false;
  static constexpr bool has_bare_column = true;
  static constexpr int precedence =
      table<T>::primary_key.size() > 1 ? detail::prec_and : detail::prec_compare;
  detail::key_tuple_t<T> key;

  template <class W>
  static constexpr void render(W& w) {
    for (std::size_t i = 0; i != table<T>::primary_key.size(); ++i) {
      if (i != 0) w.append(" AND ");
      if (w.qualify) {
        table_ref<T>::render_qualifier(w);
        w.append('.');
      }
      w.append(table<T>::columns[table<T>::primary_key[i]].sql_name);
      w.append(" = ");
      w.placeholder();
    }
  }
  void bind(detail::param_list& sink) const {
    std::apply([&](const auto&... k) { (sink.add(k), ...); }, key);
  }
};

/// The condition "the primary key of T equals key..." (one value per key column, in order).
///
/// Example: `pgorm::select<Member>().where(pgorm::primary_key<Member>(org_id, user_id))`
template <class T, class... K>
auto primary_key(const K&... key) {
  constexpr std::size_t n = table<T>::primary_key.size();
  static_assert(n > 0,
                "pgorm: this table has no primary key; declare one in table_traits<T> "
                "(primary_key = pgorm::key(&T::id)) or query with where()");
  static_assert(sizeof...(K) == n,
                "pgorm: pass one value per primary-key column, in the key's order");
  using key_t = detail::key_tuple_t<T>;
  return [&]<std::size_t... I>(std::index_sequence<I...>) {
    return primary_key_expr<T>{
        {}, key_t(detail::make_value<std::tuple_element_t<I, key_t>>(key).value...)};
  }
  (std::make_index_sequence<n>{});
}

/// The row of T whose primary key is key..., or std::nullopt.
///
/// Example: `std::optional<User> u = pgorm::find<User>(conn, 42);`
template <class T, executor E, class... K>
std::optional<T> find(E& exec, const K&... key) {
  return select<T>().where(primary_key<T>(key...)).first(exec);
}

}  // namespace pgorm
