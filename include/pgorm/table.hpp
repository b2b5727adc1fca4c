// SPDX-License-Identifier: MIT
#pragma once

/// \file
/// Tables: `pgorm::table<T>`, the compile-time descriptor that SELECT lists, DDL and row mapping
/// all read, built from the struct's fields and its `pgorm::table_traits<T>` options (table name,
/// schema, column renames, primary key, identity, unique constraints, checks, foreign keys,
/// indexes, column defaults; the option vocabulary is in pgorm/table_options.hpp, which this
/// header includes). Instantiating `pgorm::table<T>` checks the struct and its options and reports
/// the first problem as a "pgorm: ..." error. See docs/tables.md.
///
/// ```cpp
/// struct User { std::int64_t id; std::string email; bool is_email_verified; };
/// template <> struct pgorm::table_traits<User> {
///   static constexpr std::string_view name = "users";
///   static constexpr auto primary_key = pgorm::identity(&User::id);
///   static constexpr auto renames =
///       pgorm::renames(pgorm::rename(&User::is_email_verified, "isEmailVerified"));
/// };
/// static_assert(pgorm::table<User>::select_list == R"(id, email, "isEmailVerified")");
/// ```

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>

#include "pgorm/detail/fixed_string.hpp"
#include "pgorm/detail/identifier.hpp"
#include "pgorm/detail/table_checks.hpp"
#include "pgorm/fwd.hpp"
#include "pgorm/reflect.hpp"
#include "pgorm/table_options.hpp"  // IWYU pragma: export
#include "pgorm/types.hpp"

namespace pgorm {

/// One column of a table<T>: everything SELECT lists, DDL and row mapping need.
struct column_info {
  std::string_view name;        ///< the column name, unquoted: "isEmailVerified", "user"
  std::string_view sql_name;    ///< as written in SQL, quoted where needed: "\"isEmailVerified\""
  std::string_view field_name;  ///< the C++ member name: "is_email_verified"
  std::string_view sql_type;    ///< DDL type: the declared one ("varchar(32)", see
                                ///< table_traits<T>::column_types) or pg_type<F>::sql_name
  oid type_oid = 0;             ///< pg_type<F>::oid; 0 when known only at run time (enums)
  bool nullable = false;        ///< NULL allowed: the field is a std::optional
  std::size_t index = 0;        ///< the field's index in the struct (declaration order)
  bool primary_key = false;     ///< part of the primary key
  identity_kind identity = identity_kind::none;  ///< identity column, and which kind
  std::string_view default_sql;                  ///< DEFAULT expression as SQL, "" for none
  std::int32_t type_modifier = -1;  ///< of a declared type (pg_attribute.atttypmod); -1: none

