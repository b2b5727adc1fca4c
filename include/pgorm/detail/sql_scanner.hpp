// SPDX-License-Identifier: MIT
#pragma once

/// \file
/// pgorm's one SQL scanner: it splits SQL text into tokens by PostgreSQL's lexical rules
/// (PostgreSQL docs 4.1), and into statements at top-level semicolons as psql does. Every part
/// of pgorm that must step over quotes, comments and dollar quotes uses it: the $n count of
/// sql_literal (at compile time), the statement splitter of the migration runner, the table
/// name the observer reports, and the parameter inlining of COPY. Fuzzed by
/// fuzz/sql_split_fuzzer.cpp and fuzz/sql_scan_fuzzer.cpp.
///
/// What it knows:
/// - white space; `--` comments to the end of the line; `/* */` comments, which nest;
/// - '...' strings with '' for a quote, and the prefixed forms: E'...' (where a backslash
///   escapes the next character, so E'\'' is one string), B'...', X'...', N'...', U&'...';
///   standard_conforming_strings is assumed on (PostgreSQL's default since 9.1), so a
///   backslash in a plain '...' string is an ordinary character;
/// - "..." identifiers with "" for a quote, and U&"...";
/// - dollar-quoted strings $$...$$ and $tag$...$tag$ (a tag is an identifier without '$');
/// - $n parameters; words (identifiers and key words: letters, digits, '_', '$' and bytes of
///   0x80 and above, not starting with a digit or '$'); numbers;
/// - every other character is a token of its own (operators are not grouped).
///
/// Statements end at a ';' outside parentheses and outside the body of a
/// `CREATE [OR REPLACE] FUNCTION|PROCEDURE ... BEGIN ATOMIC ... END` (psql's rule: BEGIN and,
/// inside it, CASE open a block that END closes).
///
/// The scanner never fails: text that ends inside a quote or a comment gives a last token that
/// runs to the end, marked unterminated (the server will reject it with a better message).
/// Linear in the length of the text; constexpr and allocation-free.

#include <cstddef>
#include <string_view>

namespace pgorm::detail::sql {

/// What a token is.
enum class token_kind : unsigned char {
  space,              ///< white space
  line_comment,       ///< `--` up to (not including) the end of the line
  block_comment,      ///< `/* ... */`, nested
  string,             ///< '...', E'...', B'...', X'...', N'...', U&'...'
  quoted_identifier,  ///< "..." or U&"..."
  dollar_string,      ///< $$...$$ or $tag$...$tag$
  parameter,          ///< $1, $2, ...
  word,               ///< an identifier or key word
  number,             ///< 42, 4.2, .5, 1e-3
  semicolon,          ///< ;
  open_paren,         ///< (
  close_paren,        ///< )
  other,              ///< any other character (operators, punctuation), one per token
};

/// One token: the bytes [begin, end) of the text.
struct token {
  token_kind kind = token_kind::space;
  std::size_t begin = 0;
  std::size_t end = 0;
  /// False for a quote or block comment that the text ends inside.
  bool terminated = true;

  [[nodiscard]] constexpr std::string_view text(std::string_view sql) const noexcept {
    return sql.substr(begin, end - begin);
  }
  /// White space or a comment: nothing the server executes.
  [[nodiscard]] constexpr bool is_blank() const noexcept {
    return kind == token_kind::space || kind == token_kind::line_comment ||
           kind == token_kind::block_comment;
  }
};

constexpr bool is_space(char c) noexcept {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}
constexpr bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }
/// A character that may start an identifier (or a dollar-quote tag).
constexpr bool is_ident_start(char c) noexcept {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
         static_cast<unsigned char>(c) >= 0x80;
}
/// A character of a dollar-quote tag after its first.
constexpr bool is_tag_char(char c) noexcept { return is_ident_start(c) || is_digit(c); }
/// A character of an identifier after its first.
constexpr bool is_ident_char(char c) noexcept { return is_tag_char(c) || c == '$'; }

/// ASCII case-insensitive equality with a lower-case word.
constexpr bool equals_word(std::string_view text, std::string_view lower) noexcept {
  if (text.size() != lower.size()) return false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != lower[i]) return false;
  }
  return true;
}

/// The value of a $n parameter token, saturated at `limit` + 1 (so that a long run of digits
/// never wraps around to a small number).
constexpr std::size_t parameter_number(std::string_view token_text, std::size_t limit) noexcept {
  std::size_t n = 0;
  for (std::size_t i = 1; i < token_text.size(); ++i) {
    n = n * 10 + static_cast<std::size_t>(token_text[i] - '0');
    if (n > limit) return limit + 1;
  }
  return n;
}

/// Splits SQL text into tokens, first to last: `while (s.next(t)) ...`. The tokens cover the
/// text exactly, without gaps.
class scanner {
 public:
  constexpr explicit scanner(std::string_view sql) noexcept : sql_(sql) {}

