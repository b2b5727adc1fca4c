// SPDX-License-Identifier: MIT
#pragma once

/// \file
/// Compile-time reflection of plain aggregate structs: field count, field types and field
/// names, member pointer -> field index, and type names. Structs stay plain: no macros, no base
/// class. See docs/reflection.md.
///
/// ```cpp
/// struct User { std::int64_t id; std::string email; };
/// static_assert(pgorm::field_count_v<User> == 2);
/// static_assert(pgorm::field_names_v<User>[1] == "email");
/// static_assert(pgorm::member_index_v<&User::email> == 1);
/// static_assert(pgorm::member_name_v<&User::email> == "email");
/// ```

#include <array>
#include <cstddef>
#include <string_view>
#include <type_traits>
#include <utility>

#include <boost/pfr/core.hpp>
#include <boost/pfr/tuple_size.hpp>

#include "pgorm/detail/member_name.hpp"
#include "pgorm/detail/type_name.hpp"

namespace pgorm {

namespace detail {

// Converts to any proper base class of T and to nothing else: `T{any_base_of<T>{}}` compiles
// exactly when T's first aggregate element is a base class (bases come first, [dcl.init.aggr]).
template <class T>
struct any_base_of {
  template <class B>
  requires(std::is_base_of_v<B, T> && !std::is_same_v<B, T>) constexpr operator B()
      const noexcept;  // NOLINT: implicit by design; never defined
};

template <class T>
concept has_base_class = requires {
  T{any_base_of<T>{}};
};

template <class M>
struct member_pointer_traits {
  static constexpr bool is_data_member = false;
};
template <class C, class F>
struct member_pointer_traits<F C::*> {
  static constexpr bool is_data_member = !std::is_function_v<F>;
  using class_type = C;
  using field_type = F;
};

}  // namespace detail

/// True for the structs pgorm can reflect: non-union class types that are aggregates (public
/// fields, no user-declared constructors, no virtual functions) with no base class.
///
/// Example: `static_assert(pgorm::reflectable<User>); static_assert(!pgorm::reflectable<int>);`
template <class T>
concept reflectable = std::is_class_v<T> && !std::is_union_v<T> && std::is_aggregate_v<T> &&
                      !std::is_const_v<T> && !std::is_volatile_v<T> && !detail::has_base_class<T>;

/// True for a pointer to a data member (not a member function), e.g. `&User::email`.
///
/// Example: `static_assert(pgorm::data_member_pointer<decltype(&User::email)>);`
template <class M>
concept data_member_pointer = detail::member_pointer_traits<std::remove_cv_t<M>>::is_data_member;

/// The struct a data member pointer belongs to: `member_class_t<&User::email>` is `User`.
template <auto Member>
requires data_member_pointer<decltype(Member)>
using member_class_t =
    typename detail::member_pointer_traits<std::remove_cv_t<decltype(Member)>>::class_type;

/// The declared type of the member: `member_type_t<&User::email>` is `std::string`.
template <auto Member>
requires data_member_pointer<decltype(Member)>
using member_type_t =
    typename detail::member_pointer_traits<std::remove_cv_t<decltype(Member)>>::field_type;

namespace detail {

/// The entry-point checks, one rule per static_assert in the order a user fixes them. Returns
/// whether T is reflectable, so callers can stop (`if constexpr`) before Boost.PFR adds a cascade.
template <class T>
consteval bool check_reflectable() {
  constexpr bool is_struct = std::is_class_v<T> && !std::is_union_v<T>;
  static_assert(is_struct,
                "pgorm: only structs can be reflected; put the value in a struct whose fields "
                "are the columns");
  static_assert(!is_struct || (!std::is_const_v<T> && !std::is_volatile_v<T>),
                "pgorm: reflect the struct itself, not a const or volatile type; use "
                "std::remove_cvref_t<T>");
  static_assert(!is_struct || std::is_aggregate_v<T>,
                "pgorm: the struct must be an aggregate (public fields, no user-declared "
                "constructors, no virtual functions); map a plain struct instead");
  static_assert(!is_struct || !std::is_aggregate_v<T> || !has_base_class<T>,
                "pgorm: the struct must not have a base class (its fields would be invisible); "
                "make the base a member or repeat its fields in the struct");
  return reflectable<T>;
}

template <class T>
consteval std::size_t field_count() {
  if constexpr (check_reflectable<T>()) {
    return boost::pfr::tuple_size_v<T>;
  } else {
    return 0;
  }
}

template <class T>
consteval auto field_names() {
  if constexpr (check_reflectable<T>()) {
    return make_field_names<T>(std::make_index_sequence<boost::pfr::tuple_size_v<T>>{});
  } else {
    return std::array<std::string_view, 0>{};
  }
}

template <auto Member>
consteval std::size_t member_index() {
  static_assert(data_member_pointer<decltype(Member)>,
                "pgorm: a column is named by a pointer to a data member, e.g. &User::email (not "
                "a member function, not a value)");
  if constexpr (data_member_pointer<decltype(Member)>) {
    using owner = member_class_t<Member>;
    if constexpr (check_reflectable<owner>()) {
      static_assert(Member != nullptr, "pgorm: a null member pointer names no column");
      return field_index_of<owner>(Member);
    }
  }
  return npos;
}

}  // namespace detail

/// The number of fields of a reflectable struct.
///
/// Example: `static_assert(pgorm::field_count_v<User> == 5);`
template <class T>
inline constexpr std::size_t field_count_v = detail::field_count<T>();

/// The declared type of field `I` of `T`.
///
/// Example: `static_assert(std::is_same_v<pgorm::field_type_t<User, 1>, std::string>);`
template <class T, std::size_t I>
using field_type_t = boost::pfr::tuple_element_t<I, T>;

/// The C++ names of `T`'s fields, in declaration order, as views of static storage.
///
/// Example: `for (std::string_view n : pgorm::field_names_v<User>) std::puts(n.data());`
template <class T>
inline constexpr std::array<std::string_view, field_count_v<T>> field_names_v =
    detail::field_names<T>();

/// The C++ name of field `I` of `T`.
///
/// Example: `static_assert(pgorm::field_name_v<User, 0> == "id");`
template <class T, std::size_t I>
inline constexpr std::string_view field_name_v = field_names_v<T>[I];

/// The index of the field a data member pointer names, in declaration order.
///
/// Example: `static_assert(pgorm::member_index_v<&User::email> == 1);`
template <auto Member>
inline constexpr std::size_t member_index_v = detail::member_index<Member>();

/// Function form of member_index_v.
///
/// Example: `constexpr std::size_t i = pgorm::member_index<&User::email>();`
template <auto Member>
consteval std::size_t member_index() {
  return member_index_v<Member>;
}

/// The C++ name of the field a data member pointer names.
///
/// Example: `static_assert(pgorm::member_name_v<&User::email> == "email");`
template <auto Member>
inline constexpr std::string_view member_name_v =
    field_names_v<member_class_t<Member>>[member_index_v<Member>];

/// Function form of member_name_v.
///
/// Example: `constexpr std::string_view n = pgorm::member_name<&User::email>();`
template <auto Member>
consteval std::string_view member_name() {
  return member_name_v<Member>;
}

/// The name of `T` as the compiler spells it, with namespaces and template arguments, e.g.
/// "app::User" or "app::wrapper<int>"; for diagnostics (standard library names are spelled as
/// the library defines them, e.g. "std::__cxx11::basic_string<char>").
///
/// Example: `static_assert(pgorm::type_name<app::User>() == "app::User");`
template <class T>
consteval std::string_view type_name() noexcept {
  return detail::raw_type_name_v<T>.view();
}

/// The name of `T` without namespaces, enclosing classes or template arguments: "User" for
/// `app::User`, "wrapper" for `app::wrapper<int>`. The default table name is its snake_case.
///
/// Example: `static_assert(pgorm::unqualified_type_name<app::UserProfile>() == "UserProfile");`
template <class T>
consteval std::string_view unqualified_type_name() noexcept {
  return detail::unqualified_type_name_v<T>.view();
}

/// The snake_case form of `T`'s unqualified name: `UserProfile` -> "user_profile".
///
/// Example: `static_assert(pgorm::snake_case_type_name<app::UserProfile>() == "user_profile");`
template <class T>
consteval std::string_view snake_case_type_name() noexcept {
  return detail::snake_case_v<detail::unqualified_type_name_v<T>>.view();
}

/// Field `I` of `object` (a reference of the same constness and value category).
///
/// Example: `pgorm::get_field<1>(user) = "a@b.c";`
template <std::size_t I, class T>
constexpr decltype(auto) get_field(T&& object) noexcept {
  static_assert(reflectable<std::remove_cvref_t<T>>,
                "pgorm: get_field() needs a reflectable struct (an aggregate with no base "
                "class)");
  return boost::pfr::get<I>(std::forward<T>(object));
}

/// Calls `f(field, std::integral_constant<std::size_t, I>{})` for each field of `object`, in
/// declaration order.
///
/// Example: `pgorm::for_each_field(user, [](auto& v, auto i) { print(pgorm::field_name_v<User, i>,
/// v); });`
template <class T, class F>
constexpr void for_each_field(T&& object, F&& f) {
  using type = std::remove_cvref_t<T>;
  [&]<std::size_t... I>(std::index_sequence<I...>) {
    (f(boost::pfr::get<I>(object), std::integral_constant<std::size_t, I>{}), ...);
  }
  (std::make_index_sequence<field_count_v<type>>{});
}

}  // namespace pgorm
