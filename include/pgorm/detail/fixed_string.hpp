// SPDX-License-Identifier: MIT
#pragma once

/// \file
/// A string with a capacity fixed at compile time: the buffer behind every SQL text pgorm builds
/// during constant evaluation (select lists, quoted identifiers, DDL fragments).

#include <cstddef>
#include <stdexcept>
#include <string_view>

namespace pgorm::detail {

/// A constexpr string of at most `N` chars, NUL-terminated, usable as a template argument
/// (all members are public, so the type is structural).
///
/// Example: `constexpr fixed_string s = "users"; static_assert(s == "users");`
template <std::size_t N>
struct fixed_string {
  char chars[N + 1]{};     ///< the text, NUL-terminated; public only so the type is structural
  std::size_t length = 0;  ///< the number of chars in use

  constexpr fixed_string() noexcept = default;

  /// From a string literal (deduces `N` as the literal's length).
  constexpr fixed_string(const char (&text)[N + 1]) noexcept {  // NOLINT: implicit by design
    for (std::size_t i = 0; i != N; ++i) chars[i] = text[i];
    length = N;
  }

  /// From any text that fits; longer text is a constant-evaluation error.
  constexpr explicit fixed_string(std::string_view text) { append(text); }

  /// The text.
  [[nodiscard]] constexpr std::string_view view() const noexcept { return {chars, length}; }
  constexpr operator std::string_view() const noexcept { return view(); }  // NOLINT

  [[nodiscard]] constexpr std::size_t size() const noexcept { return length; }
  [[nodiscard]] constexpr bool empty() const noexcept { return length == 0; }
  [[nodiscard]] constexpr const char* c_str() const noexcept { return chars; }
  [[nodiscard]] static constexpr std::size_t capacity() noexcept { return N; }

  /// Appends one char. Appending past the capacity throws, which during constant evaluation
  /// is a compile error (the capacity is always computed by a counting pass first).
  constexpr fixed_string& append(char c) {
    if (length == N) throw_overflow();
    chars[length++] = c;
    return *this;
  }
  constexpr fixed_string& append(std::string_view text) {
    for (char c : text) append(c);
    return *this;
  }

  friend constexpr bool operator==(const fixed_string& a, std::string_view b) noexcept {
    return a.view() == b;
  }
  template <std::size_t M>
  friend constexpr bool operator==(const fixed_string& a, const fixed_string<M>& b) noexcept {
    return a.view() == b.view();
  }

 private:
  // Not constexpr on purpose: reaching it during constant evaluation is the error.
  [[noreturn]] static void throw_overflow() {
    throw std::length_error("pgorm: fixed_string capacity exceeded");
  }
};

template <std::size_t N>
fixed_string(const char (&)[N]) -> fixed_string<N - 1>;

/// A sink that only counts: the first pass of every two-pass render (count, then write into a
/// fixed_string of exactly that size).
struct length_counter {
  std::size_t length = 0;
  constexpr length_counter& append(char) noexcept {
    ++length;
    return *this;
  }
  constexpr length_counter& append(std::string_view text) noexcept {
    length += text.size();
    return *this;
  }
};

/// The sink of both passes of rendered_v: without a buffer it only counts, with one it also
/// writes. One sink type for both passes means each renderer (and everything it calls: a
/// query's whole render tree) is instantiated once, not once to count and again per size.
struct render_sink {
  char* chars = nullptr;   ///< where to write; null for the counting pass
  std::size_t length = 0;  ///< chars appended so far
  constexpr render_sink& append(char c) noexcept {
    if (chars != nullptr) chars[length] = c;
    ++length;
    return *this;
  }
  constexpr render_sink& append(std::string_view text) noexcept {
    if (chars != nullptr) {
      for (std::size_t i = 0; i != text.size(); ++i) chars[length + i] = text[i];
    }
    length += text.size();
    return *this;
  }
};

/// The length of `Renderer{}`'s output (rendered_v's first pass).
template <class Renderer>
consteval std::size_t rendered_length() {
  render_sink counter;
  Renderer{}(counter);
  return counter.length;
}

/// `Renderer{}`'s output in a fixed_string of exactly its size (rendered_v's second pass).
template <class Renderer>
consteval fixed_string<rendered_length<Renderer>()> render_fixed() {
  fixed_string<rendered_length<Renderer>()> out;
  render_sink sink{out.chars};
  Renderer{}(sink);
  out.length = sink.length;
  return out;
}

/// The output of `Renderer{}(out)` as a static fixed_string of exactly the right size. The
/// renderer is a default-constructible type with `template <class Out> constexpr void
/// operator()(Out& out) const` calling `out.append(...)`. Plain consteval functions rather
/// than lambdas: a lambda here was two closure types per rendered text.
///
/// Example: `std::string_view sql = rendered_v<select_list_renderer<User>>.view();`
template <class Renderer>
inline constexpr auto rendered_v = render_fixed<Renderer>();

}  // namespace pgorm::detail