  /// Reads the next token into `t`; false at the end of the text.
  constexpr bool next(token& t) noexcept {
    const std::size_t n = sql_.size();
    if (pos_ >= n) return false;
    const std::size_t begin = pos_;
    const char c = sql_[pos_];
    const char c1 = pos_ + 1 < n ? sql_[pos_ + 1] : '\0';
    t.terminated = true;
    if (is_space(c)) {
      t.kind = token_kind::space;
      while (pos_ < n && is_space(sql_[pos_])) ++pos_;
    } else if (c == '-' && c1 == '-') {
      t.kind = token_kind::line_comment;
      while (pos_ < n && sql_[pos_] != '\n' && sql_[pos_] != '\r') ++pos_;
    } else if (c == '/' && c1 == '*') {
      t.kind = token_kind::block_comment;
      t.terminated = block_comment();
    } else if (c == '\'') {
      t.kind = token_kind::string;
      t.terminated = quoted('\'', false);
    } else if (c == '"') {
      t.kind = token_kind::quoted_identifier;
      t.terminated = quoted('"', false);
    } else if (c == '$') {
      t.kind = dollar(t.terminated);
    } else if (is_ident_start(c)) {
      t.kind = word(t.terminated);
    } else if (is_digit(c) || (c == '.' && is_digit(c1))) {
      t.kind = token_kind::number;
      number();
    } else {
      t.kind = c == ';'   ? token_kind::semicolon
               : c == '(' ? token_kind::open_paren
               : c == ')' ? token_kind::close_paren
                          : token_kind::other;
      ++pos_;
    }
    t.begin = begin;
    t.end = pos_;
    return true;
  }

  /// Where the next token starts.
  [[nodiscard]] constexpr std::size_t position() const noexcept { return pos_; }

 private:
  // At "/*": to the matching "*/" (comments nest); false when the text ends first.
  constexpr bool block_comment() noexcept {
    const std::size_t n = sql_.size();
    std::size_t depth = 0;
    while (pos_ < n) {
      if (sql_[pos_] == '/' && pos_ + 1 < n && sql_[pos_ + 1] == '*') {
        ++depth;
        pos_ += 2;
      } else if (sql_[pos_] == '*' && pos_ + 1 < n && sql_[pos_ + 1] == '/') {
        pos_ += 2;
        if (--depth == 0) return true;
      } else {
        ++pos_;
      }
    }
    return false;
  }

  // At the opening quote: past the closing one. A doubled quote is one quote character;
  // with `backslash`, a backslash escapes the character after it. False at an early end.
  constexpr bool quoted(char quote, bool backslash) noexcept {
    const std::size_t n = sql_.size();
    ++pos_;
    while (pos_ < n) {
      const char c = sql_[pos_];
      if (backslash && c == '\\') {
        pos_ += pos_ + 1 < n ? 2 : 1;
      } else if (c == quote) {
        if (pos_ + 1 < n && sql_[pos_ + 1] == quote) {
          pos_ += 2;
        } else {
          ++pos_;
          return true;
        }
      } else {
        ++pos_;
      }
    }
    return false;
  }

  // At '$': a parameter, a dollar-quoted string, or a lone '$'.
  constexpr token_kind dollar(bool& terminated) noexcept {
    const std::size_t n = sql_.size();
    const std::size_t begin = pos_;
    if (pos_ + 1 < n && is_digit(sql_[pos_ + 1])) {
      pos_ += 2;
      while (pos_ < n && is_digit(sql_[pos_])) ++pos_;
      return token_kind::parameter;
    }
    std::size_t tag_end = pos_ + 1;
    if (tag_end < n && is_ident_start(sql_[tag_end])) {
      while (tag_end < n && is_tag_char(sql_[tag_end])) ++tag_end;
    }
    if (tag_end >= n || sql_[tag_end] != '$') {
      ++pos_;
      return token_kind::other;
    }
    const std::string_view tag = sql_.substr(begin, tag_end - begin + 1);
    const std::size_t close = sql_.find(tag, tag_end + 1);
    if (close == std::string_view::npos) {
      pos_ = n;
      terminated = false;
    } else {
      pos_ = close + tag.size();
    }
    return token_kind::dollar_string;
  }

  // At an identifier's first character: the word, or a prefixed string (E'', B'', X'', N'',
  // U&'') or identifier (U&"") when the word is just the prefix.
  constexpr token_kind word(bool& terminated) noexcept {
    const std::size_t n = sql_.size();
    const std::size_t begin = pos_;
    while (pos_ < n && is_ident_char(sql_[pos_])) ++pos_;
    if (pos_ - begin != 1 || pos_ >= n) return token_kind::word;
    const char prefix = sql_[begin];
    if (sql_[pos_] == '\'') {
      if (prefix == 'e' || prefix == 'E') {
        terminated = quoted('\'', true);
        return token_kind::string;
      }
      if (prefix == 'b' || prefix == 'B' || prefix == 'x' || prefix == 'X' || prefix == 'n' ||
          prefix == 'N') {
        terminated = quoted('\'', false);
        return token_kind::string;
      }
    }
    if ((prefix == 'u' || prefix == 'U') && sql_[pos_] == '&' && pos_ + 1 < n &&
        (sql_[pos_ + 1] == '\'' || sql_[pos_ + 1] == '"')) {
      const char quote = sql_[pos_ + 1];
      ++pos_;
      terminated = quoted(quote, false);
      return quote == '\'' ? token_kind::string : token_kind::quoted_identifier;
    }
    return token_kind::word;
  }

