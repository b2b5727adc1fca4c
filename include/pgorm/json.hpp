// SPDX-License-Identifier: MIT
#pragma once

/// \file
/// pgorm::json and pgorm::jsonb: JSON documents as text, mapped to PostgreSQL's json and jsonb.

#include <compare>
#include <string>

namespace pgorm {

/// A json value, kept as its text. PostgreSQL stores json verbatim (whitespace, key order and
/// duplicate keys preserved), so what is read back is exactly what was written. pgorm does not
/// parse it: hand `text` to the JSON library of your choice.
///
/// Example: `pgorm::json doc{R"({"a": [1, 2]})"};`
struct json {
  std::string text;  ///< the JSON text, UTF-8

  friend bool operator==(const json&, const json&) = default;
  friend auto operator<=>(const json&, const json&) = default;
};

/// A jsonb value, kept as its text. The server normalizes jsonb (keys sorted and deduplicated,
/// whitespace canonical), so the text read back may differ from the text written.
///
/// Example: `pgorm::jsonb tags{R"(["new", "sale"])"};`
struct jsonb {
  std::string text;  ///< the JSON text, UTF-8

  friend bool operator==(const jsonb&, const jsonb&) = default;
  friend auto operator<=>(const jsonb&, const jsonb&) = default;
};

}  // namespace pgorm
