// SPDX-License-Identifier: MIT
#pragma once

// Reading and checking a table's options: what table_traits<T> says (name, schema, primary key,
// identity, the option lists), read into static storage, and every rule pgorm::table<T> enforces,
// each reported by a static_assert whose message starts with "pgorm:". Private to table.hpp.

#include <array>
#include <cstddef>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>

#include "pgorm/detail/identifier.hpp"
#include "pgorm/reflect.hpp"
#include "pgorm/table_options.hpp"
#include "pgorm/types.hpp"

namespace pgorm::detail {

// ---- reading table_traits<T> --------------------------------------------------------------------

template <class Tag, class... S>
inline constexpr bool is_option_list_of<option_list<Tag, S...>> = true;

template <class T>
using traits_t = table_traits<T>;

template <class Tag, class X>
struct list_for : std::false_type {};
template <class Tag, class... S>
struct list_for<Tag, option_list<Tag, S...>> : std::true_type {};

// An option given as one item (`unique = pgorm::columns(&User::email)`) is a list of one.
template <class Tag, class X>
constexpr auto as_option_list(const X& value) {
  if constexpr (list_for<Tag, X>::value) {
    return value;
  } else {
    return option_list<Tag, X>{{value}};
  }
}

template <class Tag, class X>
consteval bool option_well_formed() {
  if constexpr (list_for<Tag, X>::value) {
    return true;
  } else {
    return option_kind<Tag, X>::value;
  }
}

#define PGORM_DETAIL_OPTION(option, tag)                                     \
  template <class T>                                                         \
  consteval auto option##_option() {                                         \
    if constexpr (requires { traits_t<T>::option; }) {                       \
      using value_type = std::remove_cvref_t<decltype(traits_t<T>::option)>; \
      if constexpr (option_well_formed<tag, value_type>()) {                 \
        return as_option_list<tag>(traits_t<T>::option);                     \
      } else {                                                               \
        return option_list<tag>{};                                           \
      }                                                                      \
    } else {                                                                 \
      return option_list<tag>{};                                             \
    }                                                                        \
  }
PGORM_DETAIL_OPTION(renames, renames_tag)
PGORM_DETAIL_OPTION(defaults, defaults_tag)
PGORM_DETAIL_OPTION(unique, unique_tag)
PGORM_DETAIL_OPTION(indexes, indexes_tag)
PGORM_DETAIL_OPTION(foreign_keys, foreign_keys_tag)
PGORM_DETAIL_OPTION(checks, checks_tag)
#undef PGORM_DETAIL_OPTION

/// The options of T as lists, in static storage (views into them stay valid).
template <class T>
inline constexpr auto renames_v = renames_option<T>();
template <class T>
inline constexpr auto defaults_v = defaults_option<T>();
template <class T>
inline constexpr auto unique_v = unique_option<T>();
template <class T>
inline constexpr auto indexes_v = indexes_option<T>();
template <class T>
inline constexpr auto foreign_keys_v = foreign_keys_option<T>();
template <class T>
inline constexpr auto checks_v = checks_option<T>();

template <class Tuple, class F>
constexpr void for_each_in(const Tuple& tuple, F&& f) {
  [&]<std::size_t... I>(std::index_sequence<I...>) { (f(std::get<I>(tuple)), ...); }
  (std::make_index_sequence<std::tuple_size_v<Tuple>>{});
}

// The primary key as a column_set, and its identity kind.
template <class T>
consteval auto primary_key_option() {
  if constexpr (requires { traits_t<T>::primary_key; }) {
    using value_type = std::remove_cvref_t<decltype(traits_t<T>::primary_key)>;
    if constexpr (is_identity<value_type>) {
      return column_set<decltype(traits_t<T>::primary_key.member)>{
          {traits_t<T>::primary_key.member}, {}};
    } else if constexpr (is_column_set<value_type>) {
      return traits_t<T>::primary_key;
    } else {
      return column_set<>{};
    }
  } else {
    return column_set<>{};
  }
}
template <class T>
inline constexpr auto primary_key_v = primary_key_option<T>();