  /// True when the column has a DEFAULT expression.
  [[nodiscard]] constexpr bool has_default() const noexcept { return !default_sql.empty(); }
  /// True for identity columns.
  [[nodiscard]] constexpr bool is_identity() const noexcept {
    return identity != identity_kind::none;
  }
};

/// A UNIQUE constraint of a table<T>.
struct unique_info {
  std::string_view name;      ///< constraint name, unquoted; "" when the server picks it
  std::string_view sql_name;  ///< constraint name as written in SQL; "" when none
  std::string_view columns;   ///< the columns as SQL: "org_id, handle"
  std::span<const std::size_t> column_indices;  ///< the columns' indexes in table<T>::columns
};

/// An index of a table<T>.
struct index_info {
  std::string_view name;      ///< index name, unquoted; "" when the server picks it
  std::string_view sql_name;  ///< index name as written in SQL; "" when none
  std::string_view columns;   ///< the columns as SQL: "user_id, expires_at"
  std::span<const std::size_t> column_indices;  ///< the columns' indexes in table<T>::columns
  bool unique = false;                          ///< CREATE UNIQUE INDEX
  std::string_view where;                       ///< partial index condition as SQL, "" for none
  std::string_view method;                      ///< USING method, "" for the default
};

/// A FOREIGN KEY constraint of a table<T>.
struct foreign_key_info {
  std::string_view name;      ///< constraint name, unquoted; "" when the server picks it
  std::string_view sql_name;  ///< constraint name as written in SQL; "" when none
  std::string_view columns;   ///< the referencing columns as SQL: "user_id"
  std::span<const std::size_t> column_indices;  ///< their indexes in table<T>::columns
  std::string_view references_table;            ///< the referenced table, qualified and quoted
  std::string_view references_columns;          ///< the referenced columns as SQL: "id"
  fk_action on_delete = fk_action::no_action;   ///< ON DELETE
  fk_action on_update = fk_action::no_action;   ///< ON UPDATE
};

/// A CHECK constraint of a table<T>.
struct check_info {
  std::string_view name;        ///< constraint name, unquoted; "" when the server picks it
  std::string_view sql_name;    ///< constraint name as written in SQL; "" when none
  std::string_view expression;  ///< the condition as SQL
};

namespace detail {

/// Every column name of T, quoted where needed, one after the other: the columns' sql_name
/// views into this one text per table (a rendered text per column cost compile memory per
/// column).
template <class T>
struct quoted_columns_renderer {
  template <class Out>
  constexpr void operator()(Out& out) const {
    for (std::string_view name : column_names_v<T>) write_identifier(name, out);
  }
};
template <class T>
inline constexpr auto quoted_columns_v = rendered_v<quoted_columns_renderer<T>>;

template <class T>
struct qualified_name_renderer {
  template <class Out>
  constexpr void operator()(Out& out) const {
    if (!schema_of<T>().empty()) {
      write_identifier(schema_of<T>(), out);
      out.append('.');
    }
    write_identifier(table_name_of<T>(), out);
  }
};
template <class T>
inline constexpr auto qualified_name_v = rendered_v<qualified_name_renderer<T>>;

template <class T>
struct select_list_renderer {
  template <class Out>
  constexpr void operator()(Out& out) const {
    for (std::size_t i = 0; i != field_count_v<T>; ++i) {
      if (i != 0) out.append(", ");
      write_identifier(column_names_v<T>[i], out);
    }
  }
};

template <class Table, class Out, std::size_t K>
constexpr void write_column_list(const std::array<std::size_t, K>& indexes, Out& out) {
  for (std::size_t i = 0; i != K; ++i) {
    if (i != 0) out.append(", ");
    write_identifier(column_names_v<Table>[indexes[i]], out);
  }
}

// Per-constraint static data, keyed by (table, option, position in the option list).
template <class T, class Tag, std::size_t J>
inline constexpr auto item_indices_v = indices_of<T>(item_members<T, Tag, J>());

template <class T, class Tag, std::size_t J>
struct item_columns_renderer {
  template <class Out>
  constexpr void operator()(Out& out) const {
    write_column_list<T>(item_indices_v<T, Tag, J>, out);
  }
};

template <class T>
struct primary_key_columns_renderer {
  template <class Out>
  constexpr void operator()(Out& out) const {
    write_column_list<T>(indices_of<T>(primary_key_members_v<T>), out);
  }
};

template <class T, std::size_t J>
struct fk_target {
  using spec = std::remove_cvref_t<decltype(option_item<T, foreign_keys_tag, J>())>;
  using table_type = member_class_of<std::tuple_element_t<0, typename spec::to_type::members_type>>;
};

template <class T, std::size_t J>
struct fk_references_renderer {
  template <class Out>
  constexpr void operator()(Out& out) const {
    using target = typename fk_target<T, J>::table_type;
    write_column_list<target>(
        indices_of<target>(set_members(option_item<T, foreign_keys_tag, J>().references)), out);
  }
};

template <class T, class Tag, std::size_t J>
consteval std::string_view item_name() {
  const auto& item = option_item<T, Tag, J>();
  if constexpr (std::is_same_v<Tag, indexes_tag>) {
    return item.index_name;
  } else {
    return item.constraint_name;
  }
}

template <class T, class Tag, std::size_t J>
struct item_name_renderer {
  template <class Out>
  constexpr void operator()(Out& out) const {
    if (!item_name<T, Tag, J>().empty()) write_identifier(item_name<T, Tag, J>(), out);
  }
};

template <class T, class Tag, std::size_t J>
consteval std::span<const std::size_t> item_index_span() {
  return {item_indices_v<T, Tag, J>.data(), item_indices_v<T, Tag, J>.size()};
}

template <class T, std::size_t... J>
consteval auto make_uniques(std::index_sequence<J...>) {
  return std::array<unique_info, sizeof...(J)>{unique_info{
      item_name<T, unique_tag, J>(), rendered_v<item_name_renderer<T, unique_tag, J>>.view(),
      rendered_v<item_columns_renderer<T, unique_tag, J>>.view(),
      item_index_span<T, unique_tag, J>()}...};
}

template <class T, std::size_t... J>
consteval auto make_indexes(std::index_sequence<J...>) {
  return std::array<index_info, sizeof...(J)>{index_info{
      item_name<T, indexes_tag, J>(), rendered_v<item_name_renderer<T, indexes_tag, J>>.view(),
      rendered_v<item_columns_renderer<T, indexes_tag, J>>.view(),
      item_index_span<T, indexes_tag, J>(), option_item<T, indexes_tag, J>().is_unique,
      option_item<T, indexes_tag, J>().predicate, option_item<T, indexes_tag, J>().method}...};
}

template <class T, std::size_t... J>
consteval auto make_foreign_keys(std::index_sequence<J...>) {
  return std::array<foreign_key_info, sizeof...(J)>{
      foreign_key_info{item_name<T, foreign_keys_tag, J>(),
                       rendered_v<item_name_renderer<T, foreign_keys_tag, J>>.view(),
                       rendered_v<item_columns_renderer<T, foreign_keys_tag, J>>.view(),
                       item_index_span<T, foreign_keys_tag, J>(),
                       qualified_name_v<typename fk_target<T, J>::table_type>.view(),
                       rendered_v<fk_references_renderer<T, J>>.view(),
                       option_item<T, foreign_keys_tag, J>().delete_action,
                       option_item<T, foreign_keys_tag, J>().update_action}...};
}

template <class T, std::size_t... J>
consteval auto make_checks(std::index_sequence<J...>) {
  return std::array<check_info, sizeof...(J)>{check_info{
      item_name<T, checks_tag, J>(), rendered_v<item_name_renderer<T, checks_tag, J>>.view(),
      option_item<T, checks_tag, J>().expression}...};
}

/// The columns of T, in field order: what depends on a field's type is read by one pack
/// expansion per property, the rest in one loop (a function per column cost compile memory per
/// column).
template <class T, std::size_t... I>
consteval std::array<column_info, sizeof...(I)> make_columns(std::index_sequence<I...>) {
  constexpr std::string_view type_names[] = {pg_type<field_type_t<T, I>>::sql_name...};
  constexpr oid type_oids[] = {pg_type<field_type_t<T, I>>::oid...};
  constexpr bool nullable[] = {pg_type<field_type_t<T, I>>::nullable...};
  std::array<column_info, sizeof...(I)> out{};
  std::size_t offset = 0;
  for (std::size_t i = 0; i != sizeof...(I); ++i) {
    const std::string_view name = column_names_v<T>[i];
    const std::size_t length = quoted_identifier_length(name);
    const declared_column_type declared = declared_type_of<T>(i);
    out[i] = column_info{name,
                         quoted_columns_v<T>.view().substr(offset, length),
                         field_names_v<T>[i],
                         declared.sql.empty() ? type_names[i] : declared.sql,
                         type_oids[i],
                         nullable[i],
                         i,
                         in_primary_key<T>(i),
                         identity_of<T>(i),
                         default_of<T>(i),
                         declared.type_modifier};
    offset += length;
  }
  return out;
}
template <class T, bool Valid>
struct table_impl {};  // invalid: the static_asserts above have said why

template <class T>
struct table_impl<T, true> {
  /// The mapped struct.
  using type = T;

