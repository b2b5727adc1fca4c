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
#include "pgorm/params.hpp"

namespace pgorm::detail {

/// Whether clause `C` was given (is not detail::absent).
template <class C>
inline constexpr bool present_v = !std::is_same_v<C, absent>;

// The helpers below are plain folds over an index_sequence: a generic lambda (and the lambda
// per element inside its fold) was a closure type per list type, instantiated for every
// clause of every builder.
template <class W, class S, std::size_t... I>
constexpr void render_comma_list(W& w, const S& items, std::index_sequence<I...> /*seq*/) {
  ((w.append(I == 0 ? "" : ", "), render_expr(w, element<I>(items))), ...);
}
/// Writes `a, b, c` for a std::tuple of clause items (expressions, order terms, assignments),
/// from the object or from its shape.
template <class W, class S>
constexpr void render_comma_list(W& w, const S& items) {
  render_comma_list(w, items, std::make_index_sequence<std::tuple_size_v<source_type_t<S>>>{});
}

template <class W, class S, std::size_t... I>
constexpr void render_each(W& w, const S& items, std::index_sequence<I...> /*seq*/) {
  (render_expr(w, element<I>(items)), ...);
}
/// Writes each clause of a std::tuple in turn, without separators (e.g. joins).
template <class W, class S>
constexpr void render_each(W& w, const S& items) {
  render_each(w, items, std::make_index_sequence<std::tuple_size_v<source_type_t<S>>>{});
}

template <class Tuple, std::size_t... I>
void bind_each(param_list& p, const Tuple& items, std::index_sequence<I...> /*seq*/) {
  (std::get<I>(items).bind(p), ...);
}
/// Appends the parameters of each clause of a std::tuple, in order.
template <class... C>
void bind_each(param_list& p, const std::tuple<C...>& items) {
  bind_each(p, items, std::index_sequence_for<C...>{});
}

/// What a std::tuple of clauses reads, whether its text is static and whether it may change
/// data.
template <class Tuple>
struct clause_list;
template <class... C>
struct clause_list<std::tuple<C...>> {
  using tables = list_union_t<type_list<>, typename C::tables...>;
  static constexpr bool is_static = (C::is_static && ...);
  static constexpr bool may_write = (C::may_write || ...);
};

/// What one part of a builder reads, whether its text is static and whether it may change
/// data (call a function that writes): a clause's own `tables`, `is_static` and `may_write`, a
/// std::tuple's of its clauses; nothing, static and read-only for a part that is not a clause
/// (the FROM table).
template <class C>
struct part_traits {
  using tables = type_list<>;
  static constexpr bool is_static = true;
  static constexpr bool may_write = false;
};
template <class C>
requires requires { C::is_static; }
struct part_traits<C> {
  using tables = typename C::tables;
  static constexpr bool is_static = C::is_static;
  static constexpr bool may_write = C::may_write;
};
template <class... C>
requires(requires { C::is_static; } && ...) struct part_traits<std::tuple<C...>>
    : clause_list<std::tuple<C...>> {
};

/// Appends the parameters of one part of a builder: a clause's, each of a std::tuple's.
template <class C>
void bind_part(param_list& p, const C& c) {
  if constexpr (requires { bind_each(p, c); }) {
    bind_each(p, c);
  } else if constexpr (requires { c.bind(p); }) {
    c.bind(p);
  }
}

/// One part of a clause_set: the value at position I. Parts are stored side by side as bases
/// of one aggregate rather than in a std::tuple: a leaf is shared by every set that has the
/// same part at the same position, where a std::tuple instantiates its nested implementation
/// again for every suffix that differs (most of a builder chain's compile cost).
template <std::size_t I, class P>
struct part_leaf {
  P value;
};
template <class Seq, class... P>
struct part_store;
template <std::size_t... K, class... P>
struct part_store<std::index_sequence<K...>, P...> : part_leaf<K, P>... {};

/// The parts of a builder (its clauses, one value each) in one aggregate, by position: an
/// enumerator of the builder's own enum, the positions in the order the statement renders them
/// (so that binding the parts in order matches the placeholders). with<I>(v) is the one place
/// a builder's type changes: the same parts with part I replaced by v (detail::builder makes
/// the builder of the new parts).
template <class... P>
struct clause_set {
  template <auto I>
  using type = std::tuple_element_t<static_cast<std::size_t>(I), std::tuple<P...>>;

