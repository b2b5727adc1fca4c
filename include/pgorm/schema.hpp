// SPDX-License-Identifier: MIT
#pragma once

/// \file
/// Schema from descriptors: the DDL of a table<T> (CREATE TABLE with identity, defaults, primary
/// key, unique, foreign key and check constraints; CREATE INDEX for its indexes), creating
/// several tables in dependency order, the drift check (`diff<T...>(conn)`: what the live
/// database lacks or has in excess, as reviewable migration SQL), and helpers for tests
/// (`truncate_all<T...>`, `seed`). See docs/schema.md; the migration runner is migrate.hpp.
///
/// ```cpp
/// static_assert(pgorm::schema::create_table<Country>() ==
///               "CREATE TABLE country (\n  code text NOT NULL,\n  PRIMARY KEY (code)\n);");
/// pgorm::schema::create<User, Session>(conn);            // users before sessions (its FK)
/// auto d = pgorm::schema::diff<User, Session>(conn);     // d.in_sync(), d.sql(), d.report()
/// ```

#include <array>
#include <cstddef>
#include <filesystem>
#include <iterator>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "pgorm/composite.hpp"
#include "pgorm/connection.hpp"
#include "pgorm/detail/fixed_string.hpp"
#include "pgorm/detail/identifier.hpp"
#include "pgorm/export.hpp"
#include "pgorm/table.hpp"
#include "pgorm/transaction.hpp"

