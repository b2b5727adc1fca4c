// SPDX-License-Identifier: MIT
#pragma once

/// \file
/// pgorm::uuid, the C++ side of PostgreSQL's uuid type.

#include <array>
#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "pgorm/export.hpp"

namespace pgorm {

/// A UUID as its 16 bytes, in the order PostgreSQL stores and sends them (RFC 4122 order).
///
/// Parsing accepts what PostgreSQL's uuid_in accepts: 32 hex digits in either case, with a
/// hyphen allowed after any group of four digits (so the canonical 8-4-4-4-12 form), optionally
/// in braces. to_string() gives the canonical lower-case form.
///
/// Example:
/// ```
/// auto id = pgorm::uuid::parse("A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11");
/// assert(id.to_string() == "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11");
/// ```
struct PGORM_API uuid {
  std::array<std::uint8_t, 16> bytes{};  ///< all zero: the nil UUID

  /// Parses the text form, or returns std::nullopt when `text` is not a UUID.
  [[nodiscard]] static std::optional<uuid> try_parse(std::string_view text) noexcept;
  /// Parses the text form. Throws pgorm::usage_error when `text` is not a UUID.
  [[nodiscard]] static uuid parse(std::string_view text);

  /// The canonical form: 36 lower-case characters, e.g. "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11".
  [[nodiscard]] std::string to_string() const;

  /// True for the nil UUID (all bits zero).
  [[nodiscard]] constexpr bool is_nil() const noexcept {
    for (std::uint8_t b : bytes) {
      if (b != 0) return false;
    }
    return true;
  }

  friend constexpr bool operator==(const uuid&, const uuid&) noexcept = default;
  friend constexpr auto operator<=>(const uuid&, const uuid&) noexcept = default;
};

}  // namespace pgorm
