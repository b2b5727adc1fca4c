// SPDX-License-Identifier: MIT
#pragma once

/// \file
/// SQL identifiers: validity, whether an identifier must be double-quoted, and quoting, both in
/// constant evaluation (into fixed-size buffers) and at run time.

#include <algorithm>
#include <array>
#include <cstddef>
#include <string>
#include <string_view>
#include <utility>

#include "pgorm/detail/fixed_string.hpp"
#include "pgorm/error.hpp"

namespace pgorm::detail {

/// NAMEDATALEN - 1: PostgreSQL truncates longer identifiers silently (PG docs 4.1.1), so pgorm
/// rejects them instead.
inline constexpr std::size_t max_identifier_length = 63;

// The keywords that cannot be a column or table name without quotes: the "reserved" and
// "reserved (can be function or type)" ones of PostgreSQL 15 (docs Appendix C; pg_get_keywords()
// catcodes R and T), plus system_user, reserved since PostgreSQL 16. The "non-reserved (cannot
// be function or type)" ones (time, position, values, ...) are valid column names unquoted; this
// was checked against a PostgreSQL 15 server in select lists, WHERE, ORDER BY, INSERT, ON
// CONFLICT, UPDATE SET, CREATE TABLE and CREATE INDEX. Sorted, for binary search.
inline constexpr std::array<std::string_view, 101> reserved_keywords = {
    "all",
    "analyse",
    "analyze",
    "and",
    "any",
    "array",
    "as",
    "asc",
    "asymmetric",
    "authorization",
    "binary",
    "both",
    "case",
    "cast",
    "check",
    "collate",
    "collation",
    "column",
    "concurrently",
    "constraint",
    "create",
    "cross",
    "current_catalog",
    "current_date",
    "current_role",
    "current_schema",
    "current_time",
    "current_timestamp",
    "current_user",
    "default",
    "deferrable",
    "desc",
    "distinct",
    "do",
    "else",
    "end",
    "except",
    "false",
    "fetch",
    "for",
    "foreign",
    "freeze",
    "from",
    "full",
    "grant",
    "group",
    "having",
    "ilike",
    "in",
    "initially",
    "inner",
    "intersect",
    "into",
    "is",
    "isnull",
    "join",
    "lateral",
    "leading",
    "left",
    "like",
    "limit",
    "localtime",
    "localtimestamp",
    "natural",
    "not",
    "notnull",
    "null",
    "offset",
    "on",
    "only",
    "or",
    "order",
    "outer",
    "overlaps",
    "placing",
    "primary",
    "references",
    "returning",
    "right",
    "select",
    "session_user",
    "similar",
    "some",
    "symmetric",
    "system_user",
    "table",
    "tablesample",
    "then",
    "to",
    "trailing",
    "true",
    "union",
    "unique",
    "user",
    "using",
    "variadic",
    "verbose",
    "when",
    "where",
    "window",
    "with",
};

/// True when `word` is a keyword that needs quotes as a column or table name.
constexpr bool is_reserved_keyword(std::string_view word) noexcept {
  return std::binary_search(reserved_keywords.begin(), reserved_keywords.end(), word);
}

/// Why an identifier is unusable, or nullptr when it is fine.
constexpr const char* identifier_problem(std::string_view name) noexcept {
  if (name.empty()) return "is empty";
  if (name.size() > max_identifier_length) {
    return "is longer than 63 bytes (PostgreSQL would silently truncate it)";
  }
  if (name.find('\0') != std::string_view::npos) return "contains a NUL byte";
  return nullptr;
}

/// True when `name` is a valid identifier: 1 to 63 bytes and no NUL.
constexpr bool is_valid_identifier(std::string_view name) noexcept {
  return identifier_problem(name) == nullptr;
}

/// True when `name` must be double-quoted to mean itself: it is a reserved keyword, has
/// upper-case letters, or does not match [a-z_][a-z0-9_$]* (PG docs 4.1.1).
constexpr bool needs_quoting(std::string_view name) noexcept {
  if (name.empty()) return true;
  const char first = name.front();
  if (!((first >= 'a' && first <= 'z') || first == '_')) return true;
  for (char c : name) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '$')) return true;
  }
  return is_reserved_keyword(name);
}

/// Appends `name` to `out` as SQL would need it: as is, or in double quotes with embedded
/// double quotes doubled. Does not validate; see quote_identifier().
template <class Out>
constexpr void write_identifier(std::string_view name, Out& out) {
  if (!needs_quoting(name)) {
    out.append(name);
    return;
  }
  out.append('"');
  for (char c : name) {
    if (c == '"') out.append('"');
    out.append(c);
  }
  out.append('"');
}

/// The length of write_identifier's output.
constexpr std::size_t quoted_identifier_length(std::string_view name) noexcept {
  length_counter counter;
  write_identifier(name, counter);
  return counter.length;
}

[[noreturn]] inline void throw_invalid_identifier(std::string_view name, const char* problem) {
  std::string what = "pgorm: the SQL identifier \"";
  for (char c : name.substr(0, 80)) what += c == '\0' ? '?' : c;
  if (name.size() > 80) what += "...";
  what += "\" ";
  what += problem;
  throw usage_error(what);
}

/// `name` quoted where needed: `quote_identifier("email")` is `email`, `quote_identifier("user")`
/// is `"user"`, `quote_identifier("isActive")` is `"isActive"`, `a"b` gives `"a""b"`. Usable in
/// constant evaluation (an invalid name is then a compile error) and at run time.
///
/// Throws pgorm::usage_error, naming the identifier, when it is empty, longer than 63 bytes or
/// contains a NUL byte.
///
/// Example: `std::string sql = "select * from " + pgorm::detail::quote_identifier(name);`
constexpr std::string quote_identifier(std::string_view name) {
  if (const char* problem = identifier_problem(name)) throw_invalid_identifier(name, problem);
  struct string_sink {
    std::string text;
    constexpr void append(char c) { text.push_back(c); }
    constexpr void append(std::string_view s) { text.append(s); }
  } sink;
  sink.text.reserve(name.size() + 2);
  write_identifier(name, sink);
  return std::move(sink.text);
}

template <fixed_string Name>
struct identifier_renderer {
  template <class Out>
  constexpr void operator()(Out& out) const {
    write_identifier(Name.view(), out);
  }
};

template <fixed_string Name>
consteval bool check_identifier() {
  static_assert(is_valid_identifier(Name.view()),
                "pgorm: an SQL identifier must be 1 to 63 bytes long and contain no NUL byte; "
                "shorten or rename it");
  return true;
}

/// `Name` quoted where needed, as a static fixed_string; an invalid name is a compile error.
///
/// Example: `static_assert(pgorm::detail::quoted_identifier_v<"user"> == "\"user\"");`
template <fixed_string Name>
requires(check_identifier<Name>()) inline constexpr auto quoted_identifier_v =
    rendered_v<identifier_renderer<Name>>;

}  // namespace pgorm::detail
