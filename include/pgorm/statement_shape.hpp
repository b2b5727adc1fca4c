// SPDX-License-Identifier: MIT
#pragma once

/// \file
/// A statement's shape: what a query builder knows about its statement at compile time, handed
/// to the executor beside the encoded parameters. The SQL text of a static statement, a key
/// computed from it during compilation, where it came from, and the columns its rows are read
/// into. The connection's prepared-statement cache is keyed on it and checks a result's columns
/// against the row layout once per prepared statement, not once per result.

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "pgorm/fwd.hpp"

namespace pgorm {

/// One column of a row layout: the name it must carry ("" when read by position, e.g. a single
/// value or a value in a std::tuple) and whether its type fits the C++ field it is read into.
struct column_spec {
  std::string_view name;
  bool (*accepts)(oid type) noexcept;
};

/// The columns a row type is read from, in order (see row_layout_v in pgorm/row.hpp). Lives in
/// static storage: its address identifies it.
struct row_layout {
  std::span<const column_spec> columns;
};

/// What a result's columns were found to be: a row layout they match, and their type OIDs in
/// order (the row reader hands them to the decoders). Interned by the library and never freed,
/// like static storage: one per distinct layout and types, so a result may point at it safely.
struct checked_columns {
  const row_layout* layout = nullptr;
  std::span<const oid> types;
};

/// Who wrote a statement: a builder's statement cannot change session state (a pool skips the
/// session reset after it); raw SQL can.
enum class sql_origin : unsigned char { raw, builder };

/// What a statement does to data, when its writer knows: a builder's select without a row lock
/// only reads; its inserts, updates, deletes and locking selects write. Raw SQL is `unknown`:
/// whoever must know (a cluster routing reads to replicas) reads the text instead.
enum class sql_effect : unsigned char { unknown, reads, writes };

/// The 64-bit FNV-1a hash of a statement text: the statement cache's key. constexpr, so that
/// the key of a static statement is computed during compilation.
constexpr std::uint64_t statement_key(std::string_view sql) noexcept {
  std::uint64_t h = 14695981039346656037ULL;
  for (const char c : sql) {
    h ^= static_cast<unsigned char>(c);
    h *= 1099511628211ULL;
  }
  return h;
}

/// What crosses the executor boundary besides the parameters.
///
/// - `sql`: the text; for a static statement a view of static storage, the same address each
///   time (the cache compares it before the text).
/// - `key`: statement_key(sql) when the text is static (computed at compile time), 0 when it
///   was rendered at run time (the connection hashes it then).
/// - `layout`: the columns its rows are read into, when a row type reads them (null: none).
/// - `origin`: a builder's statement or raw SQL.
/// - `effect`: whether it only reads (known for a builder's statement at compile time).
///
/// Example: `pgorm::statement_shape s{.sql = "select 1"}; auto r = conn.exec(s, {}, fmt);`
struct statement_shape {
  std::string_view sql{};
  std::uint64_t key = 0;
  const row_layout* layout = nullptr;
  sql_origin origin = sql_origin::raw;
  sql_effect effect = sql_effect::unknown;
};

}  // namespace pgorm