  /// The tables the parts read, whether the statement's text depends only on its type, and
  /// whether an expression of a part may change data (a call of a function that may write).
  using tables = list_union_t<type_list<>, typename part_traits<P>::tables...>;
  static constexpr bool is_static = (part_traits<P>::is_static && ...);
  static constexpr bool may_write = (part_traits<P>::may_write || ...);

  part_store<std::index_sequence_for<P...>, P...> items;

  template <auto I>
  [[nodiscard]] constexpr const type<I>& get() const {
    constexpr std::size_t pos = static_cast<std::size_t>(I);
    return static_cast<const part_leaf<pos, type<I>>&>(items).value;
  }

  template <auto I, class V>
  [[nodiscard]] constexpr auto with(V&& value) const {
    return with_at<static_cast<std::size_t>(I), V>(value, std::index_sequence_for<P...>{});
  }

  /// Appends the parameters of every part, in position order.
  void bind(param_list& p) const { bind_all(p, std::index_sequence_for<P...>{}); }

 private:
  // V: as with() deduced it (an lvalue reference: the value is copied into place).
  template <std::size_t Pos, class V, std::size_t... K>
  constexpr auto with_at(std::remove_reference_t<V>& value,
                         std::index_sequence<K...> /*seq*/) const {
    return clause_set<std::conditional_t<K == Pos, std::remove_cvref_t<V>, P>...>{
        {{take_or_keep<K == Pos, V>(static_cast<const part_leaf<K, P>&>(items).value, value)}...}};
  }
  template <std::size_t... K>
  void bind_all(param_list& p, std::index_sequence<K...> /*seq*/) const {
    (bind_part(p, static_cast<const part_leaf<K, P>&>(items).value), ...);
  }

  template <bool Take, class V, class Old>
  static constexpr auto&& take_or_keep(const Old& old, std::remove_reference_t<V>& value) {
    if constexpr (Take) {
      return std::forward<V>(value);
    } else {
      return old;
    }
  }
};

/// Names part I of a builder in with_part(part_at<I>, value) (a function argument, so that
/// the builders call detail::builder's with_part without `this->template`).
template <auto I>
struct part_at_t {};
template <auto I>
inline constexpr part_at_t<I> part_at{};

/// Part I of a builder's parts, from a rendering source: a reference into the object's parts,
/// or the shape of its type.
template <auto I, class... P>
constexpr const auto& clause(const clause_set<P...>& parts) {
  return parts.template get<I>();
}
template <auto I, class... P>
constexpr auto clause(shape<clause_set<P...>> /*parts*/) {
  return shape<typename clause_set<P...>::template type<I>>{};
}

/// The base of a clause whose text depends only on its type and that reads no table
/// (DISTINCT, LIMIT, a row lock, ON CONFLICT DO NOTHING, ...): the clause adds its static
/// render(W&), and its own bind() when it has parameters.
struct static_clause {
  using tables = type_list<>;
  static constexpr bool is_static = true;
  static constexpr bool may_write = false;
  void bind(param_list& /*p*/) const {}
};

/// Updates and removes need where(cond), or this opt-in from all_rows(): "every row". A part
/// that is not a clause: it renders and binds nothing.
struct all_rows_clause {};

/// The builder of type `Q` (`B<Exec, Parts>`, or `B<Exec, T, Parts>` for a statement on the
/// table of T) with executor `E` and parts `P`.
template <class Q, class E, class P>
struct remade;
template <template <class, class> class B, class X, class Parts, class E, class P>
struct remade<B<X, Parts>, E, P> {
  using type = B<E, P>;
};
template <template <class, class, class> class B, class X, class T, class Parts, class E, class P>
struct remade<B<X, T, Parts>, E, P> {
  using type = B<E, T, P>;
};
template <class Q, class E, class P>
using remade_t = typename remade<Q, E, P>::type;

}  // namespace pgorm::detail
