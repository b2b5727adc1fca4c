// SPDX-License-Identifier: MIT
#pragma once

/// \file
/// pgorm::tsvector, the C++ side of PostgreSQL's tsvector: a document's lexemes (normalized
/// words), each with the positions where it occurs and their weights. A table field of this
/// type is a tsvector column; pgorm::matches() and the other text search functions
/// (pgorm/query/text_search.hpp) take it as a document.

#include <compare>
#include <cstdint>
#include <string>
#include <vector>

namespace pgorm {

/// A PostgreSQL tsvector: lexemes with positions and weights, as `to_tsvector()` makes them
/// (`'fox':3 'quick':2A`). Read and written in the binary format (tsvector_send): the value
/// is the server's, lexeme by lexeme, not a text to parse.
///
/// The server keeps lexemes sorted (shorter first, then bytewise): a value written in another
/// order reads back sorted.
///
/// Example:
/// ```
/// pgorm::tsvector doc{{{"fox", {{3, 'D'}}}, {"quick", {{2, 'A'}}}}};  // 'fox':3 'quick':2A
/// ```
struct tsvector {
  /// Where a lexeme occurs: its word position (1 to 16383) and weight ('A', 'B', 'C' or 'D',
  /// D being the default and lowest).
  struct position {
    std::uint16_t index = 1;
    char weight = 'D';
    friend bool operator==(const position&, const position&) = default;
  };
  /// A normalized word (not empty, at most 2047 bytes, no NUL byte) and its positions, in
  /// increasing order (none: a lexeme without position information, `'fox'`).
  struct lexeme {
    std::string word;
    std::vector<position> positions;
    friend bool operator==(const lexeme&, const lexeme&) = default;
  };

  std::vector<lexeme> lexemes;

  friend bool operator==(const tsvector&, const tsvector&) = default;
};

}  // namespace pgorm
