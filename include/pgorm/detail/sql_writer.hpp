// SPDX-License-Identifier: MIT
#pragma once

/// \file
/// Where query builders write SQL text with numbered `$n` placeholders. The same render code
/// runs during constant evaluation, for queries whose shape is static, and at run time for the
/// rest. Parameter values go to a detail::param_list (params.hpp) in the same order.

#include <string>
#include <string_view>

namespace pgorm::detail {

/// Wraps any sink with `append(char)` and `append(std::string_view)` (the render_sink of both
/// passes of a static text, a string_out at run time) and adds what SQL rendering needs: `$n`
/// numbering and whether columns are written table-qualified (they are once a query has more than
/// one table).
template <class Out>
struct sql_writer {
  Out& out;
  int params = 0;        ///< placeholders written so far
  bool qualify = false;  ///< write columns as table.column
  /// Included relations keep their ORDER BY (the rows are not sorted on the client after
  /// decoding: an operand of a union, whose rows its statement reads; query/include.hpp).
  bool server_order = false;

  constexpr void append(std::string_view text) { out.append(text); }
  constexpr void append(char c) { out.append(c); }
  constexpr void number(long long n) {
    if (n < 0) {
      out.append('-');
      n = -n;
    }
    char digits[20]{};
    int count = 0;
    do {
      digits[count++] = static_cast<char>('0' + n % 10);
      n /= 10;
    } while (n != 0);
    while (count > 0) out.append(digits[--count]);
  }
  /// Writes the next placeholder: $1, $2, ...
  constexpr void placeholder() {
    out.append('$');
    number(++params);
  }
};

/// A std::string sink for run-time rendering.
struct string_out {
  std::string text;
  constexpr void append(char c) { text.push_back(c); }
  constexpr void append(std::string_view s) { text.append(s); }
};

}  // namespace pgorm::detail
