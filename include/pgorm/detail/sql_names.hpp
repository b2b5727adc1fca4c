// SPDX-License-Identifier: MIT
#pragma once

/// \file
/// The SQL spellings the query builder writes for tables and columns, from table<T>.

#include <string_view>

#include "pgorm/reflect.hpp"
#include "pgorm/table.hpp"

namespace pgorm::detail {

/// The table of `T` as written in SQL: schema-qualified and quoted where needed.
template <class T>
inline constexpr std::string_view table_name_v = table<T>::qualified_name;

/// The column `Member` maps to, as written in SQL (renames applied, quoted where needed).
template <auto Member>
inline constexpr std::string_view column_name_v =
    table<member_class_t<Member>>::columns[member_index_v<Member>].sql_name;

}  // namespace pgorm::detail
