// SPDX-License-Identifier: MIT
#pragma once

/// \file
/// Secrets written into SQL text, masked before the text leaves pgorm. pgorm never splices a
/// value into SQL, but some statements cannot take parameters and carry a secret as a literal:
/// `CREATE ROLE app PASSWORD 'x'`, `ALTER USER MAPPING ... OPTIONS (password 'x')`,
/// `CREATE SUBSCRIPTION ... CONNECTION 'host=h password=x'`, `dblink_connect('...')`.
/// The observer (query_event::sql) and errors (sql_error::statement()) show such literals as
/// '***', so a log of statements or of failures never holds the secret.

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "pgorm/detail/sql_scanner.hpp"

namespace pgorm::detail::sql {

/// What a masked literal reads as.
inline constexpr std::string_view masked_literal = "'***'";

/// ASCII case-insensitive search for a lower-case `needle` in `text`.
constexpr bool contains_word(std::string_view text, std::string_view needle) noexcept {
  if (needle.empty() || text.size() < needle.size()) return needle.empty();
  // Run for every statement an observer sees: most positions fail on their first byte.
  const char first = needle[0];
  const char upper = first >= 'a' && first <= 'z' ? static_cast<char>(first - 'a' + 'A') : first;
  for (std::size_t i = 0; i + needle.size() <= text.size(); ++i) {
    if (text[i] != first && text[i] != upper) continue;
    if (equals_word(text.substr(i, needle.size()), needle)) return true;
  }
  return false;
}

/// True when `sql` may hold a secret that redact_secrets() masks: it names a password (in any
/// case) or holds a URI. False for almost every statement, without allocating; a statement for
/// which it is false leaves pgorm as written.
constexpr bool may_hold_secret(std::string_view sql) noexcept {
  return contains_word(sql, "password") || sql.find("://") != std::string_view::npos;
}

/// True when the text of a '...' string literal looks like a connection string with a secret:
/// it names a password (`password=x` in a conninfo) or holds a URI with user information
/// (`postgresql://user:x@host`).
constexpr bool literal_holds_secret(std::string_view literal) noexcept {
  if (contains_word(literal, "password")) return true;
  const std::size_t scheme = literal.find("://");
  return scheme != std::string_view::npos &&
         literal.find('@', scheme + 3) != std::string_view::npos;
}

/// The text inside a string token's quotes (without its prefix, quotes or dollar tags).
constexpr std::string_view literal_body(const token& t, std::string_view text) noexcept {
  if (t.kind == token_kind::dollar_string) {
    const std::size_t tag = text.find('$', 1);
    if (tag == std::string_view::npos) return text.substr(1);
    const std::string_view body = text.substr(tag + 1);
    return t.terminated && body.size() >= tag + 1 ? body.substr(0, body.size() - (tag + 1)) : body;
  }
  const std::size_t quote = text.find('\'');
  if (quote == std::string_view::npos) return text;
  const std::string_view body = text.substr(quote + 1);
  return t.terminated && !body.empty() ? body.substr(0, body.size() - 1) : body;
}

/// The characters of `text` as the server counts them in an error's position (UTF-8).
constexpr std::size_t character_count(std::string_view text) noexcept {
  std::size_t n = 0;
  for (const char c : text) {
    if ((static_cast<unsigned char>(c) & 0xC0U) != 0x80U) ++n;
  }
  return n;
}

/// `sql` with each string literal that may hold a secret replaced by '***':
/// - every string (any quoting, dollar quotes included) right after the key word PASSWORD,
///   with blanks and comments between (`[ENCRYPTED] PASSWORD '...'` of CREATE/ALTER ROLE and
///   USER, `password '...'` in a user mapping's OPTIONS), and the strings continuing it;
/// - a '...' string whose text looks like a connection string with a secret
///   (literal_holds_secret()).
/// `position`, when given, is a 1-based character position into `sql` as an error reports it
/// (0 for none); it is moved to the same place in the result (into a masked literal: onto its
/// first quote). The bodies of the masked literals are added to `masked`, when given, so that
/// a message quoting one can be scrubbed too (scrub_secrets()).
inline std::string redact_secrets(std::string_view sql, int* position = nullptr,
                                  std::vector<std::string>* masked = nullptr) {
  std::string out;
  out.reserve(sql.size());
  const std::size_t wanted =
      position != nullptr && *position > 0 ? static_cast<std::size_t>(*position) : std::size_t{0};
  std::size_t chars_in = 0;   // characters of sql before the current token
  std::size_t chars_out = 0;  // characters of out before it
  int moved = position != nullptr ? *position : 0;
  bool after_password = false;  // the last non-blank token was PASSWORD or a masked string
  bool last_masked = false;     // the last token written was a mask
  scanner s(sql);
  token t;
  while (s.next(t)) {
    const std::string_view text = t.text(sql);
    const bool is_string = t.kind == token_kind::string || t.kind == token_kind::dollar_string;
    const bool mask = is_string && (after_password ||
                                    (t.kind == token_kind::string && literal_holds_secret(text)));
    const std::string_view written = mask ? masked_literal : text;
    if (mask && masked != nullptr) {
      const std::string_view body = literal_body(t, text);
      if (!body.empty()) masked->emplace_back(body);
    }
    // A mask never touches a quote: '***''x' would read as one string.
    if ((mask && !out.empty() && out.back() == '\'') ||
        (last_masked && !written.empty() && written.front() == '\'')) {
      out += ' ';
      ++chars_out;
    }
    const std::size_t n_in = character_count(text);
    if (wanted > chars_in && wanted <= chars_in + n_in) {
      moved = static_cast<int>(chars_out + (mask ? 1 : wanted - chars_in));
    }
    out += written;
    chars_in += n_in;
    chars_out += mask ? written.size() : n_in;
    last_masked = mask;
    if (!t.is_blank()) {
      after_password =
          (t.kind == token_kind::word && equals_word(text, "password")) || (mask && after_password);
    }
  }
  if (position != nullptr) *position = moved;
  return out;
}

/// `sql` as it may leave pgorm: redact_secrets(sql) when it may hold one, else `sql` itself.
inline std::string redacted(std::string_view sql, int* position = nullptr,
                            std::vector<std::string>* masked = nullptr) {
  return may_hold_secret(sql) ? redact_secrets(sql, position, masked) : std::string(sql);
}

}  // namespace pgorm::detail::sql
