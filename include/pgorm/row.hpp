// SPDX-License-Identifier: MIT
#pragma once

/// \file
/// Row mapping: a binary-format result row into a struct (by column name, never by position),
/// a std::tuple (by position), or a single value. Column names and types are checked once per
/// result, or once per prepared statement when the connection checked them against the row's
/// layout (row_layout_v); each row then decodes straight into the fields.
///
/// ```cpp
/// auto res = conn.exec("select id, email from users", {}, pgorm::data_format::binary);
/// std::vector<User> users = pgorm::read_rows<User>(res);
/// ```

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "pgorm/error.hpp"
#include "pgorm/export.hpp"
#include "pgorm/reflect.hpp"
#include "pgorm/result.hpp"
#include "pgorm/table.hpp"
#include "pgorm/types.hpp"

namespace pgorm {

namespace detail {

[[noreturn]] PGORM_API void throw_missing_column(std::string_view table, std::string_view field,
                                                 std::string_view column);
[[noreturn]] PGORM_API void throw_extra_column(std::string_view table, std::string_view column);
[[noreturn]] PGORM_API void throw_column_count(std::size_t expected, int actual);

template <class T>
struct is_std_tuple : std::false_type {};
template <class... T>
struct is_std_tuple<std::tuple<T...>> : std::true_type {};

/// How a part of a row is read: a struct by its column names, or one value.
template <class E>
struct element_mapper;

/// A struct: each field from the column of the same (SQL) name, within [begin, end).
template <class T>
requires(!has_pg_type<T> && reflectable<T>) struct element_mapper<T> {
  using desc = table<T>;
  static constexpr int width = static_cast<int>(desc::column_count);

  std::array<int, desc::column_count> cols{};
  std::array<oid, desc::column_count> types{};

  void prepare(const result& res, int begin, int end, bool exact) {
    // Queries pgorm renders list a struct's columns in field order: check that first, one
    // name comparison per field, before searching for each name.
    const bool in_order =
        end - begin >= width && (!exact || end - begin == width) && names_in_order(res, begin);
    if (in_order) {
      prepare_in_order(res, begin, std::make_index_sequence<desc::column_count>{});
      return;
    }
    std::vector<bool> used(static_cast<std::size_t>(end > begin ? end - begin : 0));
    prepare_fields(res, begin, end, used, std::make_index_sequence<desc::column_count>{});
    if (exact) {
      for (int c = begin; c < end; ++c) {
        if (!used[static_cast<std::size_t>(c - begin)]) {
          throw_extra_column(desc::name, res.column_name(c));
        }
      }
    }
  }

  // Columns [begin, begin + width) already checked against row_layout_v (by the connection, once
  // per prepared statement), of the types in `checked`: the fields in order, nothing to check.
  void prepare_checked(const oid* checked, int begin) {
    for (int i = 0; i < width; ++i) {
      cols[static_cast<std::size_t>(i)] = begin + i;
      types[static_cast<std::size_t>(i)] = checked[begin + i];
    }
  }

  // Always inlined into the caller's loop over rows (read_rows, streaming): as a call of its
  // own per row, saving and restoring registers cost ~40 instructions per row (bench: scan).
  // `res`: the result prepare() saw, or a copy of its values (read_value()).
  template <class Src>
  [[gnu::always_inline]] void read(const Src& res, int row, T& out) const {
    read_fields(res, row, out, std::make_index_sequence<desc::column_count>{});
  }

  /// True when every column of this struct is NULL in `row` (a LEFT JOIN without a match).
  template <class Src>
  [[nodiscard]] bool all_null(const Src& res, int row) const {
    for (int c : cols) {
      if (!res.is_null_unchecked(row, c)) return false;
    }
    return true;
  }

 private:
  template <class Src, std::size_t... I>
  [[gnu::always_inline]] void read_fields(const Src& res, int row, T& out,
                                          std::index_sequence<I...> /*fields*/) const {
    (read_value(res, row, cols[I], types[I], get_field<I>(out), context<I>()), ...);
  }

  // A reference to a context in static storage: a context made per value was stored to the
  // stack before each field's libpq calls, for its error paths only (bench --callgrind: ~4
  // instructions per field of every row).
  template <std::size_t I>
  static constexpr const field_context& context() {
    return field_context_v<I>;
  }
  template <std::size_t I>
  static constexpr field_context field_context_v{desc::name, desc::columns[I].name};

  // True when the columns from `begin` on carry the fields' names, in field order.
  static bool names_in_order(const result& res, int begin) {
    return names_in_order(res, begin, std::make_index_sequence<desc::column_count>{});
  }
  template <std::size_t... I>
  static bool names_in_order(const result& res, int begin, std::index_sequence<I...> /*fields*/) {
    return (res.column_name_is(begin + static_cast<int>(I), desc::columns[I].name) && ...);
  }

  // The per-field steps below are plain folds over an index_sequence: a lambda per fold (and
  // per element) was a closure type per row type, which the bench TU paid in compile memory.

  // Field I from column begin + I (the names are in order), its type checked.
  template <std::size_t... I>
  void prepare_in_order(const result& res, int begin, std::index_sequence<I...> /*fields*/) {
    ((cols[I] = begin + static_cast<int>(I),
      types[I] = check_field<field_type_t<T, I>>(res, cols[I], context<I>())),
     ...);
  }
  // Each field from the column of its name, searched for in [begin, end).
  template <std::size_t... I>
  void prepare_fields(const result& res, int begin, int end, std::vector<bool>& used,
                      std::index_sequence<I...> /*fields*/) {
    (prepare_field<I>(res, begin, end, used), ...);
  }

  template <std::size_t I>
  void prepare_field(const result& res, int begin, int end, std::vector<bool>& used) {
    constexpr std::string_view name = desc::columns[I].name;
    int found = -1;
    for (int c = begin; c < end; ++c) {
      if (res.column_name_is(c, name)) {
        found = c;
        break;
      }
    }
    if (found < 0) throw_missing_column(desc::name, desc::columns[I].field_name, name);
    used[static_cast<std::size_t>(found - begin)] = true;
    cols[I] = found;
    types[I] = check_field<field_type_t<T, I>>(res, found, context<I>());
  }
};

/// A struct from a LEFT JOIN: std::nullopt when all its columns are NULL.
template <class T>
requires(!has_pg_type<std::optional<T>> && reflectable<T>) struct element_mapper<std::optional<T>> {
  static constexpr int width = element_mapper<T>::width;
  element_mapper<T> inner;

  void prepare(const result& res, int begin, int end, bool exact) {
    inner.prepare(res, begin, end, exact);
  }
  void prepare_checked(const oid* checked, int begin) { inner.prepare_checked(checked, begin); }
  template <class Src>
  void read(const Src& res, int row, std::optional<T>& out) const {
    if (inner.all_null(res, row)) {
      out.reset();
      return;
    }
    inner.read(res, row, out.emplace());
  }
};

/// One value, from one column.
template <class T>
requires has_pg_type<T>
struct element_mapper<T> {
  static constexpr int width = 1;
  int col = 0;
  oid type = 0;

