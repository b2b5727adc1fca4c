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

#include "pgorm/detail/sql_scanner.hpp"

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

  /// Highest $n outside '...', "...", $tag$...$tag$ and comments (PostgreSQL's lexical
  /// rules: E'\'' is one string, a$1 is an identifier).
  static constexpr std::size_t scan(std::string_view s) noexcept {
    std::size_t max = 0;
    detail::sql::scanner scanner(s);
    detail::sql::token t;
    while (scanner.next(t)) {
      if (t.kind != detail::sql::token_kind::parameter) continue;
      // A number above the protocol's limit of 65,535 parameters reads as too_large, rather
      // than wrapping around (found by fuzzing).
      const std::size_t n = detail::sql::parameter_number(t.text(s), too_large - 1);
      if (n > max) max = n;
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