// Identity columns: the primary key's, if it is one, and the `identity` option's.
template <class T>
constexpr identity_kind identity_of(std::size_t index) {
  if constexpr (requires { traits_t<T>::primary_key; }) {
    using value_type = std::remove_cvref_t<decltype(traits_t<T>::primary_key)>;
    if constexpr (is_identity<value_type>) {
      if constexpr (std::is_same_v<member_class_of<decltype(traits_t<T>::primary_key.member)>, T>) {
        if (field_index_of<T>(traits_t<T>::primary_key.member) == index) {
          return traits_t<T>::primary_key.kind;
        }
      }
    }
  }
  if constexpr (requires { traits_t<T>::identity; }) {
    using value_type = std::remove_cvref_t<decltype(traits_t<T>::identity)>;
    if constexpr (is_identity<value_type>) {
      if constexpr (std::is_same_v<member_class_of<decltype(traits_t<T>::identity.member)>, T>) {
        if (field_index_of<T>(traits_t<T>::identity.member) == index) {
          return traits_t<T>::identity.kind;
        }
      }
    }
  }
  return identity_kind::none;
}

template <class T>
consteval std::string_view table_name_of() {
  if constexpr (requires { traits_t<T>::name; }) {
    return std::string_view(traits_t<T>::name);
  } else {
    return snake_case_type_name<T>();
  }
}

template <class T>
consteval std::string_view schema_of() {
  if constexpr (requires { traits_t<T>::schema; }) {
    return std::string_view(traits_t<T>::schema);
  } else {
    return {};
  }
}

// Column names after renames, unquoted. Depends only on reflection, `name`, `schema` and
// `renames`, so a foreign key can name another table's columns without instantiating its
// table<> (two tables may reference each other).
template <class T>
consteval std::array<std::string_view, field_count_v<T>> column_names_of() {
  std::array<std::string_view, field_count_v<T>> names = field_names_v<T>;
  for_each_in(renames_v<T>.items, [&](const auto& r) {
    if constexpr (std::is_same_v<member_class_of<decltype(r.member)>, T>) {
      names[field_index_of<T>(r.member)] = r.name;
    }
  });
  return names;
}
template <class T>
inline constexpr auto column_names_v = column_names_of<T>();

// The columns of a tuple of member pointers of T, as indexes and as "a, b" SQL.
template <class T, class... M>
constexpr std::array<std::size_t, sizeof...(M)> indices_of(const std::tuple<M...>& members) {
  std::array<std::size_t, sizeof...(M)> out{};
  std::size_t n = 0;
  for_each_in(members, [&](auto m) { out[n++] = field_index_of<T>(m); });
  return out;
}
// ---- validation ---------------------------------------------------------------------------------

// no_pg_type_for<F> (detail/codec_support.hpp) is left incomplete: naming it prints the field
// type that has no pg_type specialization, and the fix (docs/types.md).

/// Left incomplete: the compiler prints the table's struct and the offending member pointer.
/// Fix: use a pointer to a member of the struct this table_traits is for.
template <class Table, class MemberPointer>
struct not_a_member_of;

template <class T, class... M>
constexpr bool members_belong(const std::tuple<M...>*) {
  return (std::is_same_v<member_class_of<M>, T> && ...);
}

template <class T, class... M>
constexpr void name_foreign_member(const std::tuple<M...>*) {
  // Reached only after a failed static_assert, to print the culprit's type.
  (
      [] {
        if constexpr (!std::is_same_v<member_class_of<M>, T>) {
          static_cast<void>(sizeof(not_a_member_of<T, M>));
        }
      }(),
      ...);
}

template <class T, std::size_t I>
consteval bool field_type_check() {
  using field = field_type_t<T, I>;
  if constexpr (!has_pg_type<field>) {
    static_cast<void>(sizeof(no_pg_type_for<field>));  // see docs/types.md
    return false;
  } else {
    return true;
  }
}

template <class T>
consteval bool check_field_types() {
  constexpr bool ok = []<std::size_t... I>(std::index_sequence<I...>) {
    return (has_pg_type<field_type_t<T, I>> && ...);
  }
  (std::make_index_sequence<field_count_v<T>>{});
  static_assert(ok,
                "pgorm: a field of this struct has no PostgreSQL type mapping; see docs/types.md "
                "(the next error names the field type: no_pg_type_for<F>)");
  if constexpr (!ok) {
    []<std::size_t... I>(std::index_sequence<I...>) { (field_type_check<T, I>() && ...); }
    (std::make_index_sequence<field_count_v<T>>{});
  }
  return ok;
}

