// SPDX-License-Identifier: MIT
#pragma once

/// \file
/// Look-ups over the table of built-in types (pgorm::oids::builtin_types, pgorm/oids.hpp): a
/// type's row, an array type's element type, and the types whose binary form is raw text.

#include <cstddef>

#include "pgorm/fwd.hpp"
#include "pgorm/oids.hpp"

namespace pgorm::detail {

/// The row of `type` in oids::builtin_types, or nullptr when pgorm does not know it.
constexpr const oids::builtin_type* find_builtin_type(oid type) noexcept {
  for (const oids::builtin_type& t : oids::builtin_types) {
    if (t.type == type) return &t;
  }
  return nullptr;
}

/// The element type of a built-in array type, or 0 when `array` is not one pgorm knows.
constexpr oid array_element_oid(oid array) noexcept {
  if (array == 0) return 0;
  for (const oids::builtin_type& t : oids::builtin_types) {
    if (t.array == array) return t.type;
  }
  return 0;
}

/// True when no OID appears twice in oids::builtin_types, as a type or as an array type.
constexpr bool builtin_types_are_distinct() noexcept {
  constexpr std::size_t n = sizeof(oids::builtin_types) / sizeof(oids::builtin_types[0]);
  for (std::size_t i = 0; i != n; ++i) {
    const oids::builtin_type& a = oids::builtin_types[i];
    if (a.type == 0 || a.type >= oids::first_user_defined || a.name.empty()) return false;
    for (std::size_t j = 0; j != n; ++j) {
      const oids::builtin_type& b = oids::builtin_types[j];
      if (i != j && (a.type == b.type || (a.array != 0 && a.array == b.array))) return false;
      if (a.type == b.array) return false;
    }
  }
  return true;
}
static_assert(builtin_types_are_distinct(),
              "pgorm: pgorm::oids::builtin_types lists an OID twice, or a row is incomplete");

/// Whether oids::builtin_types has a row for `type` whose array type is `array`. Compares values,
/// not row pointers: GCC cannot compare a pointer with nullptr in a constant expression under
/// -fsanitize=address (the asan preset).
constexpr bool builtin_row_matches(oid type, oid array) noexcept {
  for (const oids::builtin_type& t : oids::builtin_types) {
    if (t.type == type) return t.array == array;
  }
  return false;
}

/// True when a codec's OIDs are registered: pg_type<T>::oid has a row in
/// oids::builtin_types, and the row's array type is pg_type<T>::array_oid. types.hpp asserts it
/// for every built-in codec (docs/types.md, "Adding a built-in type").
template <class T>
inline constexpr bool registered_builtin = builtin_row_matches(pg_type<T>::oid,
                                                               pg_type<T>::array_oid);

/// Types whose binary format is the raw text (textsend/varcharsend/bpcharsend/namesend):
/// std::string and text-mapped enums read all of them.
constexpr bool is_text_like(oid type) noexcept {
  return type == oids::text || type == oids::varchar || type == oids::bpchar ||
         type == oids::name || type == oids::unknown;
}

}  // namespace pgorm::detail