  // At a digit, or at '.' before a digit: 12, 1.5, 1., .5, 1e10, 1.5E-3.
  constexpr void number() noexcept {
    const std::size_t n = sql_.size();
    while (pos_ < n && is_digit(sql_[pos_])) ++pos_;
    if (pos_ < n && sql_[pos_] == '.' && !(pos_ + 1 < n && sql_[pos_ + 1] == '.')) {
      ++pos_;
      while (pos_ < n && is_digit(sql_[pos_])) ++pos_;
    }
    if (pos_ < n && (sql_[pos_] == 'e' || sql_[pos_] == 'E')) {
      std::size_t e = pos_ + 1;
      if (e < n && (sql_[e] == '+' || sql_[e] == '-')) ++e;
      if (e < n && is_digit(sql_[e])) {
        pos_ = e;
        while (pos_ < n && is_digit(sql_[pos_])) ++pos_;
      }
    }
  }

  std::string_view sql_;
  std::size_t pos_ = 0;
};

/// One statement: the bytes [begin, end) of the text, without its ';'. Leading white space and
/// comments belong to it (so that a server's error position maps back into the text).
struct statement {
  std::size_t begin = 0;
  std::size_t end = 0;
  /// Where its first token that is not white space or a comment starts (== end when none).
  std::size_t first_token = 0;
  /// False when it holds nothing but white space and comments (the server would ignore it).
  bool has_content = false;

  [[nodiscard]] constexpr std::string_view text(std::string_view sql) const noexcept {
    return sql.substr(begin, end - begin);
  }
};

/// Splits SQL text into statements at the semicolons that end them, first to last:
/// `while (s.next(st)) ...`. Every byte of the text belongs to one statement or is one of
/// the ';' between them.
class statement_splitter {
 public:
  constexpr explicit statement_splitter(std::string_view sql) noexcept : sql_(sql), scanner_(sql) {}

  /// Reads the next statement into `st` (possibly one without content, e.g. between ";;");
  /// false at the end of the text.
  constexpr bool next(statement& st) noexcept {
    if (done_) return false;
    st = statement{};
    st.begin = scanner_.position();
    st.end = st.first_token = sql_.size();
    // psql's heuristic for SQL-standard function bodies: a statement that starts with
    // CREATE [OR REPLACE] FUNCTION|PROCEDURE tracks BEGIN ... END blocks (and CASE ... END
    // inside them) at parenthesis depth 0; a ';' inside such a block does not end it.
    head h = head::start;
    std::size_t parens = 0;
    std::size_t blocks = 0;
    token t;
    while (scanner_.next(t)) {
      if (t.is_blank()) continue;
      if (t.kind == token_kind::semicolon && parens == 0 && blocks == 0) {
        st.end = t.begin;
        return true;
      }
      if (!st.has_content) {
        st.has_content = true;
        st.first_token = t.begin;
      }
      if (t.kind == token_kind::word) {
        h = advance(h, t.text(sql_));
        if (h == head::routine && parens == 0) {
          const std::string_view w = t.text(sql_);
          if (equals_word(w, "begin")) {
            ++blocks;
          } else if (equals_word(w, "case")) {
            if (blocks > 0) ++blocks;
          } else if (equals_word(w, "end")) {
            if (blocks > 0) --blocks;
          }
        }
        continue;
      }
      if (h != head::routine) h = head::other;
      if (t.kind == token_kind::open_paren) {
        ++parens;
      } else if (t.kind == token_kind::close_paren) {
        if (parens > 0) --parens;
      }
    }
    done_ = true;
    return true;
  }

 private:
  // How far the statement's first words match CREATE [OR REPLACE] FUNCTION|PROCEDURE.
  enum class head : unsigned char { start, create, create_or, create_or_replace, routine, other };

  static constexpr head advance(head h, std::string_view w) noexcept {
    const bool routine_word = equals_word(w, "function") || equals_word(w, "procedure");
    switch (h) {
      case head::start:
        return equals_word(w, "create") ? head::create : head::other;
      case head::create:
        return equals_word(w, "or") ? head::create_or : routine_word ? head::routine : head::other;
      case head::create_or:
        return equals_word(w, "replace") ? head::create_or_replace : head::other;
      case head::create_or_replace:
        return routine_word ? head::routine : head::other;
      case head::routine:
      case head::other:
        break;
    }
    return h;
  }

  std::string_view sql_;
  scanner scanner_;
  bool done_ = false;
};

}  // namespace pgorm::detail::sql
