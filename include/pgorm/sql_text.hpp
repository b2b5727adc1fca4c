// SPDX-License-Identifier: MIT
#pragma once

/// \file
/// SQL text handed to pgorm as text: a string literal (checked at compile time), or run-time
/// text that the caller marks explicitly with pgorm::unsafe_sql(). Splicing user input into SQL
/// is then a visible act, never an accident.

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>

namespace pgorm {

/// SQL written as a string literal in the program. Constructible only during compilation
/// (consteval), so a std::string or a run-time char pointer cannot become one: use
/// pgorm::unsafe_sql() for those.
///
/// Example: `conn.query<User>("select * from users where id = $1", 42)`
class sql_literal {
 public:
  // NOLINTNEXTLINE(google-explicit-constructor): implicit on purpose, from literals only
  consteval sql_literal(const char* text) : text_(text), max_placeholder_(scan(text_)) {}

  [[nodiscard]] constexpr std::string_view text() const noexcept { return text_; }
  /// What scan() reports for a placeholder number above 65,535, the protocol's limit.
  static constexpr std::size_t too_large = 65536;

  /// The highest $n in the text (outside quotes and comments), 0 when there is none;
  /// too_large when a number exceeds 65,535.
  [[nodiscard]] constexpr std::size_t max_placeholder() const noexcept { return max_placeholder_; }

  /// Highest $n outside '...', "...", $tag$...$tag$ and comments.
  static constexpr std::size_t scan(std::string_view s) noexcept {
    std::size_t max = 0;
    std::size_t i = 0;
    const auto digit = [](char c) { return c >= '0' && c <= '9'; };
    const auto ident = [&digit](char c) {
      return digit(c) || c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    };
    while (i < s.size()) {
      const char c = s[i];
      if (c == '\'' || c == '"') {
        const std::size_t close = s.find(c, i + 1);
        i = close == std::string_view::npos ? s.size() : close + 1;
      } else if (c == '-' && i + 1 < s.size() && s[i + 1] == '-') {
        const std::size_t eol = s.find('\n', i);
        i = eol == std::string_view::npos ? s.size() : eol + 1;
      } else if (c == '/' && i + 1 < s.size() && s[i + 1] == '*') {
        const std::size_t end = s.find("*/", i + 2);
        i = end == std::string_view::npos ? s.size() : end + 2;
      } else if (c == '$' && i + 1 < s.size() && digit(s[i + 1])) {
        std::size_t n = 0;
        ++i;
        // A number above the protocol's limit of 65,535 parameters reads as too_large, rather
        // than wrapping around (found by fuzzing).
        while (i < s.size() && digit(s[i])) {
          n = n > 65535 ? too_large : n * 10 + static_cast<std::size_t>(s[i] - '0');
          ++i;
        }
        if (n > 65535) n = too_large;
        if (n > max) max = n;
      } else if (c == '$' && i > 0 && ident(s[i - 1])) {
        ++i;  // part of an identifier such as a$b
      } else if (c == '$') {
        // A dollar-quoted string: $tag$ ... $tag$ (PostgreSQL docs 4.1.2.4).
        const std::size_t tag_end = s.find('$', i + 1);
        if (tag_end == std::string_view::npos) break;
        const std::string_view tag = s.substr(i, tag_end - i + 1);
        const std::size_t close = s.find(tag, tag_end + 1);
        i = close == std::string_view::npos ? s.size() : close + tag.size();
      } else {
        ++i;
      }
    }
    return max;
  }

 private:
  std::string_view text_;
  std::size_t max_placeholder_;
};

/// SQL text built at run time, marked as such by pgorm::unsafe_sql(). Values still belong in
/// `$n` parameters: never splice user input into the text.
class unsafe_sql_text {
 public:
  explicit unsafe_sql_text(std::string text)
      : text_(std::move(text)), max_placeholder_(sql_literal::scan(text_)) {}
  [[nodiscard]] std::string_view text() const noexcept { return text_; }
  [[nodiscard]] std::size_t max_placeholder() const noexcept { return max_placeholder_; }

 private:
  std::string text_;
  std::size_t max_placeholder_;
};

/// Marks SQL text built at run time (e.g. loaded from a file) for query<Row>(); the name makes
/// the act visible in code review. Values still go in `$n` parameters.
///
/// Example: `conn.query<Row>(pgorm::unsafe_sql(load_report_sql()), since)`
inline unsafe_sql_text unsafe_sql(std::string text) { return unsafe_sql_text(std::move(text)); }

}  // namespace pgorm
