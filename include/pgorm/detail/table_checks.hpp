// SPDX-License-Identifier: MIT
#pragma once

// Reading and checking a table's options: what table_traits<T> says (name, schema, primary key,
// identity, the option lists), read into static storage, and every rule pgorm::table<T> enforces,
// each reported by a static_assert whose message starts with "pgorm:". Private to table.hpp.
//
// The heterogeneous bookkeeping is Boost.Hana: a hana::map from each list's tag to the
// table_traits member that holds it, the options as hana::tuples of specs (for_each, unpack,
// at_c), and the member pointers each option names as hana::tuples of types (transform,
// flatten, find_if for the culprit of a failed check). Hana stays in this header (users
// never write it) and is included header by header; SQL text stays in detail::fixed_string.
// Why, and what it costs to compile: docs/design.md, "Boost.Hana for table options".

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>

#include <boost/hana/at.hpp>
#include <boost/hana/at_key.hpp>
#include <boost/hana/bool.hpp>
#include <boost/hana/find_if.hpp>
#include <boost/hana/flatten.hpp>
#include <boost/hana/for_each.hpp>
#include <boost/hana/keys.hpp>
#include <boost/hana/length.hpp>
#include <boost/hana/map.hpp>
#include <boost/hana/not.hpp>
#include <boost/hana/optional.hpp>
#include <boost/hana/pair.hpp>
#include <boost/hana/transform.hpp>
#include <boost/hana/tuple.hpp>
#include <boost/hana/type.hpp>
#include <boost/hana/unpack.hpp>

#include "pgorm/detail/identifier.hpp"
#include "pgorm/reflect.hpp"
#include "pgorm/table_options.hpp"
#include "pgorm/types.hpp"