template <class T>
consteval bool check_names() {
  constexpr bool name_ok = [] {
    if constexpr (requires { traits_t<T>::name; }) {
      return std::is_convertible_v<decltype(traits_t<T>::name), std::string_view>;
    } else {
      return true;
    }
  }();
  static_assert(name_ok,
                "pgorm: table_traits<T>::name must be a std::string_view, e.g. "
                "static constexpr std::string_view name = \"users\";");
  constexpr bool schema_ok = [] {
    if constexpr (requires { traits_t<T>::schema; }) {
      return std::is_convertible_v<decltype(traits_t<T>::schema), std::string_view>;
    } else {
      return true;
    }
  }();
  static_assert(schema_ok,
                "pgorm: table_traits<T>::schema must be a std::string_view, e.g. "
                "static constexpr std::string_view schema = \"auth\";");
  if constexpr (name_ok && schema_ok) {
    static_assert(is_valid_identifier(table_name_of<T>()),
                  "pgorm: the table name must be 1 to 63 bytes with no NUL byte; set "
                  "table_traits<T>::name to a shorter one");
    static_assert(schema_of<T>().empty() || is_valid_identifier(schema_of<T>()),
                  "pgorm: table_traits<T>::schema must be 1 to 63 bytes with no NUL byte");
    return is_valid_identifier(table_name_of<T>()) &&
           (schema_of<T>().empty() || is_valid_identifier(schema_of<T>()));
  }
  return false;
}

#define PGORM_DETAIL_CHECK_OPTION_SHAPE(option, tag, message)                          \
  if constexpr (requires { traits_t<T>::option; }) {                                   \
    constexpr bool shape_ok =                                                          \
        option_well_formed<tag, std::remove_cvref_t<decltype(traits_t<T>::option)>>(); \
    static_assert(shape_ok, message);                                                  \
    if constexpr (!shape_ok) return false;                                             \
  }

template <class T>
consteval bool check_option_shapes() {
  if constexpr (requires { traits_t<T>::primary_key; }) {
    using value_type = std::remove_cvref_t<decltype(traits_t<T>::primary_key)>;
    constexpr bool shape_ok = is_identity<value_type> || is_column_set<value_type>;
    static_assert(shape_ok,
                  "pgorm: table_traits<T>::primary_key must be pgorm::identity(&T::id), "
                  "pgorm::key(&T::id) or pgorm::columns(&T::a, &T::b)");
    if constexpr (!shape_ok) return false;
  }
  if constexpr (requires { traits_t<T>::identity; }) {
    constexpr bool shape_ok = is_identity<std::remove_cvref_t<decltype(traits_t<T>::identity)>>;
    static_assert(shape_ok, "pgorm: table_traits<T>::identity must be pgorm::identity(&T::field)");
    if constexpr (!shape_ok) return false;
  }
  PGORM_DETAIL_CHECK_OPTION_SHAPE(
      renames, renames_tag,
      "pgorm: table_traits<T>::renames must be pgorm::renames(pgorm::rename(&T::field, \"name\"), "
      "...)")
  PGORM_DETAIL_CHECK_OPTION_SHAPE(
      defaults, defaults_tag,
      "pgorm: table_traits<T>::defaults must be pgorm::defaults(pgorm::default_sql(&T::field, "
      "\"SQL\"), ...)")
  PGORM_DETAIL_CHECK_OPTION_SHAPE(
      unique, unique_tag,
      "pgorm: table_traits<T>::unique must be pgorm::columns(&T::a, ...) or "
      "pgorm::uniques(pgorm::columns(...), ...)")
  PGORM_DETAIL_CHECK_OPTION_SHAPE(
      indexes, indexes_tag,
      "pgorm: table_traits<T>::indexes must be pgorm::indexes(pgorm::index(&T::a, ...), ...)")
  PGORM_DETAIL_CHECK_OPTION_SHAPE(foreign_keys, foreign_keys_tag,
                                  "pgorm: table_traits<T>::foreign_keys must be "
                                  "pgorm::foreign_keys(pgorm::foreign_key(&T::a, &U::b), ...)")
  PGORM_DETAIL_CHECK_OPTION_SHAPE(
      checks, checks_tag,
      "pgorm: table_traits<T>::checks must be pgorm::checks(pgorm::check(\"name\", \"SQL\"), ...)")
  return true;
}
#undef PGORM_DETAIL_CHECK_OPTION_SHAPE

