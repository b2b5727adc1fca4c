// SPDX-License-Identifier: MIT
#pragma once

/// \file
/// Field names of an aggregate without macros. Boost 1.81's PFR gives the fields' count and
/// types but not their names, so the names come from the compiler: the address of field I of an
/// extern object, passed as a template argument, is spelled out in `__PRETTY_FUNCTION__` (g++:
/// "[with auto Ptr = pointer_argument<...>{(& fake_object<app::User>.wrapper<...>::value.
/// app::User::email)}]", clang: "[Ptr = pointer_argument<...>{&fake_object.value.email}]").
/// The same extern object maps a member pointer to its field index by comparing addresses.
/// Nothing here is ever evaluated at run time, so the extern object is never defined.

#include <array>
#include <cstddef>
#include <string_view>
#include <type_traits>
#include <utility>

#include <boost/pfr/core.hpp>
#include <boost/pfr/tuple_size.hpp>

#include "pgorm/detail/fixed_string.hpp"

#if defined(__clang__)
// fake_object is never defined, on purpose (see above): clang warns of each use otherwise
// (and of each struct in an anonymous namespace, whose fake_object has internal linkage).
#pragma clang diagnostic push
#pragma clang diagnostic ignored "-Wundefined-var-template"
#pragma clang diagnostic ignored "-Wundefined-internal"
#endif

namespace pgorm::detail {

// A wrapper, so that T needs no constructor of any kind to be named here.
template <class T>
struct fake_object_wrapper {
  const T value;
};

// Declared, never defined: only its members' addresses are used, in constant evaluation. A
// struct defined inside a function has no linkage and cannot be used here (docs/reflection.md).
template <class T>
extern const fake_object_wrapper<T> fake_object;

template <class T>
constexpr auto tie_fake_object() noexcept {
  return boost::pfr::detail::tie_as_tuple(fake_object<T>.value);
}

// The address goes in a struct: clang 16 accepts a pointer to a subobject as a template argument
// only inside a class-type argument.
template <class P>
struct pointer_argument {
  P pointer;
};
template <class P>
pointer_argument(P) -> pointer_argument<P>;

// The return type is a plain pointer so that no "; std::string_view = ..." follows the value.
template <auto Ptr>
constexpr const char* pretty_pointer_function() noexcept {
  return __PRETTY_FUNCTION__;
}

/// The identifier that ends a pretty-printed pointer to a member subobject.
consteval std::string_view member_name_from_pretty(std::string_view pretty) noexcept {
  std::size_t end = pretty.rfind(']');
  while (end > 0 && (pretty[end - 1] == ')' || pretty[end - 1] == '}' || pretty[end - 1] == ' '))
    --end;
  std::size_t begin = end;
  while (begin > 0) {
    const char c = pretty[begin - 1];
    const bool ident = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                       c == '_' || c == '$';
    if (!ident) break;
    --begin;
  }
  return pretty.substr(begin, end - begin);
}

template <class T, std::size_t I>
consteval std::string_view raw_field_name() noexcept {
  return member_name_from_pretty(
      pretty_pointer_function<pointer_argument{
          &boost::pfr::detail::sequence_tuple::get<I>(tie_fake_object<T>())}>());
}

// Copied into a buffer of its own so the binary keeps the name, not the whole pretty string.
template <class T, std::size_t I>
inline constexpr auto field_name_storage =
    fixed_string<raw_field_name<T, I>().size()>(raw_field_name<T, I>());

template <class T, std::size_t... I>
consteval std::array<std::string_view, sizeof...(I)> make_field_names(
    std::index_sequence<I...>) noexcept {
  return {field_name_storage<T, I>.view()...};
}

/// field_index_of()'s answer when no field matches.
inline constexpr std::size_t npos = static_cast<std::size_t>(-1);

// Whether field type F (a reference from the tied fake object) is member type M.
template <class F, class M>
inline constexpr bool same_field_v =
    std::is_same_v<std::remove_cv_t<std::remove_reference_t<F>>, std::remove_cv_t<M>>;

// The index of the field of T at `target`, among those of type M. A fold rather than a
// lambda per field: this runs for every (struct, member type) pair a query names, and a
// closure per field and pair cost compile memory.
template <class T, class M, std::size_t... I>
constexpr std::size_t field_index_in(const void* target,
                                     std::index_sequence<I...> /*fields*/) noexcept {
  const auto fields = tie_fake_object<T>();
  std::size_t found = npos;
  // Only fields of the member's own type are compared (&& stops before the others): their
  // addresses are then comparable in constant evaluation whatever the layout.
  static_cast<void>(
      ((same_field_v<decltype(boost::pfr::detail::sequence_tuple::get<I>(fields)), M> &&
        static_cast<const void*>(&boost::pfr::detail::sequence_tuple::get<I>(fields)) == target &&
        (found = I, true)) ||
       ...));
  return found;
}

/// Index of the field that `member` points to; `npos` when it points to none (cannot happen for
/// a data member of a reflectable struct).
template <class T, class M>
constexpr std::size_t field_index_of(M T::*member) noexcept {
  return field_index_in<T, M>(&(fake_object<T>.value.*member),
                              std::make_index_sequence<boost::pfr::tuple_size_v<T>>{});
}

}  // namespace pgorm::detail

#if defined(__clang__)
#pragma clang diagnostic pop
#endif