namespace pgorm::detail {

namespace hana = boost::hana;

// ---- reading table_traits<T> --------------------------------------------------------------------

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

// Where each list option lives in table_traits<T>: get<Traits>() is the member, and naming it is
// a substitution failure when the traits do not have it.
struct renames_member {
  template <class Traits>
  static constexpr auto get() -> decltype((Traits::renames)) {
    return Traits::renames;
  }
};
struct defaults_member {
  template <class Traits>
  static constexpr auto get() -> decltype((Traits::defaults)) {
    return Traits::defaults;
  }
};
struct unique_member {
  template <class Traits>
  static constexpr auto get() -> decltype((Traits::unique)) {
    return Traits::unique;
  }
};
struct indexes_member {
  template <class Traits>
  static constexpr auto get() -> decltype((Traits::indexes)) {
    return Traits::indexes;
  }
};
struct foreign_keys_member {
  template <class Traits>
  static constexpr auto get() -> decltype((Traits::foreign_keys)) {
    return Traits::foreign_keys;
  }
};
struct checks_member {
  template <class Traits>
  static constexpr auto get() -> decltype((Traits::checks)) {
    return Traits::checks;
  }
};
struct column_types_member {
  template <class Traits>
  static constexpr auto get() -> decltype((Traits::column_types)) {
    return Traits::column_types;
  }
};

// The list options: the tag of a list (what renames(), uniques(), ... return) to its member.
inline constexpr auto list_option_members = hana::make_map(
    hana::make_pair(hana::type_c<renames_tag>, hana::type_c<renames_member>),
    hana::make_pair(hana::type_c<defaults_tag>, hana::type_c<defaults_member>),
    hana::make_pair(hana::type_c<unique_tag>, hana::type_c<unique_member>),
    hana::make_pair(hana::type_c<indexes_tag>, hana::type_c<indexes_member>),
    hana::make_pair(hana::type_c<foreign_keys_tag>, hana::type_c<foreign_keys_member>),
    hana::make_pair(hana::type_c<checks_tag>, hana::type_c<checks_member>),
    hana::make_pair(hana::type_c<column_types_tag>, hana::type_c<column_types_member>));

// A class template, not an alias, so that each lookup is done once per tag.
template <class Tag>
struct list_member {
  using type = typename std::remove_cvref_t<decltype(list_option_members[hana::type_c<Tag>])>::type;
};
template <class Tag>
using list_member_t = typename list_member<Tag>::type;

template <class T, class Tag>
concept has_list_option = requires {
  list_member_t<Tag>::template get<traits_t<T>>();
};

// True when T's option of this kind is absent or is a list (or one item) of the right kind.
template <class T, class Tag>
consteval bool list_option_shape_ok() {
  if constexpr (has_list_option<T, Tag>) {
    using value_type =
        std::remove_cvref_t<decltype(list_member_t<Tag>::template get<traits_t<T>>())>;
    return option_well_formed<Tag, value_type>();
  } else {
    return true;
  }
}

// A std::tuple's items as a hana::tuple (std::apply with a lambda here instantiated the
// invoke machinery for a closure type per option type).
template <class... X, std::size_t... I>
constexpr hana::tuple<X...> to_hana_tuple(const std::tuple<X...>& items,
                                          std::index_sequence<I...> /*seq*/) {
  return hana::tuple<X...>{std::get<I>(items)...};
}
template <class... X>
constexpr hana::tuple<X...> to_hana_tuple(const std::tuple<X...>& items) {
  return to_hana_tuple(items, std::index_sequence_for<X...>{});
}

// The items of one list option of T, as a hana::tuple of specs; empty when the option is absent
// or malformed (check_option_shapes reports the latter).
template <class T, class Tag>
consteval auto read_list_option() {
  if constexpr (has_list_option<T, Tag> && list_option_shape_ok<T, Tag>()) {
    return to_hana_tuple(
        as_option_list<Tag>(list_member_t<Tag>::template get<traits_t<T>>()).items);
  } else {
    return hana::tuple<>{};
  }
}

/// The list options of T, in static storage (views into them stay valid).
template <class T, class Tag>
inline constexpr auto options_v = read_list_option<T, Tag>();

/// How many items T's option of this kind has.
template <class T, class Tag>
inline constexpr std::size_t option_count_v = decltype(hana::length(options_v<T, Tag>))::value;

/// Item J of T's option of this kind.
template <class T, class Tag, std::size_t J>
consteval const auto& option_item() {
  return hana::at_c<J>(options_v<T, Tag>);
}

/// Whether T has an option of this kind (with at least one item).
template <class T, class Tag>
inline constexpr bool has_option_v = option_count_v<T, Tag> != 0;

/// Calls f(item) for each item of T's option of this kind (hana::for_each). Call it under
/// `if constexpr (has_option_v<T, Tag>)`, so that nothing is instantiated for an option the
/// table does not have, the common case: a hana::for_each per table and per callback costs
/// compile memory even over an empty tuple, and so does the callback's closure type.
template <class T, class Tag, class F>
constexpr void for_each_option(F&& f) {
  hana::for_each(options_v<T, Tag>, f);
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

// The member pointers a column set names, as a hana::tuple.
template <class... M>
constexpr hana::tuple<M...> set_members(const column_set<M...>& set) {
  return to_hana_tuple(set.members);
}
template <class T>
inline constexpr auto primary_key_members_v = set_members(primary_key_v<T>);

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

// True when table_traits<T> has no `naming`, or a usable one.
template <class T>
consteval bool naming_ok() {
  if constexpr (requires { typename traits_t<T>::naming; }) {
    return naming_policy<typename traits_t<T>::naming>;
  } else {
    return true;
  }
}

// Field I's column name under table_traits<T>::naming, in static storage.
template <class T, std::size_t I>
struct naming_renderer {
  template <class Out>
  constexpr void operator()(Out& out) const {
    traits_t<T>::naming::write(field_names_v<T>[I], out);
  }
};
template <class T, std::size_t I>
inline constexpr auto named_column_v = rendered_v<naming_renderer<T, I>>;

// Column names after naming and renames, unquoted. Depends only on reflection, `naming` and
// `renames`, so a foreign key can name another table's columns without instantiating its
// table<> (two tables may reference each other).
template <class T>
consteval std::array<std::string_view, field_count_v<T>> column_names_of() {
  std::array<std::string_view, field_count_v<T>> names = field_names_v<T>;
  if constexpr (requires { typename traits_t<T>::naming; }) {
    if constexpr (naming_ok<T>()) {
      [&]<std::size_t... I>(std::index_sequence<I...>) {
        ((names[I] = named_column_v<T, I>.view()), ...);
      }
      (std::make_index_sequence<field_count_v<T>>{});
    }
  }
  if constexpr (has_option_v<T, renames_tag>) {
    for_each_option<T, renames_tag>([&](const auto& r) {
      if constexpr (std::is_same_v<member_class_of<decltype(r.member)>, T>) {
        names[field_index_of<T>(r.member)] = r.name;
      }
    });
  }
  return names;
}
template <class T>
inline constexpr auto column_names_v = column_names_of<T>();

// The columns a hana::tuple of member pointers of T names, as indexes.
template <class T, class... M, std::size_t... I>
constexpr std::array<std::size_t, sizeof...(M)> indices_of(const hana::tuple<M...>& members,
                                                           std::index_sequence<I...> /*seq*/) {
  return {field_index_of<T>(hana::at_c<I>(members))...};
}
template <class T, class... M>
constexpr std::array<std::size_t, sizeof...(M)> indices_of(const hana::tuple<M...>& members) {
  return indices_of<T>(members, std::index_sequence_for<M...>{});
}

// The default of column `index`, as SQL; "" for none.
template <class T>
constexpr std::string_view default_of(std::size_t index) {
  std::string_view result;
  if constexpr (has_option_v<T, defaults_tag>) {
    for_each_option<T, defaults_tag>([&](const auto& d) {
      if constexpr (std::is_same_v<member_class_of<decltype(d.member)>, T>) {
        if (field_index_of<T>(d.member) == index) result = d.text();
      }
    });
  } else {
    static_cast<void>(index);
  }
  return result;
}

// The declared SQL type of column `index` ("" for none) and its type modifier (-1 for none).
struct declared_column_type {
  std::string_view sql;
  std::int32_t type_modifier = -1;
};
template <class T>
constexpr declared_column_type declared_type_of(std::size_t index) {
  declared_column_type result;
  if constexpr (has_option_v<T, column_types_tag>) {
    for_each_option<T, column_types_tag>([&](const auto& d) {
      if constexpr (std::is_same_v<member_class_of<decltype(d.member)>, T>) {
        if (field_index_of<T>(d.member) == index) result = {d.sql(), d.type_modifier};
      }
    });
  } else {
    static_cast<void>(index);
  }
  return result;
}

// True when column `index` is part of the primary key.
template <class T>
constexpr bool in_primary_key(std::size_t index) {
  bool found = false;
  for (std::size_t i : indices_of<T>(primary_key_members_v<T>)) {
    if (i == index) found = true;
  }
  return found;
}

// The member pointers item J of an option names (a foreign key: its referencing columns).
template <class T, class Tag, std::size_t J>
consteval auto item_members() {
  const auto& item = option_item<T, Tag, J>();
  if constexpr (std::is_same_v<Tag, foreign_keys_tag>) {
    return set_members(item.columns);
  } else {
    return to_hana_tuple(item.members);
  }
}

// ---- validation ---------------------------------------------------------------------------------

// no_pg_type_for<F> (detail/codec_support.hpp) is left incomplete: naming it prints the field
// type that has no pg_type specialization, and the fix (docs/types.md).

/// Left incomplete: the compiler prints the table's struct and the offending member pointer.
/// Fix: use a pointer to a member of the struct this table_traits is for.
template <class Table, class MemberPointer>
struct not_a_member_of;

// A hana predicate on the type of a member pointer: does it name a member of T?
template <class T>
struct member_of {
  template <class M>
  constexpr auto operator()(hana::basic_type<M>) const {
    return hana::bool_c<std::is_same_v<member_class_of<M>, T>>;
  }
};

// Reached only after a failed static_assert: names the first member pointer of another struct
// in an error of its own, so the compiler prints both types.
template <class T, class Types>
constexpr void name_foreign_member(Types) {
  constexpr auto culprit =
      hana::find_if(Types{}, [](auto type) { return hana::not_(member_of<T>{}(type)); });
  using member = typename std::remove_cvref_t<decltype(culprit.value())>::type;
  static_cast<void>(sizeof(not_a_member_of<T, member>));
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

// Whether T has fields and each has a pg_type (also pgorm::mappable's test). This and the
// other per-table checks are plain folds and consteval functions: a lambda in a function
// instantiated per table is a closure type per table.
template <class T, std::size_t... I>
consteval bool all_fields_have_pg_type(std::index_sequence<I...> /*fields*/) {
  return sizeof...(I) > 0 && (has_pg_type<field_type_t<T, I>> && ...);
}
// Reached only after a failed check: names each field type without a pg_type.
template <class T, std::size_t... I>
consteval void name_fields_without_pg_type(std::index_sequence<I...> /*fields*/) {
  static_cast<void>((field_type_check<T, I>() && ...));
}

template <class T>
consteval bool check_field_types() {
  constexpr bool ok = all_fields_have_pg_type<T>(std::make_index_sequence<field_count_v<T>>{});
  static_assert(ok,
                "pgorm: a field of this struct has no PostgreSQL type mapping; see docs/types.md "
                "(the next error names the field type: no_pg_type_for<F>)");
  if constexpr (!ok) name_fields_without_pg_type<T>(std::make_index_sequence<field_count_v<T>>{});
  return ok;
}

// Whether table_traits<T>::name (schema) is absent or a string_view.
template <class T>
consteval bool name_is_text() {
  if constexpr (requires { traits_t<T>::name; }) {
    return std::is_convertible_v<decltype(traits_t<T>::name), std::string_view>;
  } else {
    return true;
  }
}
template <class T>
consteval bool schema_is_text() {
  if constexpr (requires { traits_t<T>::schema; }) {
    return std::is_convertible_v<decltype(traits_t<T>::schema), std::string_view>;
  } else {
    return true;
  }
}

template <class T>
consteval bool check_names() {
  constexpr bool name_ok = name_is_text<T>();
  static_assert(name_ok,
                "pgorm: table_traits<T>::name must be a std::string_view, e.g. "
                "static constexpr std::string_view name = \"users\";");
  constexpr bool schema_ok = schema_is_text<T>();
  static_assert(schema_ok,
                "pgorm: table_traits<T>::schema must be a std::string_view, e.g. "
                "static constexpr std::string_view schema = \"auth\";");
  static_assert(naming_ok<T>(),
                "pgorm: table_traits<T>::naming must be a naming policy: "
                "pgorm::naming::snake_case, camel_case or as_declared, or a type with "
                "template <class Out> static constexpr void write(std::string_view field, "
                "Out& out)");
  if constexpr (name_ok && schema_ok && naming_ok<T>()) {
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
  static_assert(
      list_option_shape_ok<T, renames_tag>(),
      "pgorm: table_traits<T>::renames must be pgorm::renames(pgorm::rename(&T::field, \"name\"), "
      "...)");
  static_assert(
      list_option_shape_ok<T, defaults_tag>(),
      "pgorm: table_traits<T>::defaults must be pgorm::defaults(pgorm::default_sql(&T::field, "
      "\"SQL\"), ...)");
  static_assert(list_option_shape_ok<T, unique_tag>(),
                "pgorm: table_traits<T>::unique must be pgorm::columns(&T::a, ...) or "
                "pgorm::uniques(pgorm::columns(...), ...)");
  static_assert(
      list_option_shape_ok<T, indexes_tag>(),
      "pgorm: table_traits<T>::indexes must be pgorm::indexes(pgorm::index(&T::a, ...), ...)");
  static_assert(list_option_shape_ok<T, foreign_keys_tag>(),
                "pgorm: table_traits<T>::foreign_keys must be "
                "pgorm::foreign_keys(pgorm::foreign_key(&T::a, &U::b), ...)");
  static_assert(
      list_option_shape_ok<T, checks_tag>(),
      "pgorm: table_traits<T>::checks must be pgorm::checks(pgorm::check(\"name\", \"SQL\"), ...)");
  static_assert(list_option_shape_ok<T, column_types_tag>(),
                "pgorm: table_traits<T>::column_types must be pgorm::column_types("
                "pgorm::column_type(&T::field, pgorm::sql_type::varchar(n)), ...)");
  return list_option_shape_ok<T, renames_tag>() && list_option_shape_ok<T, defaults_tag>() &&
         list_option_shape_ok<T, unique_tag>() && list_option_shape_ok<T, indexes_tag>() &&
         list_option_shape_ok<T, foreign_keys_tag>() && list_option_shape_ok<T, checks_tag>() &&
         list_option_shape_ok<T, column_types_tag>();
}

// The types of the member pointers one option item names, as a hana::tuple of hana::type.
template <class M>
constexpr auto spec_member_types(const column_rename<M>&) {
  return hana::tuple_t<M>;
}
template <class M>
constexpr auto spec_member_types(const column_default<M>&) {
  return hana::tuple_t<M>;
}
template <class M, sql_type_kind K>
constexpr auto spec_member_types(const column_type_spec<M, K>&) {
  return hana::tuple_t<M>;
}
template <class... M>
constexpr auto spec_member_types(const column_set<M...>&) {
  return hana::tuple_t<M...>;
}
template <class... M>
constexpr auto spec_member_types(const index_spec<M...>&) {
  return hana::tuple_t<M...>;
}
template <class From, class To>
constexpr auto spec_member_types(const foreign_key_spec<From, To>& fk) {
  return spec_member_types(fk.columns);  // the referencing columns: this table's
}

struct spec_member_types_fn {
  template <class Spec>
  constexpr auto operator()(const Spec& spec) const {
    return spec_member_types(spec);
  }
};

// The types of all member pointers T's option of this kind names (none when T has no such
// option: then no Hana algorithm is instantiated for it).
template <class T, class Tag, bool Given = (option_count_v<T, Tag> != 0)>
struct option_member_types {
  using type = hana::tuple<>;
};
template <class T, class Tag>
struct option_member_types<T, Tag, true> {
  using type = decltype(hana::flatten(hana::transform(options_v<T, Tag>, spec_member_types_fn{})));
};
template <class T, class Tag>
using option_member_types_t = typename option_member_types<T, Tag>::type;

template <class T>
consteval auto identity_member_types() {
  if constexpr (requires { traits_t<T>::identity.member; }) {
    return hana::tuple_t<decltype(traits_t<T>::identity.member)>;
  } else {
    return hana::tuple_t<>;
  }
}

// Whether every type of a hana::tuple of member pointer types names a member of T: a plain
// fold over the tuple's element types (a hana::unpack with a lambda here was a closure type
// per table and per option).
template <class T, class Types>
struct members_belong_to;
template <class T, class... Type>
struct members_belong_to<T, hana::tuple<Type...>>
    : std::bool_constant<(std::is_same_v<member_class_of<typename Type::type>, T> && ...)> {};

template <class T, class Types>
consteval bool members_belong() {
  return members_belong_to<T, Types>::value;
}

// One static_assert per option, then (only on failure) the first culprit's type in an error of
// its own.
template <class T>
consteval bool check_membership() {
  using primary_key_types = decltype(spec_member_types(primary_key_v<T>));
  using identity_types = decltype(identity_member_types<T>());
  static_assert(members_belong<T, primary_key_types>(),
                "pgorm: table_traits<T>::primary_key names a member of another struct; use "
                "pointers to members of T itself (the next error names both types)");
  static_assert(members_belong<T, identity_types>(),
                "pgorm: table_traits<T>::identity names a member of another struct; use a pointer "
                "to a member of T itself");
  static_assert(members_belong<T, option_member_types_t<T, renames_tag>>(),
                "pgorm: a rename() in table_traits<T>::renames names a member of another struct; "
                "rename members of T itself (the next error names both types)");
  static_assert(members_belong<T, option_member_types_t<T, defaults_tag>>(),
                "pgorm: a default in table_traits<T>::defaults names a member of another struct; "
                "use members of T itself (the next error names both types)");
  static_assert(members_belong<T, option_member_types_t<T, column_types_tag>>(),
                "pgorm: a column_type() in table_traits<T>::column_types names a member of "
                "another struct; declare types of members of T itself");
  static_assert(members_belong<T, option_member_types_t<T, unique_tag>>(),
                "pgorm: a unique constraint in table_traits<T>::unique names a member of another "
                "struct; use members of T itself (the next error names both types)");
  static_assert(members_belong<T, option_member_types_t<T, indexes_tag>>(),
                "pgorm: an index in table_traits<T>::indexes names a member of another struct; use "
                "members of T itself (the next error names both types)");
  static_assert(members_belong<T, option_member_types_t<T, foreign_keys_tag>>(),
                "pgorm: a foreign key in table_traits<T>::foreign_keys starts from a member of "
                "another struct; its first argument must name members of T itself");
  constexpr bool ok = members_belong<T, primary_key_types>() &&
                      members_belong<T, identity_types>() &&
                      members_belong<T, option_member_types_t<T, renames_tag>>() &&
                      members_belong<T, option_member_types_t<T, defaults_tag>>() &&
                      members_belong<T, option_member_types_t<T, column_types_tag>>() &&
                      members_belong<T, option_member_types_t<T, unique_tag>>() &&
                      members_belong<T, option_member_types_t<T, indexes_tag>>() &&
                      members_belong<T, option_member_types_t<T, foreign_keys_tag>>();
  if constexpr (!ok) {
    name_foreign_member<T>(hana::flatten(hana::make_tuple(
        primary_key_types{}, identity_types{}, option_member_types_t<T, renames_tag>{},
        option_member_types_t<T, defaults_tag>{}, option_member_types_t<T, column_types_tag>{},
        option_member_types_t<T, unique_tag>{}, option_member_types_t<T, indexes_tag>{},
        option_member_types_t<T, foreign_keys_tag>{})));
  }
  return ok;
}

// Whether a column of a column set is nullable: a fold over its member pointers' field types
// (a hana::any_of here instantiated Hana's search machinery once per table).
template <class... M>
constexpr bool any_member_nullable(const column_set<M...>& /*set*/) {
  return (pg_type<member_field_of<M>>::nullable || ...);
}

template <class T>
consteval bool primary_key_nullable() {
  return any_member_nullable(primary_key_v<T>);
}

template <std::size_t K>
constexpr bool has_duplicate(const std::array<std::size_t, K>& idx) {
  for (std::size_t i = 0; i < K; ++i) {
    for (std::size_t j = i + 1; j < K; ++j) {
      if (idx[i] == idx[j]) return true;
    }
  }
  return false;
}

template <class T>
consteval bool primary_key_has_duplicates() {
  return has_duplicate(indices_of<T>(primary_key_members_v<T>));
}

constexpr bool is_integer_sql_type(std::string_view sql_type) noexcept {
  return sql_type == "smallint" || sql_type == "integer" || sql_type == "bigint";
}

// Whether an identity column's field is a non-nullable integer.
template <class Identity>
constexpr bool identity_field_ok(const Identity& ident) {
  using field = member_field_of<decltype(ident.member)>;
  return is_integer_sql_type(pg_type<field>::sql_name) && !pg_type<field>::nullable;
}

template <class T>
consteval bool identity_types_ok() {
  bool ok = true;
  if constexpr (requires { traits_t<T>::primary_key.kind; }) {
    ok = identity_field_ok(traits_t<T>::primary_key);
  }
  if constexpr (requires { traits_t<T>::identity.kind; }) {
    ok = ok && identity_field_ok(traits_t<T>::identity);
  }
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
  if constexpr (option_count_v<T, renames_tag> == 0) {
    return true;
  } else {
    return !has_duplicate(hana::unpack(options_v<T, renames_tag>, [](const auto&... r) {
      return std::array<std::size_t, sizeof...(r)>{field_index_of<T>(r.member)...};
    }));
  }
}

template <class T>
consteval bool column_types_unique() {
  if constexpr (option_count_v<T, column_types_tag> == 0) {
    return true;
  } else {
    return !has_duplicate(hana::unpack(options_v<T, column_types_tag>, [](const auto&... d) {
      return std::array<std::size_t, sizeof...(d)>{field_index_of<T>(d.member)...};
    }));
  }
}

template <class T>
consteval bool default_on_identity() {
  bool clash = false;
  if constexpr (has_option_v<T, defaults_tag>) {
    for_each_option<T, defaults_tag>([&](const auto& d) {
      if (identity_of<T>(field_index_of<T>(d.member)) != identity_kind::none) clash = true;
    });
  }
  return clash;
}

constexpr bool constraint_name_ok(std::string_view n) {
  return n.empty() || is_valid_identifier(n);
}

template <class T>
consteval bool constraint_names_valid() {
  bool ok = constraint_name_ok(primary_key_v<T>.constraint_name);
  if constexpr (has_option_v<T, unique_tag>) {
    for_each_option<T, unique_tag>(
        [&](const auto& u) { ok = ok && constraint_name_ok(u.constraint_name); });
  }
  if constexpr (has_option_v<T, indexes_tag>) {
    for_each_option<T, indexes_tag>(
        [&](const auto& i) { ok = ok && constraint_name_ok(i.index_name); });
  }
  if constexpr (has_option_v<T, foreign_keys_tag>) {
    for_each_option<T, foreign_keys_tag>(
        [&](const auto& f) { ok = ok && constraint_name_ok(f.constraint_name); });
  }
  if constexpr (has_option_v<T, checks_tag>) {
    for_each_option<T, checks_tag>(
        [&](const auto& c) { ok = ok && constraint_name_ok(c.constraint_name); });
  }
  return ok;
}

template <class T>
consteval bool check_columns() {
  static_assert(column_names_valid<T>(),
                "pgorm: a column name must be 1 to 63 bytes with no NUL byte; shorten the "
                "member name or give it a shorter column name with pgorm::rename()");
  static_assert(renames_unique<T>(),
                "pgorm: table_traits<T>::renames renames one member twice; keep one rename()");
  static_assert(column_types_unique<T>(),
                "pgorm: table_traits<T>::column_types declares one member's type twice; keep one "
                "column_type()");
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
  return column_names_valid<T>() && renames_unique<T>() && column_types_unique<T>() &&
         column_names_unique<T>() && !primary_key_has_duplicates<T>() &&
         !primary_key_nullable<T>() && identity_types_ok<T>() && !default_on_identity<T>() &&
         constraint_names_valid<T>();
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