// All member pointers an option names, as a pointer-to-tuple type (never dereferenced).
template <class... Specs>
constexpr auto rename_members(const std::tuple<Specs...>*) {
  return static_cast<std::tuple<decltype(Specs::member)...>*>(nullptr);
}
template <class... Specs>
constexpr auto set_members(const std::tuple<Specs...>*) {
  return static_cast<decltype(std::tuple_cat(std::declval<decltype(Specs::members)>()...))*>(
      nullptr);
}
template <class... Specs>
constexpr auto fk_members(const std::tuple<Specs...>*) {
  return static_cast<decltype(std::tuple_cat(
      std::declval<typename Specs::from_type::members_type>()...))*>(nullptr);
}

template <class T>
using primary_key_members_t = std::remove_pointer_t<decltype(set_members(
    static_cast<const std::tuple<std::remove_cvref_t<decltype(primary_key_v<T>)>>*>(nullptr)))>;

template <class T>
consteval auto identity_members() {
  if constexpr (requires { traits_t<T>::identity; }) {
    return static_cast<std::tuple<decltype(traits_t<T>::identity.member)>*>(nullptr);
  } else {
    return static_cast<std::tuple<>*>(nullptr);
  }
}

// One static_assert per option, then (only on failure) the culprit's type in an error of its own.
#define PGORM_DETAIL_CHECK_MEMBERS(members_ptr, message) \
  {                                                      \
    constexpr bool ok = members_belong<T>(members_ptr);  \
    static_assert(ok, message);                          \
    if constexpr (!ok) {                                 \
      name_foreign_member<T>(members_ptr);               \
      return false;                                      \
    }                                                    \
  }

template <class T>
consteval bool check_membership() {
  PGORM_DETAIL_CHECK_MEMBERS(
      static_cast<primary_key_members_t<T>*>(nullptr),
      "pgorm: table_traits<T>::primary_key names a member of another struct; use pointers to "
      "members of T itself (the next error names both types)")
  PGORM_DETAIL_CHECK_MEMBERS(identity_members<T>(),
                             "pgorm: table_traits<T>::identity names a member of another struct; "
                             "use a pointer to a member of T itself")
  PGORM_DETAIL_CHECK_MEMBERS(
      rename_members(&renames_v<T>.items),
      "pgorm: a rename() in table_traits<T>::renames names a member of another struct; rename "
      "members of T itself (the next error names both types)")
  PGORM_DETAIL_CHECK_MEMBERS(
      rename_members(&defaults_v<T>.items),
      "pgorm: a default in table_traits<T>::defaults names a member of another struct; use "
      "members of T itself (the next error names both types)")
  PGORM_DETAIL_CHECK_MEMBERS(
      set_members(&unique_v<T>.items),
      "pgorm: a unique constraint in table_traits<T>::unique names a member of another struct; "
      "use members of T itself (the next error names both types)")
  PGORM_DETAIL_CHECK_MEMBERS(
      set_members(&indexes_v<T>.items),
      "pgorm: an index in table_traits<T>::indexes names a member of another struct; use "
      "members of T itself (the next error names both types)")
  PGORM_DETAIL_CHECK_MEMBERS(
      fk_members(&foreign_keys_v<T>.items),
      "pgorm: a foreign key in table_traits<T>::foreign_keys starts from a member of another "
      "struct; its first argument must name members of T itself")
  return true;
}
#undef PGORM_DETAIL_CHECK_MEMBERS

template <class T>
consteval bool primary_key_nullable() {
  bool nullable = false;
  for_each_in(primary_key_v<T>.members, [&](auto m) {
    using field = member_field_of<decltype(m)>;
    if (pg_type<field>::nullable) nullable = true;
  });
  return nullable;
}

template <class T>
consteval bool primary_key_has_duplicates() {
  const auto idx = indices_of<T>(primary_key_v<T>.members);
  for (std::size_t i = 0; i < idx.size(); ++i) {
    for (std::size_t j = i + 1; j < idx.size(); ++j) {
      if (idx[i] == idx[j]) return true;
    }
  }
  return false;
}

constexpr bool is_integer_sql_type(std::string_view sql_type) noexcept {
  return sql_type == "smallint" || sql_type == "integer" || sql_type == "bigint";
}

template <class T>
consteval bool identity_types_ok() {
  bool ok = true;
  const auto check = [&](const auto& ident) {
    using field = member_field_of<decltype(ident.member)>;
    if (!is_integer_sql_type(pg_type<field>::sql_name) || pg_type<field>::nullable) ok = false;
  };
  if constexpr (requires { traits_t<T>::primary_key.kind; }) check(traits_t<T>::primary_key);
  if constexpr (requires { traits_t<T>::identity.kind; }) check(traits_t<T>::identity);
  return ok;
}

