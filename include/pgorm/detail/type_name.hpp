// SPDX-License-Identifier: MIT
#pragma once

/// \file
/// Type names from `__PRETTY_FUNCTION__`, and the snake_case conversion used for default table
/// names. Everything here runs during constant evaluation.

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>

#include "pgorm/detail/fixed_string.hpp"

namespace pgorm::detail {

// g++ spells it "... [with T = ns::User]"; the return type is a plain pointer so that no
// "; std::string_view = ..." annotation follows the type.
template <class T>
constexpr const char* pretty_type_function() noexcept {
  return __PRETTY_FUNCTION__;
}

/// The type's name as the compiler spells it, e.g. "app::User" or "wrapper<int>".
template <class T>
consteval std::string_view raw_type_name() noexcept {
  const std::string_view pretty = pretty_type_function<T>();
  const std::string_view marker = "T = ";
  const std::size_t begin = pretty.find(marker) + marker.size();
  return pretty.substr(begin, pretty.rfind(']') - begin);
}

/// Drops namespaces, enclosing classes and template arguments: "app::v1::wrapper<std::string>"
/// gives "wrapper"; "(anonymous namespace)::User" and "f()::Local" give "User" and "Local".
constexpr std::string_view unqualified_name(std::string_view name) noexcept {
  // Strip the template argument list, if any: it is the trailing balanced <...>.
  if (!name.empty() && name.back() == '>') {
    int depth = 0;
    for (std::size_t i = name.size(); i-- > 0;) {
      if (name[i] == '>') ++depth;
      if (name[i] == '<' && --depth == 0) {
        name = name.substr(0, i);
        break;
      }
    }
  }
  // The last "::" outside of <...> and (...) separates the unqualified name.
  int depth = 0;
  for (std::size_t i = name.size(); i-- > 0;) {
    const char c = name[i];
    if (c == '>' || c == ')') ++depth;
    if (c == '<' || c == '(') --depth;
    if (depth == 0 && c == ':' && i > 0 && name[i - 1] == ':') return name.substr(i + 1);
  }
  return name;
}

constexpr bool is_upper(char c) noexcept { return c >= 'A' && c <= 'Z'; }
constexpr bool is_lower(char c) noexcept { return c >= 'a' && c <= 'z'; }
constexpr bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }
constexpr char to_lower(char c) noexcept {
  return is_upper(c) ? static_cast<char>(c - 'A' + 'a') : c;
}

/// Writes the snake_case form of `name` to `out` (anything with `append(char)`):
/// "UserProfile" -> "user_profile", "HTTPRequest" -> "http_request", "userID" -> "user_id",
/// "Item2Tag" -> "item2_tag"; text that is already snake_case is unchanged.
template <class Out>
constexpr void write_snake_case(std::string_view name, Out& out) {
  for (std::size_t i = 0; i != name.size(); ++i) {
    const char c = name[i];
    if (is_upper(c) && i != 0 && name[i - 1] != '_') {
      const char prev = name[i - 1];
      const bool next_lower = i + 1 < name.size() && is_lower(name[i + 1]);
      // A word starts at an upper-case letter after a lower-case letter or digit ("userId"),
      // or at the last capital of an acronym that is followed by lower case ("HTTPRequest").
      if (is_lower(prev) || is_digit(prev) || (is_upper(prev) && next_lower)) out.append('_');
    }
    out.append(to_lower(c));
  }
}

/// snake_case of `name` as a std::string (usable at run time and in constant evaluation).
///
/// Example: `static_assert(pgorm::detail::to_snake_case("UserProfile") == "user_profile");`
constexpr std::string to_snake_case(std::string_view name) {
  struct string_sink {
    std::string text;
    constexpr void append(char c) { text.push_back(c); }
  } sink;
  write_snake_case(name, sink);
  return std::move(sink.text);
}

template <fixed_string Name>
struct snake_case_renderer {
  template <class Out>
  constexpr void operator()(Out& out) const {
    write_snake_case(Name.view(), out);
  }
};

/// snake_case of a compile-time string, as a static fixed_string.
///
/// Example: `static_assert(pgorm::detail::snake_case_v<"UserProfile"> == "user_profile");`
template <fixed_string Name>
inline constexpr auto snake_case_v = rendered_v<snake_case_renderer<Name>>;

template <class T>
inline constexpr auto raw_type_name_v = fixed_string<raw_type_name<T>().size()>(raw_type_name<T>());

template <class T>
inline constexpr auto unqualified_type_name_v =
    fixed_string<unqualified_name(raw_type_name_v<T>.view()).size()>(
        unqualified_name(raw_type_name_v<T>.view()));

}  // namespace pgorm::detail

namespace pgorm {
/// to_snake_case(name) and snake_case_v<"Name">: the table-name rule, at run and compile time
/// (docs/reflection.md).
using detail::snake_case_v;
using detail::to_snake_case;
}  // namespace pgorm