  // No name is kept (the row reader may reuse this for a later result): errors look it up.
  void prepare(const result& res, int begin, int /*end*/, bool /*exact*/) {
    col = begin;
    type = check_field<T>(res, col, {});
  }
  void prepare_checked(const oid* checked, int begin) {
    col = begin;
    type = checked[begin];
  }
  template <class Src>
  void read(const Src& res, int row, T& out) const {
    read_value(res, row, col, type, out, {});
  }
};

template <class Row>
concept row_element = requires {
  element_mapper<Row>::width;
};

/// Whether a column of `type` can be read into T (a column_spec's check).
template <class T>
bool accepts_column(oid type) noexcept {
  return pg_type<T>::accepts(type);
}

/// Copies `n` column specs to out[i...], advancing i.
template <std::size_t N>
constexpr void append_columns(std::array<column_spec, N>& out, std::size_t& i,
                              const column_spec* from, std::size_t n) {
  for (std::size_t k = 0; k != n; ++k) out[i++] = from[k];
}

/// The columns one element of a row is read from, as row_reader's mappers read them.
template <class E>
struct layout_columns;
template <class T>
requires(!has_pg_type<T> && reflectable<T>) struct layout_columns<T> {
  template <std::size_t... I>
  static constexpr std::array<column_spec, sizeof...(I)> make(std::index_sequence<I...> /*f*/) {
    return {column_spec{table<T>::columns[I].name, &accepts_column<field_type_t<T, I>>}...};
  }
  static constexpr auto columns = make(std::make_index_sequence<table<T>::column_count>{});
};
template <class T>
requires(!has_pg_type<std::optional<T>> && reflectable<T>) struct layout_columns<std::optional<T>>
    : layout_columns<T> {
};
template <class T>
requires has_pg_type<T>
struct layout_columns<T> {
  static constexpr std::array<column_spec, 1> columns{column_spec{{}, &accepts_column<T>}};
};
template <class... E>
struct layout_columns<std::tuple<E...>> {
  static constexpr std::size_t size = (layout_columns<E>::columns.size() + ... + 0);
  static constexpr std::array<column_spec, size> make() {
    std::array<column_spec, size> out{};
    std::size_t i = 0;
    ((append_columns(out, i, layout_columns<E>::columns.data(), layout_columns<E>::columns.size())),
     ...);
    return out;
  }
  static constexpr auto columns = make();
};

}  // namespace detail

/// The types a result row can be read into: a reflectable struct whose fields all have a
/// pg_type (by column name), a std::tuple of such structs and values (by position), or a single
/// value type such as std::int64_t.
template <class Row>
concept row_type = detail::row_element<Row> || detail::is_std_tuple<Row>::value;

/// The columns `Row` is read from, in order, as a statement_shape's row layout: a struct's
/// columns by name and type, a value or a std::tuple's values by position and type.
///
/// Example: `bool fits = res.columns_match(pgorm::row_layout_v<User>);`
template <class Row>
inline constexpr row_layout row_layout_v{detail::layout_columns<Row>::columns};

namespace detail {

/// How the columns of a result map to `Row`'s parts, found once (row_reader's constructor):
/// which column each part reads and its type. Reads the rows of that result, or of a copy of
/// its values made before the result was freed (a pipeline's, see read_value()).
template <class Row>
class row_mapping {
  static_assert(row_type<Row>,
                "pgorm: rows are read into a struct of columns, a std::tuple, or a single value "
                "with a pg_type (see docs/types.md)");

