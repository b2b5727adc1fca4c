// SPDX-License-Identifier: MIT
#pragma once

/// \file
/// pgorm::numeric: PostgreSQL's arbitrary-precision numeric, kept exactly.

#include <concepts>
#include <string>
#include <string_view>

#include "pgorm/export.hpp"

namespace pgorm {

/// An exact decimal number, as PostgreSQL's numeric: any number of digits, a display scale
/// (digits after the point, trailing zeros kept: 1.50 has scale 2), NaN and +/-Infinity
/// (PostgreSQL 14 and later).
///
/// It holds the canonical text form, the one `select x::text` prints: an optional '-', the
/// integer digits without leading zeros, then '.' and exactly scale() digits; or "NaN",
/// "Infinity", "-Infinity". pgorm does no arithmetic on it: convert to a decimal library's
/// type through str(). operator== compares that text, so 1.5 != 1.50 here although SQL says
/// they are equal.
///
/// Example:
/// ```
/// pgorm::numeric price{"12345.678"};
/// pgorm::numeric big{"1234567890123456789012345678901234567890"};
/// pgorm::numeric e{"1.5e3"};   // "1500"
/// ```
class PGORM_API numeric {
 public:
  /// Zero.
  numeric() = default;
  /// Parses decimal text as PostgreSQL's numeric_in does: surrounding spaces, a sign, digits
  /// with an optional '.', an optional exponent (e/E), or NaN, Infinity, inf (any case).
  /// Throws pgorm::usage_error when `text` is not a number.
  explicit numeric(std::string_view text);
  /// An integer value, e.g. `pgorm::numeric{42}`.
  template <std::integral I>
  requires(!std::same_as<I, bool>) explicit numeric(I value) : text_(std::to_string(value)) {}

  /// The canonical text, e.g. "-12.50", "NaN".
  [[nodiscard]] const std::string& str() const noexcept { return text_; }
  [[nodiscard]] bool is_nan() const noexcept { return text_ == "NaN"; }
  [[nodiscard]] bool is_infinite() const noexcept {
    return text_ == "Infinity" || text_ == "-Infinity";
  }
  [[nodiscard]] bool is_negative() const noexcept { return !text_.empty() && text_[0] == '-'; }
  /// Number of digits after the decimal point (the display scale); 0 for NaN and infinities.
  [[nodiscard]] int scale() const noexcept;
  /// The nearest double (NaN and infinities map to theirs).
  [[nodiscard]] double to_double() const noexcept;

  friend bool operator==(const numeric&, const numeric&) = default;

  /// For codecs: adopts text already in canonical form, unchecked.
  [[nodiscard]] static numeric from_canonical(std::string text) {
    numeric n;
    n.text_ = std::move(text);
    return n;
  }
  /// For codecs: the text, to reuse its capacity when decoding into an existing value.
  [[nodiscard]] std::string& canonical_text() noexcept { return text_; }

 private:
  std::string text_ = "0";
};

}  // namespace pgorm