namespace pgorm::schema {

/// Options of create_table() and create().
struct create_table_options {
  bool if_not_exists = false;  ///< CREATE TABLE IF NOT EXISTS (create(): skip existing tables)
};

/// Options of create_index().
struct create_index_options {
  /// CREATE INDEX IF NOT EXISTS; applied to named indexes only (PostgreSQL requires a name).
  bool if_not_exists = false;
  /// CREATE INDEX CONCURRENTLY (cannot run inside a transaction block).
  bool concurrently = false;
};

/// Options of drop_table().
struct drop_table_options {
  bool if_exists = false;  ///< DROP TABLE IF EXISTS
  bool cascade = false;    ///< ... CASCADE: also drop what depends on it (foreign keys, views)
};

/// Options of create_schema().
struct create_schema_options {
  bool if_not_exists = false;  ///< CREATE SCHEMA IF NOT EXISTS
};

namespace detail {

using pgorm::detail::rendered_v;
using pgorm::detail::write_identifier;

template <class T, bool IfNotExists>
struct create_table_renderer {
  template <class Out>
  constexpr void operator()(Out& out) const {
    using tbl = pgorm::table<T>;
    out.append(IfNotExists ? "CREATE TABLE IF NOT EXISTS " : "CREATE TABLE ");
    out.append(tbl::qualified_name);
    out.append(" (");
    bool first = true;
    const auto item = [&] {
      out.append(first ? "\n  " : ",\n  ");
      first = false;
    };
    for (const column_info& c : tbl::columns) {
      item();
      out.append(c.sql_name);
      out.append(' ');
      out.append(c.sql_type);
      // An identity column is NOT NULL by definition (PG docs, CREATE TABLE).
      if (!c.nullable && !c.is_identity()) out.append(" NOT NULL");
      if (c.has_default()) {
        out.append(" DEFAULT ");
        out.append(c.default_sql);
      }
      if (c.is_identity()) {
        out.append(' ');
        out.append(to_sql(c.identity));
      }
    }
    const auto constraint_name = [&](std::string_view sql_name) {
      if (!sql_name.empty()) {
        out.append("CONSTRAINT ");
        out.append(sql_name);
        out.append(' ');
      }
    };
    if (!tbl::primary_key_columns.empty()) {
      item();
      if (!tbl::primary_key_name.empty()) {
        out.append("CONSTRAINT ");
        write_identifier(tbl::primary_key_name, out);
        out.append(' ');
      }
      out.append("PRIMARY KEY (");
      out.append(tbl::primary_key_columns);
      out.append(')');
    }
    for (const unique_info& u : tbl::uniques) {
      item();
      constraint_name(u.sql_name);
      out.append("UNIQUE (");
      out.append(u.columns);
      out.append(')');
    }
    for (const foreign_key_info& f : tbl::foreign_keys) {
      item();
      constraint_name(f.sql_name);
      out.append("FOREIGN KEY (");
      out.append(f.columns);
      out.append(") REFERENCES ");
      out.append(f.references_table);
      out.append(" (");
      out.append(f.references_columns);
      out.append(')');
      if (f.on_delete != fk_action::no_action) {
        out.append(" ON DELETE ");
        out.append(to_sql(f.on_delete));
      }
      if (f.on_update != fk_action::no_action) {
        out.append(" ON UPDATE ");
        out.append(to_sql(f.on_update));
      }
    }
    for (const check_info& c : tbl::checks) {
      item();
      constraint_name(c.sql_name);
      out.append("CHECK (");
      out.append(c.expression);
      out.append(')');
    }
    out.append("\n);");
  }
};

template <class Out>
constexpr void write_create_index(std::string_view table_name, const index_info& ix,
                                  bool if_not_exists, bool concurrently, Out& out) {
  out.append(ix.unique ? "CREATE UNIQUE INDEX " : "CREATE INDEX ");
  if (concurrently) out.append("CONCURRENTLY ");
  if (!ix.sql_name.empty()) {
    if (if_not_exists) out.append("IF NOT EXISTS ");
    out.append(ix.sql_name);
    out.append(' ');
  }
  out.append("ON ");
  out.append(table_name);
  if (!ix.method.empty()) {
    out.append(" USING ");
    out.append(ix.method);
  }
  out.append(" (");
  out.append(ix.columns);
  out.append(')');
  if (!ix.where.empty()) {
    out.append(" WHERE ");
    out.append(ix.where);
  }
  out.append(';');
}

template <class T, bool IfNotExists, bool Concurrently>
struct create_index_renderer {
  template <class Out>
  constexpr void operator()(Out& out) const {
    using tbl = pgorm::table<T>;
    bool first = true;
    for (const index_info& ix : tbl::indexes) {
      if (!first) out.append('\n');
      first = false;
      write_create_index(tbl::qualified_name, ix, IfNotExists, Concurrently, out);
    }
  }
};

template <class T, std::size_t I>
struct one_index_renderer {
  template <class Out>
  constexpr void operator()(Out& out) const {
    write_create_index(pgorm::table<T>::qualified_name, pgorm::table<T>::indexes[I], false, false,
                       out);
  }
};

template <class A, class... Rest>
consteval bool no_duplicates_from() {
  if constexpr (sizeof...(Rest) == 0) {
    return true;
  } else {
    return !(std::is_same_v<A, Rest> || ...) && no_duplicates_from<Rest...>();
  }
}

template <class... T>
consteval bool check_table_list() {
  static_assert(sizeof...(T) > 0,
                "pgorm: this schema function needs at least one table type, e.g. "
                "pgorm::schema::create<User, Session>(conn)");
  if constexpr (sizeof...(T) > 0) {
    static_assert(no_duplicates_from<T...>(),
                  "pgorm: a table type is listed twice; list each struct once");
    return no_duplicates_from<T...>();
  }
  return false;
}

/// A PostgreSQL enum type that a table's columns use (pgorm::enum_traits<E>::type_name): its
/// name as written in SQL and its labels in declaration order.
struct enum_type_info {
  std::string_view name;
  std::span<const std::string_view> labels;
};

// The traited enum E of a field type E, std::optional<E> or std::vector<E>; void otherwise.
template <class F>
struct enum_of {
  using type = void;
};
template <class F>
struct enum_of<std::optional<F>> : enum_of<F> {};
template <class F, class A>
struct enum_of<std::vector<F, A>> : enum_of<F> {};
template <class E>
requires pgorm::detail::pg_enum<E>
struct enum_of<E> {
  using type = E;
};

template <class E>
inline constexpr auto enum_labels_v = [] {
  std::array<std::string_view, std::size(pgorm::enum_traits<E>::values)> out{};
  std::size_t i = 0;
  for (const auto& value : pgorm::enum_traits<E>::values) out[i++] = std::string_view{value.second};
  return out;
}();

template <class F>
inline constexpr bool is_enum_field_v = !std::is_void_v<typename enum_of<F>::type>;

template <class T, std::size_t... I>
constexpr auto table_enums(std::index_sequence<I...>) {
  constexpr std::size_t count =
      (std::size_t{0} + ... + (is_enum_field_v<field_type_t<T, I>> ? 1 : 0));
  std::array<enum_type_info, count> out{};
  std::size_t n = 0;
  const auto add = [&]<class F>(std::type_identity<F>) {
    if constexpr (is_enum_field_v<F>) {
      using E = typename enum_of<F>::type;
      out[n++] = enum_type_info{std::string_view{pgorm::enum_traits<E>::type_name},
                                {enum_labels_v<E>.data(), enum_labels_v<E>.size()}};
    }
  };
  (add(std::type_identity<field_type_t<T, I>>{}), ...);
  return out;
}

/// The enum types of T's columns (one entry per enum column; a type may repeat).
template <class T>
inline constexpr auto enum_types_v = table_enums<T>(std::make_index_sequence<field_count_v<T>>{});

/// An attribute of a composite type: its name (unquoted) and its SQL type.
struct composite_attribute_info {
  std::string_view name;
  std::string_view sql_type;
};

/// A composite type that a table's columns use (pgorm::composite_traits<C>::type_name): its
/// name as written in SQL and its attributes in declaration order.
struct composite_type_info {
  std::string_view name;
  std::span<const composite_attribute_info> attributes;
};

// The composite C of a field type C, std::optional<C> or std::vector<C>; void otherwise.
template <class F>
struct composite_of {
  using type = void;
};
template <class F>
struct composite_of<std::optional<F>> : composite_of<F> {};
template <class F, class A>
struct composite_of<std::vector<F, A>> : composite_of<F> {};
template <class C>
requires pgorm::pg_composite<C>
struct composite_of<C> {
  using type = C;
};

template <class F>
inline constexpr bool is_composite_field_v = !std::is_void_v<typename composite_of<F>::type>;

template <class C>
inline constexpr auto composite_attributes_v = []<std::size_t... I>(std::index_sequence<I...>) {
  return std::array<composite_attribute_info, sizeof...(I)>{composite_attribute_info{
      field_names_v<C>[I], std::string_view { pg_type<field_type_t<C, I>>::sql_name }}...};
}
(std::make_index_sequence<field_count_v<C>>{});

template <class C>
inline constexpr composite_type_info composite_info_v{
    std::string_view{composite_traits<C>::type_name},
    {composite_attributes_v<C>.data(), composite_attributes_v<C>.size()}};

// How many entries the composites of a struct's fields take, nested ones included.
template <class T, std::size_t... I>
consteval std::size_t composite_count(std::index_sequence<I...>);
template <class F>
consteval std::size_t composite_field_count() {
  if constexpr (is_composite_field_v<F>) {
    using C = typename composite_of<F>::type;
    return 1 + composite_count<C>(std::make_index_sequence<field_count_v<C>>{});
  } else {
    return 0;
  }
}
template <class T, std::size_t... I>
consteval std::size_t composite_count(std::index_sequence<I...>) {
  return (std::size_t{0} + ... + composite_field_count<field_type_t<T, I>>());
}

// Appends the composites of T's fields to `out`, each after the composites it holds.
template <class T, std::size_t N, std::size_t... I>
constexpr void add_composites(std::array<composite_type_info, N>& out, std::size_t& n,
                              std::index_sequence<I...>) {
  const auto add = [&]<class F>(std::type_identity<F>) {
    if constexpr (is_composite_field_v<F>) {
      using C = typename composite_of<F>::type;
      add_composites<C>(out, n, std::make_index_sequence<field_count_v<C>>{});
      out[n++] = composite_info_v<C>;
    }
  };
  (add(std::type_identity<field_type_t<T, I>>{}), ...);
}

/// The composite types of T's columns, each after the composites nested in it (a type may
/// repeat).
template <class T>
inline constexpr auto composite_types_v = [] {
  using seq = std::make_index_sequence<field_count_v<T>>;
  std::array<composite_type_info, composite_count<T>(seq{})> out{};
  std::size_t n = 0;
  add_composites<T>(out, n, seq{});
  return out;
}();

/// The run-time description of one wanted table: what create() and diff() need, independent
/// of T, so the work happens once in src/schema.cpp.
struct table_spec {
  std::string_view qualified_name;  ///< as written in SQL
  std::string_view schema;          ///< unquoted; "" for the search_path
  std::string_view name;            ///< unquoted
  std::span<const column_info> columns;
  std::string_view primary_key_name;  ///< unquoted; "" for the server's choice
  std::span<const std::size_t> primary_key;
  std::span<const unique_info> uniques;
  std::span<const index_info> indexes;
  std::span<const foreign_key_info> foreign_keys;
  std::span<const check_info> checks;
  std::string_view create_table;            ///< CREATE TABLE ...;
  std::string_view create_indexes;          ///< CREATE INDEX ...; (one per line), "" for none
  std::span<const enum_type_info> enums{};  ///< the enum types its columns use
  /// the composite types its columns use, nested ones first
  std::span<const composite_type_info> composites{};
};

template <class T>
constexpr table_spec spec_of() {
  using tbl = pgorm::table<T>;
  return table_spec{tbl::qualified_name,
                    tbl::schema,
                    tbl::name,
                    {tbl::columns.data(), tbl::columns.size()},
                    tbl::primary_key_name,
                    {tbl::primary_key.data(), tbl::primary_key.size()},
                    {tbl::uniques.data(), tbl::uniques.size()},
                    {tbl::indexes.data(), tbl::indexes.size()},
                    {tbl::foreign_keys.data(), tbl::foreign_keys.size()},
                    {tbl::checks.data(), tbl::checks.size()},
                    rendered_v<create_table_renderer<T, false>>.view(),
                    rendered_v<create_index_renderer<T, false, false>>.view(),
                    {enum_types_v<T>.data(), enum_types_v<T>.size()},
                    {composite_types_v<T>.data(), composite_types_v<T>.size()}};
}

/// The tables in an order where every table comes after the tables its foreign keys reference
/// (self references and cycles aside: a cycle keeps the given order). Indexes into `tables`.
PGORM_API std::vector<std::size_t> dependency_order(std::span<const table_spec> tables);

/// Runs the CREATE statements of `tables` in dependency order, in one transaction.
PGORM_API void create_tables(connection& conn, std::span<const table_spec> tables,
                             const create_table_options& options);

/// CREATE TYPE name AS ENUM ('label', ...);
PGORM_API std::string create_enum_sql(std::string_view name,
                                      std::span<const std::string_view> labels);

/// CREATE TYPE name AS (attribute type, ...); the text schema::create_type<C>() gives.
PGORM_API std::string create_composite_sql(const composite_type_info& type);

/// TRUNCATE ... RESTART IDENTITY CASCADE of the tables.
PGORM_API std::string truncate_sql(std::span<const std::string_view> qualified_names);

}  // namespace detail

/// The CREATE TABLE statement of T: columns with their types, NOT NULL, DEFAULT and identity;
/// then PRIMARY KEY, UNIQUE, FOREIGN KEY (with ON DELETE / ON UPDATE) and CHECK constraints,
/// named where table_traits<T> names them. Rendered at compile time: the result views static
/// storage, and the call is a constant expression.
///
/// Example:
/// ```
/// static_assert(pgorm::schema::create_table<Country>() ==
///               "CREATE TABLE country (\n  code text NOT NULL,\n  PRIMARY KEY (code)\n);");
/// conn.exec(pgorm::schema::create_table<User>({.if_not_exists = true}));
/// ```
template <class T>
constexpr std::string_view create_table(create_table_options options = {}) noexcept {
  return options.if_not_exists ? detail::rendered_v<detail::create_table_renderer<T, true>>.view()
                               : detail::rendered_v<detail::create_table_renderer<T, false>>.view();
}

/// The CREATE INDEX statements of T's indexes (table_traits<T>::indexes), one per line, each
/// ending in ';'; "" when T has none. Unique, partial (WHERE) and USING method indexes included.
/// Rendered at compile time.
///
/// Example: `conn.exec(pgorm::schema::create_index<Session>());`
/// gives e.g. "CREATE INDEX ON sessions (user_id, expires_at) WHERE revoked_at IS NULL;"
template <class T>
constexpr std::string_view create_index(create_index_options options = {}) noexcept {
  using detail::create_index_renderer;
  using detail::rendered_v;
  if (options.concurrently) {
    return options.if_not_exists ? rendered_v<create_index_renderer<T, true, true>>.view()
                                 : rendered_v<create_index_renderer<T, false, true>>.view();
  }
  return options.if_not_exists ? rendered_v<create_index_renderer<T, true, false>>.view()
                               : rendered_v<create_index_renderer<T, false, false>>.view();
}

/// DROP TABLE for T, e.g. "DROP TABLE IF EXISTS sessions CASCADE;".
///
/// Example: `conn.exec(pgorm::schema::drop_table<Session>({.if_exists = true, .cascade = true}));`
template <class T>
std::string drop_table(drop_table_options options = {}) {
  std::string sql = options.if_exists ? "DROP TABLE IF EXISTS " : "DROP TABLE ";
  sql += pgorm::table<T>::qualified_name;
  if (options.cascade) sql += " CASCADE";
  sql += ';';
  return sql;
}

/// CREATE SCHEMA for a schema name (quoted where needed).
///
/// Throws usage_error when `name` is not a valid identifier (empty, over 63 bytes, NUL).
/// Example: `conn.exec(pgorm::schema::create_schema("auth", {.if_not_exists = true}));`
PGORM_API std::string create_schema(std::string_view name, create_schema_options options = {});

/// CREATE TYPE for a C++ enum mapped to a PostgreSQL enum type (pgorm::enum_traits<E> with a
/// `type_name`), with its labels in declaration order.
///
/// Example: `pgorm::schema::create_enum<role>()` gives
/// "CREATE TYPE user_role AS ENUM ('admin', 'member');"
template <class E>
requires pgorm::detail::pg_enum<E> std::string create_enum() {
  return detail::create_enum_sql(pgorm::enum_traits<E>::type_name, detail::enum_labels_v<E>);
}

/// Creates the tables T... (and, for tables with a table_traits schema, their schemas) with
/// their constraints and indexes, in dependency order (referenced tables first), in one
/// transaction. The enum types their columns use (pgorm::enum_traits<E>::type_name) and their
/// composite types (pgorm::composite_traits<C>, each after the composites nested in it) are
/// created first when the database has no type of that name. With `.if_not_exists`, tables that
/// exist already are skipped with their indexes.
///
/// Throws sql_error when the server rejects a statement (nothing is created then).
/// Example: `pgorm::schema::create<Session, User>(conn);  // runs users first`
template <class... T>
void create(connection& conn, create_table_options options = {}) {
  if constexpr (detail::check_table_list<T...>()) {
    const detail::table_spec specs[] = {detail::spec_of<T>()...};
    detail::create_tables(conn, specs, options);
  }
}

/// TRUNCATE TABLE of T... with RESTART IDENTITY CASCADE: empties the tables (and the tables
/// whose foreign keys reference them) and resets their identity sequences. For tests.
///
/// Example: `pgorm::schema::truncate_all<User, Session>(conn);`
template <class... T>
void truncate_all(connection& conn) {
  if constexpr (detail::check_table_list<T...>()) {
    const std::string_view names[] = {pgorm::table<T>::qualified_name...};
    conn.exec(detail::truncate_sql(names));
  }
}

/// Seeds test data: empties T... (truncate_all) and runs fn(pgorm::transaction&) in the same
/// transaction, so a test starts from exactly the rows fn inserts. With no T, only runs fn in
/// a transaction. Returns what fn returns; rolls back and rethrows when fn throws.
///
/// Example:
/// ```
/// pgorm::schema::seed<User, Session>(conn, [](pgorm::transaction& tx) {
///   tx.insert(User{.email = "a@b.c"}).exec();
/// });
/// ```
template <class... T, class F>
decltype(auto) seed(connection& conn, F&& fn) {
  return conn.transaction([&](pgorm::transaction& tx) -> decltype(auto) {
    if constexpr (sizeof...(T) > 0) {
      static_cast<void>(detail::check_table_list<T...>());
      const std::string_view names[] = {pgorm::table<T>::qualified_name...};
      tx.exec(detail::truncate_sql(names));
    }
    return fn(tx);
  });
}

// ---- drift check ---------------------------------------------------------------------------

/// What a schema_change changes.
enum class change_kind : unsigned char {
  create_table,      ///< the table is missing
  add_column,        ///< a struct field has no column
  drop_column,       ///< a column has no struct field (destructive)
  alter_type,        ///< the column's type differs
  set_not_null,      ///< the column allows NULL, the field does not
  drop_not_null,     ///< the column is NOT NULL, the field is std::optional
  set_default,       ///< the column's default differs or is missing
  drop_default,      ///< the column has a default the struct does not declare
  add_identity,      ///< the column should be an identity column
  drop_identity,     ///< the column should not be an identity column
  add_primary_key,   ///< the primary key is missing or differs
  drop_primary_key,  ///< the primary key differs or should not exist
  add_unique,        ///< a unique constraint is missing
  drop_unique,       ///< a unique constraint is not declared
  add_index,         ///< an index is missing
  drop_index,        ///< an index is not declared
  add_foreign_key,   ///< a foreign key is missing (or differs)
  drop_foreign_key,  ///< a foreign key is not declared (or differs)
  add_check,         ///< a check constraint is missing (or its condition differs)
  drop_check,        ///< a check constraint is not declared (or its condition differs)
  create_enum,       ///< an enum type a column uses is missing (CREATE TYPE ... AS ENUM)
  add_enum_value,    ///< an enum type lacks a label (ALTER TYPE ... ADD VALUE)
  create_composite,  ///< a composite type a column uses is missing (CREATE TYPE ... AS (...))
  add_attribute,     ///< a composite type lacks a field (ALTER TYPE ... ADD ATTRIBUTE)
  drop_attribute,    ///< a composite type has an attribute the struct lacks, or one out of
                     ///< the struct's order (destructive: dropped, then added again in order)
  alter_attribute,   ///< a composite type's attribute has another type (ALTER ATTRIBUTE)
};

/// "create_table", "add_column", ...
PGORM_API std::string_view to_string(change_kind kind) noexcept;

/// One difference between the structs and the live database, with the SQL that resolves it.
struct schema_change {
  change_kind kind;          ///< what kind of change
  std::string table;         ///< the table, as written in SQL
  std::string object;        ///< the column, constraint or index concerned ("" for a table)
  std::string description;   ///< one line for humans, e.g. "users.age: integer -> bigint"
  std::string sql;           ///< the statement(s) that resolve it, each ending in ';'
  bool destructive = false;  ///< true when running `sql` loses data (dropping a column)
};

/// The outcome of diff(): the changes, in an order in which their SQL can run.
struct PGORM_API diff_result {
  std::vector<schema_change> changes;  ///< empty when the database matches the structs