 public:
  row_mapping() = default;
  /// Matches and type-checks the columns of `res` (see row_reader).
  explicit row_mapping(const result& res) {
    // The connection found the columns to be row_layout_v<Row>'s (once per prepared
    // statement): read them by position, without matching names or checking types again.
    if (const checked_columns* c = res.checked(); c != nullptr && c->layout == &row_layout_v<Row>) {
      if constexpr (is_std_tuple<Row>::value) {
        prepare_tuple_checked(c->types.data(), std::make_index_sequence<std::tuple_size_v<Row>>{});
      } else {
        mapper_.prepare_checked(c->types.data(), 0);
      }
      return;
    }
    if constexpr (is_std_tuple<Row>::value) {
      prepare_tuple(res, std::make_index_sequence<std::tuple_size_v<Row>>{});
    } else if constexpr (reflectable<Row> && !has_pg_type<Row>) {
      mapper_.prepare(res, 0, res.columns(), true);
    } else {
      if (res.columns() != 1) throw_column_count(1, res.columns());
      mapper_.prepare(res, 0, 1, true);
    }
  }

  /// Decodes row `row` (in range) of `res` into `out`. Always inlined into the caller's loop
  /// over rows: a call per row costs ~27 instructions per scanned row (bench --callgrind).
  template <class Src>
  [[gnu::always_inline]] void read(const Src& res, int row, Row& out) const {
    if constexpr (is_std_tuple<Row>::value) {
      read_tuple(res, row, out, std::make_index_sequence<std::tuple_size_v<Row>>{});
    } else {
      mapper_.read(res, row, out);
    }
  }