template <class T>
consteval bool column_names_valid() {
  for (std::string_view name : column_names_v<T>) {
    if (!is_valid_identifier(name)) return false;
  }
  return true;
}

template <class T>
consteval bool column_names_unique() {
  const auto names = column_names_v<T>;
  for (std::size_t i = 0; i < names.size(); ++i) {
    for (std::size_t j = i + 1; j < names.size(); ++j) {
      if (names[i] == names[j]) return false;
    }
  }
  return true;
}

template <class T>
consteval bool renames_unique() {
  const auto idx = [] {
    std::array<std::size_t, std::tuple_size_v<decltype(renames_v<T>.items)>> out{};
    std::size_t n = 0;
    for_each_in(renames_v<T>.items, [&](const auto& r) { out[n++] = field_index_of<T>(r.member); });
    return out;
  }();
  for (std::size_t i = 0; i < idx.size(); ++i) {
    for (std::size_t j = i + 1; j < idx.size(); ++j) {
      if (idx[i] == idx[j]) return false;
    }
  }
  return true;
}

template <class T>
consteval bool default_on_identity() {
  bool clash = false;
  for_each_in(defaults_v<T>.items, [&](const auto& d) {
    if (identity_of<T>(field_index_of<T>(d.member)) != identity_kind::none) clash = true;
  });
  return clash;
}

template <class T>
consteval bool constraint_names_valid() {
  bool ok = true;
  const auto check_name = [&](std::string_view n) {
    if (!n.empty() && !is_valid_identifier(n)) ok = false;
  };
  check_name(primary_key_v<T>.constraint_name);
  for_each_in(unique_v<T>.items, [&](const auto& u) { check_name(u.constraint_name); });
  for_each_in(indexes_v<T>.items, [&](const auto& i) { check_name(i.index_name); });
  for_each_in(foreign_keys_v<T>.items, [&](const auto& f) { check_name(f.constraint_name); });
  for_each_in(checks_v<T>.items, [&](const auto& c) { check_name(c.constraint_name); });
  return ok;
}

template <class T>
consteval bool check_columns() {
  static_assert(column_names_valid<T>(),
                "pgorm: a column name must be 1 to 63 bytes with no NUL byte; shorten the "
                "member name or give it a shorter column name with pgorm::rename()");
  static_assert(renames_unique<T>(),
                "pgorm: table_traits<T>::renames renames one member twice; keep one rename()");
  static_assert(column_names_unique<T>(),
                "pgorm: two columns of this table have the same SQL name; change a rename()");
  static_assert(!primary_key_has_duplicates<T>(),
                "pgorm: table_traits<T>::primary_key names one column twice");
  static_assert(!primary_key_nullable<T>(),
                "pgorm: a primary key column cannot be NULL; make the field a plain (non "
                "std::optional) type");
  static_assert(identity_types_ok<T>(),
                "pgorm: an identity column must be smallint, integer or bigint and not "
                "std::optional; use std::int64_t (or int32_t, int16_t)");
  static_assert(!default_on_identity<T>(),
                "pgorm: an identity column gets its values from its sequence and cannot have a "
                "default; remove the default or the identity");
  static_assert(constraint_names_valid<T>(),
                "pgorm: a constraint or index name must be 1 to 63 bytes with no NUL byte");
  return column_names_valid<T>() && renames_unique<T>() && column_names_unique<T>() &&
         !primary_key_has_duplicates<T>() && !primary_key_nullable<T>() && identity_types_ok<T>() &&
         !default_on_identity<T>() && constraint_names_valid<T>();
}

/// Every rule table<T> enforces, in the order a user fixes them; each stage runs only when
/// the previous one passed, so the first error is always pgorm's own message.
template <class T>
consteval bool check_table() {
  if constexpr (!check_reflectable<T>()) {
    return false;
  } else {
    static_assert(field_count_v<T> > 0, "pgorm: a table needs at least one field");
    if constexpr (field_count_v<T> == 0) {
      return false;
    } else if constexpr (!check_field_types<T>()) {
      return false;
    } else if constexpr (!check_names<T>()) {
      return false;
    } else if constexpr (!check_option_shapes<T>()) {
      return false;
    } else if constexpr (!check_membership<T>()) {
      return false;
    } else {
      return check_columns<T>();
    }
  }
}

}  // namespace pgorm::detail