  /// The number of columns: one per field.
  static constexpr std::size_t column_count = field_count_v<T>;

  /// The table name, unquoted: table_traits<T>::name, or the snake_case of T's unqualified
  /// name ("UserProfile" -> "user_profile").
  static constexpr std::string_view name = table_name_of<T>();

  /// The schema, unquoted; "" when table_traits<T> gives none (the search_path decides).
  static constexpr std::string_view schema = schema_of<T>();

  /// The name to write in SQL: schema-qualified when there is a schema, quoted where needed,
  /// e.g. `users`, `auth.sessions`, `"user"`, `"Billing"."Invoice"`.
  static constexpr std::string_view qualified_name = qualified_name_v<T>.view();

  /// The columns, in field order.
  static constexpr std::array<column_info, column_count> columns =
      make_columns<T>(std::make_index_sequence<column_count>{});

  /// The columns as a SELECT list, quoted where needed: `id, email, "isEmailVerified"`.
  static constexpr std::string_view select_list = rendered_v<select_list_renderer<T>>.view();

  /// The primary key's column indexes, in key order (empty when there is none).
  static constexpr auto primary_key = indices_of<T>(primary_key_members_v<T>);

  /// The primary key's columns as SQL, e.g. "id" or "org_id, user_id"; "" when there is none.
  static constexpr std::string_view primary_key_columns =
      rendered_v<primary_key_columns_renderer<T>>.view();