 private:
  // Each element of a tuple row from its mapper.
  template <class Src, std::size_t... I>
  [[gnu::always_inline]] void read_tuple(const Src& res, int row, Row& out,
                                         std::index_sequence<I...> /*e*/) const {
    (std::get<I>(mapper_).read(res, row, std::get<I>(out)), ...);
  }

  template <class T>
  struct mapper_of {
    using type = element_mapper<T>;
  };
  template <class... T>
  struct mapper_of<std::tuple<T...>> {
    using type = std::tuple<element_mapper<T>...>;
  };
  using mapper_type = typename mapper_of<Row>::type;

  template <std::size_t... I>
  void prepare_tuple(const result& res, std::index_sequence<I...>) {
    constexpr int width = (std::tuple_element_t<I, mapper_type>::width + ... + 0);
    if (res.columns() != width) throw_column_count(static_cast<std::size_t>(width), res.columns());
    int begin = 0;
    ((std::get<I>(mapper_).prepare(res, begin, begin + std::tuple_element_t<I, mapper_type>::width,
                                   true),
      begin += std::tuple_element_t<I, mapper_type>::width),
     ...);
  }

  template <std::size_t... I>
  void prepare_tuple_checked(const oid* checked, std::index_sequence<I...>) {
    int begin = 0;
    ((std::get<I>(mapper_).prepare_checked(checked, begin),
      begin += std::tuple_element_t<I, mapper_type>::width),
     ...);
  }

  mapper_type mapper_{};
};

}  // namespace detail

/// Reads the rows of one result into `Row`. The constructor matches and type-checks the
/// columns once; read() then decodes one row.
///
/// - A struct maps by column name: every field needs a column of its (SQL) name, and every
///   column needs a field; otherwise usage_error names the column.
/// - A std::tuple maps by position: the column count must equal the tuple's width (a struct
///   element takes as many columns as it has fields, matched by name within them).
/// - Types are checked against each field's codec: conversion_error names table.column.
///
/// Example: `pgorm::row_reader<User> reader(res); User u = reader.read(0);`
template <class Row>
class row_reader {
 public:
  explicit row_reader(const result& res) : res_(&res), mapping_(res) {}

  /// Reads from another result of the same shape (the next row in single-row mode), keeping the
  /// column matching done for the first one.
  void rebind(const result& res) noexcept { res_ = &res; }

  /// Decodes row `row` into `out`. Throws usage_error when `row` is out of range.
  void read(int row, Row& out) const { read_inline(row, out); }
  /// Decodes row `row`.
  [[nodiscard]] Row read(int row) const {
    Row out{};
    read(row, out);
    return out;
  }

 private:
  template <class R>
  friend std::vector<R> read_rows(const result& res);

  // Always inlined into read_rows' loop, whatever GCC decides for read()'s other callers (first(),
  // one()): a call per row costs ~27 instructions per scanned row (bench --callgrind).
  [[gnu::always_inline]] void read_inline(int row, Row& out) const {
    res_->check_row(row);
    mapping_.read(*res_, row, out);
  }

  const result* res_;
  detail::row_mapping<Row> mapping_;
};

/// Every row of a binary-format result as `Row` (see row_reader).
///
/// Example: `auto users = pgorm::read_rows<User>(conn.exec(sql, {}, pgorm::data_format::binary));`
template <class Row>
std::vector<Row> read_rows(const result& res) {
  row_reader<Row> reader(res);
  std::vector<Row> rows(static_cast<std::size_t>(res.rows()));
  for (int r = 0; r < res.rows(); ++r) reader.read_inline(r, rows[static_cast<std::size_t>(r)]);
  return rows;
}

}  // namespace pgorm
