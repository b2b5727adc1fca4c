// SPDX-License-Identifier: MIT
#pragma once

/// \file
/// A minimal type list for the query builder's bookkeeping (which tables an expression uses).
/// Plain C++20 folds on purpose: the builders make one list per expression node and only ask
/// "contains" and "append unique", which a fold answers with one instantiation; a hana::tuple_t
/// or hana::set per node would instantiate Hana's algorithm machinery for each one, as measured
/// on the table options (a per-table hana::all_of cost more than a fold there). Boost.Hana is
/// used where values and types are mixed: the table options in detail/table_checks.hpp (see
/// docs/design.md, "Boost.Hana for table options").

#include <type_traits>

namespace pgorm::detail {

template <class... T>
struct type_list {
  static constexpr std::size_t size = sizeof...(T);
};

template <class List, class T>
struct list_contains;
template <class... Ts, class T>
struct list_contains<type_list<Ts...>, T> : std::bool_constant<(std::is_same_v<Ts, T> || ...)> {};
template <class List, class T>
inline constexpr bool list_contains_v = list_contains<List, T>::value;

template <class List, class T>
struct list_append_unique;
template <class... Ts, class T>
struct list_append_unique<type_list<Ts...>, T> {
  using type =
      std::conditional_t<(std::is_same_v<Ts, T> || ...), type_list<Ts...>, type_list<Ts..., T>>;
};

template <class A, class B>
struct list_union;
template <class A>
struct list_union<A, type_list<>> {
  using type = A;
};
// Not "B0": <termios.h>, which <boost/asio.hpp> includes, defines it as a macro.
template <class A, class BHead, class... Bs>
struct list_union<A, type_list<BHead, Bs...>> {
  using type =
      typename list_union<typename list_append_unique<A, BHead>::type, type_list<Bs...>>::type;
};
template <class... Lists>
struct list_union_all {
  using type = type_list<>;
};
template <class L0, class... Ls>
struct list_union_all<L0, Ls...> {
  using type = typename list_union<L0, typename list_union_all<Ls...>::type>::type;
};
/// The union of several type lists, without duplicates.
template <class... Lists>
using list_union_t = typename list_union_all<Lists...>::type;

/// True when every type of `Sub` is in `Super`.
template <class Sub, class Super>
struct list_subset;
template <class... Ts, class Super>
struct list_subset<type_list<Ts...>, Super>
    : std::bool_constant<(list_contains_v<Super, Ts> && ...)> {};
template <class Sub, class Super>
inline constexpr bool list_subset_v = list_subset<Sub, Super>::value;

/// True when the lists share a type.
template <class A, class B>
struct list_intersects;
template <class... Ts, class B>
struct list_intersects<type_list<Ts...>, B> : std::bool_constant<(list_contains_v<B, Ts> || ...)> {
};
template <class A, class B>
inline constexpr bool list_intersects_v = list_intersects<A, B>::value;

/// The first type of `List` that is not in `Super` (void when there is none): used to name the
/// culprit in diagnostics.
template <class List, class Super>
struct first_missing {
  using type = void;
};
template <class T0, class... Ts, class Super>
struct first_missing<type_list<T0, Ts...>, Super> {
  using type = std::conditional_t<list_contains_v<Super, T0>,
                                  typename first_missing<type_list<Ts...>, Super>::type, T0>;
};

}  // namespace pgorm::detail

namespace pgorm::detail {

/// The types of `A` that are not in `B`.
template <class A, class B>
struct list_difference;
template <class B>
struct list_difference<type_list<>, B> {
  using type = type_list<>;
};
template <class A0, class... As, class B>
struct list_difference<type_list<A0, As...>, B> {
  using rest = typename list_difference<type_list<As...>, B>::type;
  template <class T, class L>
  struct prepend;
  template <class T, class... Ls>
  struct prepend<T, type_list<Ls...>> {
    using type = type_list<T, Ls...>;
  };
  using type = std::conditional_t<list_contains_v<B, A0>, rest, typename prepend<A0, rest>::type>;
};
template <class A, class B>
using list_difference_t = typename list_difference<A, B>::type;

}  // namespace pgorm::detail