  /// The primary key constraint's name, unquoted ("" lets the server pick it).
  static constexpr std::string_view primary_key_name = primary_key_v<T>.constraint_name;

  /// The UNIQUE constraints.
  static constexpr auto uniques =
      make_uniques<T>(std::make_index_sequence<option_count_v<T, unique_tag>>{});

  /// The indexes.
  static constexpr auto indexes =
      make_indexes<T>(std::make_index_sequence<option_count_v<T, indexes_tag>>{});

  /// The FOREIGN KEY constraints.
  static constexpr auto foreign_keys =
      make_foreign_keys<T>(std::make_index_sequence<option_count_v<T, foreign_keys_tag>>{});

  /// The CHECK constraints.
  static constexpr auto checks =
      make_checks<T>(std::make_index_sequence<option_count_v<T, checks_tag>>{});

  /// The C++ type of column `I`.
  template <std::size_t I>
  using column_type = field_type_t<T, I>;

  /// The index of the column a member pointer names.
  ///
  /// Example: `static_assert(pgorm::table<User>::column_index<&User::email>() == 1);`
  template <auto Member>
  static consteval std::size_t column_index() noexcept {
    static_assert(data_member_pointer<decltype(Member)>,
                  "pgorm: a column is named by a pointer to a data member, e.g. &User::email");
    if constexpr (data_member_pointer<decltype(Member)>) {
      constexpr bool own = std::is_same_v<member_class_t<Member>, T>;
      static_assert(own,
                    "pgorm: this member belongs to another struct; use table<ThatStruct> or a "
                    "member of this table's struct");
      if constexpr (own) return member_index_v<Member>;
    }
    return npos;
  }

  /// The column a member pointer names.
  ///
  /// Example: `static_assert(pgorm::table<User>::column_of<&User::email>().sql_name == "email");`
  template <auto Member>
  static consteval const column_info& column_of() noexcept {
    return columns[column_index<Member>()];
  }

  /// The column with this SQL name (unquoted, as in column_info::name), or nullptr.
  /// Usable at run time and in constant evaluation.
  ///
  /// Example: `if (auto* c = pgorm::table<User>::find("email")) use(c->index);`
  static constexpr const column_info* find(std::string_view column_name) noexcept {
    for (const column_info& c : columns) {
      if (c.name == column_name) return &c;
    }
    return nullptr;
  }

  /// The column of the C++ member with this name, or nullptr.
  ///
  /// Example: `pgorm::table<User>::find_field("is_email_verified")->sql_name`
  static constexpr const column_info* find_field(std::string_view member_name) noexcept {
    for (const column_info& c : columns) {
      if (c.field_name == member_name) return &c;
    }
    return nullptr;
  }
};

}  // namespace detail

/// True for structs table<T> can describe as far as types go: reflectable, at least one field,
/// and a pg_type for every field (table_traits<T> is validated by table<T> itself).
///
/// Example: `static_assert(pgorm::mappable<User>); static_assert(!pgorm::mappable<Widget>);`
template <class T>
concept mappable = reflectable<T> &&
    detail::all_fields_have_pg_type<T>(std::make_index_sequence<boost::pfr::tuple_size_v<T>>{});

/// The compile-time descriptor of the table a struct maps to: the one source of truth for SELECT
/// lists, DDL and row mapping. Instantiating it checks the struct and its table_traits and
/// reports the first problem as a "pgorm: ..." error.
///
/// Members: `type`, `column_count`, `name`, `schema`, `qualified_name`, `columns`
/// (std::array<column_info>), `select_list`, `primary_key` (column indexes),
/// `primary_key_columns`, `primary_key_name`, `uniques`, `indexes`, `foreign_keys`, `checks`,
/// `column_type<I>`, `column_index<&T::m>()`, `column_of<&T::m>()`, `find(name)`,
/// `find_field(name)`.
///
/// Example: `static_assert(pgorm::table<User>::select_list == "id, email, name");`
template <class T>
struct table : detail::table_impl<T, detail::check_table<T>()> {};

}  // namespace pgorm
