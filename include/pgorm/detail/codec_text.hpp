// SPDX-License-Identifier: MIT
#pragma once

/// \file
/// Codecs for text (std::string; std::string_view and const char* as parameters), bytea
/// (std::vector<std::byte>; std::span<const std::byte> as a parameter) and json/jsonb. The
/// binary format of text, varchar, bpchar, name and json is the raw UTF-8 text (textsend);
/// bytea's is the raw bytes; jsonb's is a version byte (1) followed by the text (jsonb_send).

#include <cstddef>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "pgorm/detail/codec_support.hpp"
#include "pgorm/json.hpp"

namespace pgorm {

/// std::string <-> text. Reads text, varchar, char(n) and name columns.
///
/// Example: `std::string email = "a@b.c";`
template <>
struct pg_type<std::string> {
  static constexpr pgorm::oid oid = oids::text;
  static constexpr pgorm::oid array_oid = oids::text_array;
  static constexpr std::string_view sql_name = "text";
  static constexpr bool nullable = false;

  static constexpr bool accepts(pgorm::oid type) noexcept { return detail::is_text_like(type); }
  static void encode(const std::string& value, byte_buffer& out) { out.append(value); }
  // assign() reuses the string's capacity when a row mapper decodes into the same field again;
  // a string without room is rebuilt in place at the exact size (cheaper than growing it, and
  // than building a temporary and moving it in). A failed allocation leaves `out` empty.
  // Always inlined into the row reader: a few lines, once per text column of every row, and
  // GCC's unit-growth budget otherwise decides differently as unrelated headers change (bench:
  // 20 instructions per scanned row).
  [[gnu::always_inline]] static void decode(std::string_view bytes, pgorm::oid, std::string& out) {
    if (bytes.size() <= out.capacity()) {
      out.assign(bytes);
    } else {
      std::destroy_at(&out);
      try {
        std::construct_at(&out, bytes.data(), bytes.size());
      } catch (...) {
        std::construct_at(&out);
        throw;
      }
    }
  }
};

/// std::string_view -> text, as a parameter only (a field of this type would dangle).
///
/// Example: `pgorm::encode_params(std::string_view{"abc"});`
template <>
struct pg_type<std::string_view> {
  static constexpr pgorm::oid oid = oids::text;
  static constexpr pgorm::oid array_oid = oids::text_array;
  static constexpr std::string_view sql_name = "text";
  static constexpr bool nullable = false;

  static void encode(std::string_view value, byte_buffer& out) { out.append(value); }
};

/// const char* (and string literals) -> text, as a parameter only. A null pointer is a
/// usage error, not SQL NULL: use std::optional<std::string_view> for that.
///
/// Example: `pgorm::encode_params("abc");`
template <>
struct pg_type<const char*> {
  static constexpr pgorm::oid oid = oids::text;
  static constexpr pgorm::oid array_oid = oids::text_array;
  static constexpr std::string_view sql_name = "text";
  static constexpr bool nullable = false;

  static void encode(const char* value, byte_buffer& out) {
    if (value == nullptr) [[unlikely]] {
      detail::throw_encode_error(
          "pgorm: a null const char* is not a text value; pass std::optional<std::string_view>{} "
          "for SQL NULL");
    }
    out.append(std::string_view{value});
  }
};

/// std::vector<std::byte> <-> bytea (not an array: the bytes are the value).
///
/// Example: `std::vector<std::byte> blob(1 << 20);`
template <>
struct pg_type<std::vector<std::byte>> {
  static constexpr pgorm::oid oid = oids::bytea;
  static constexpr pgorm::oid array_oid = oids::bytea_array;
  static constexpr std::string_view sql_name = "bytea";
  static constexpr bool nullable = false;

  static constexpr bool accepts(pgorm::oid type) noexcept { return type == oids::bytea; }
  static void encode(const std::vector<std::byte>& value, byte_buffer& out) {
    out.append(value.data(), value.size());
  }
  static void decode(std::string_view bytes, pgorm::oid, std::vector<std::byte>& out) {
    const auto* first = reinterpret_cast<const std::byte*>(bytes.data());
    out.assign(first, first + bytes.size());
  }
};

/// std::span<const std::byte> -> bytea, as a parameter only.
///
/// Example: `pgorm::encode_params(std::as_bytes(std::span{buffer}));`
template <>
struct pg_type<std::span<const std::byte>> {
  static constexpr pgorm::oid oid = oids::bytea;
  static constexpr pgorm::oid array_oid = oids::bytea_array;
  static constexpr std::string_view sql_name = "bytea";
  static constexpr bool nullable = false;

  static void encode(std::span<const std::byte> value, byte_buffer& out) { out.append(value); }
};

/// std::span<std::byte> -> bytea, as a parameter only.
template <>
struct pg_type<std::span<std::byte>> {
  static constexpr pgorm::oid oid = oids::bytea;
  static constexpr pgorm::oid array_oid = oids::bytea_array;
  static constexpr std::string_view sql_name = "bytea";
  static constexpr bool nullable = false;

  static void encode(std::span<const std::byte> value, byte_buffer& out) { out.append(value); }
};

/// pgorm::json <-> json.
///
/// Example: `pgorm::json doc{R"({"a": 1})"};`
template <>
struct pg_type<json> {
  static constexpr pgorm::oid oid = oids::json;
  static constexpr pgorm::oid array_oid = oids::json_array;
  static constexpr std::string_view sql_name = "json";
  static constexpr bool nullable = false;

  static constexpr bool accepts(pgorm::oid type) noexcept { return type == oids::json; }
  static void encode(const json& value, byte_buffer& out) { out.append(value.text); }
  static void decode(std::string_view bytes, pgorm::oid, json& out) { out.text.assign(bytes); }
};

/// pgorm::jsonb <-> jsonb. The wire format is the version byte 1, then the JSON text.
///
/// Example: `pgorm::jsonb tags{R"(["a", "b"])"};`
template <>
struct pg_type<jsonb> {
  static constexpr pgorm::oid oid = oids::jsonb;
  static constexpr pgorm::oid array_oid = oids::jsonb_array;
  static constexpr std::string_view sql_name = "jsonb";
  static constexpr bool nullable = false;
  /// The only jsonb binary format version (src/backend/utils/adt/jsonb.c, jsonb_send).
  static constexpr char version = 1;

  static constexpr bool accepts(pgorm::oid type) noexcept { return type == oids::jsonb; }
  static void encode(const jsonb& value, byte_buffer& out) {
    out.push_back(version);
    out.append(value.text);
  }
  static void decode(std::string_view bytes, pgorm::oid, jsonb& out) {
    if (bytes.empty() || bytes[0] != version) [[unlikely]] {
      detail::throw_decode_error("unsupported jsonb binary format version (expected 1)");
    }
    out.text.assign(bytes.substr(1));
  }
};

}  // namespace pgorm