  /// True when the database matches the structs.
  [[nodiscard]] bool in_sync() const noexcept { return changes.empty(); }
  /// True when some change loses data (see schema_change::destructive).
  [[nodiscard]] bool destructive() const noexcept;
  /// The reviewable migration SQL: each change as a comment line then its statements;
  /// destructive ones are preceded by a "-- DESTRUCTIVE:" comment. "" when in sync.
  [[nodiscard]] std::string sql() const;
  /// A human report: "in sync", or one line per change.
  [[nodiscard]] std::string report() const;
  /// Writes sql() as the next migration file of `dir` (see pgorm::migrate::create) and
  /// returns its path. Throws usage_error when in sync (there is nothing to write) and
  /// migration_error when the directory cannot be written.
  std::filesystem::path write_migration(const std::filesystem::path& dir,
                                        std::string_view name) const;
};

namespace detail {
PGORM_API diff_result diff_tables(connection& conn, std::span<const table_spec> tables);
}  // namespace detail

/// Compares the tables T... with the live database (pg_catalog, through `conn`'s search_path
/// for tables without a schema): missing tables, missing and extra columns, type (compared by
/// the server's canonical name: "int4" is "integer"), nullability, default and identity
/// differences, and missing or extra primary keys, unique constraints, indexes and foreign
/// keys and check constraints (conditions compared as the server deparses them, through a
/// temporary copy of the table's columns in a rolled-back transaction or savepoint). Tables
/// in the database that are not among T... are not looked at. The enum and composite types
/// the columns use are compared too: a missing type, a missing enum label, and a composite's
/// attributes by name, type and order (an attribute out of the struct's order is dropped and
/// added again: destructive).
///
/// Throws sql_error / connection_error when the catalog cannot be read.
/// Example:
/// ```
/// auto d = pgorm::schema::diff<User, Session>(conn);
/// if (!d.in_sync()) d.write_migration("migrations", "sync structs");
/// ```
template <class... T>
diff_result diff(connection& conn) {
  if constexpr (detail::check_table_list<T...>()) {
    const detail::table_spec specs[] = {detail::spec_of<T>()...};
    return detail::diff_tables(conn, specs);
  } else {
    return {};
  }
}

/// diff() for CI: true when the database matches T...; otherwise false, with the report
/// written to `report` when given.
///
/// Example: `std::string why; if (!pgorm::schema::check<User>(conn, &why)) { fail(why); }`
template <class... T>
bool check(connection& conn, std::string* report = nullptr) {
  const diff_result d = diff<T...>(conn);
  if (report != nullptr) *report = d.report();
  return d.in_sync();
}

}  // namespace pgorm::schema
