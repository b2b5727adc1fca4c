// SPDX-License-Identifier: MIT
#pragma once

/// \file
/// What a statement sends and returns: `pgorm::param` (one parameter on the wire),
/// `pgorm::data_format` and `pgorm::result` (rows, columns, command tag). Below the connection:
/// codecs and the row reader need these, not the connection.

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "pgorm/attributes.hpp"
#include "pgorm/error.hpp"
#include "pgorm/export.hpp"
#include "pgorm/fwd.hpp"
#include "pgorm/statement_shape.hpp"

// The libpq accessors the row reader calls inline, declared exactly as <libpq-fe.h> does
// (pgorm's headers do not include it; libpq is a public link dependency of pgorm::pgorm).
extern "C" {
int PQgetisnull(const pg_result* res, int tup_num, int field_num);
char* PQgetvalue(const pg_result* res, int tup_num, int field_num);
int PQgetlength(const pg_result* res, int tup_num, int field_num);
}

namespace pgorm {

/// Wire format of a parameter or of result columns (libpq: 0 = text, 1 = binary).
enum class data_format : int { text = 0, binary = 1 };

/// One statement parameter, as PostgreSQL will receive it: NULL, text, or binary bytes.
///
/// A param is a view: the bytes it points to must outlive the exec() call. A param made from a
/// temporary string is safe inside the call's argument list (the string lives until the call
/// returns), and dangles once stored: keep the string in a variable first
/// (`const std::string n = std::to_string(id); const pgorm::param p[] = {pgorm::param::text(n)};`).
/// clang's -Wdangling reports the stored form; GCC does not.
/// Example: `conn.exec("select $1::int + 1", {pgorm::param::text("41")});`
class PGORM_VIEW_TYPE param {
 public:
  /// SQL NULL. `type` may be 0 to let the server infer the parameter's type.
  static constexpr param null(oid type = 0) noexcept {
    return {nullptr, 0, type, data_format::text};
  }

  /// A value in PostgreSQL's text format (what `psql` would show). May not contain a NUL byte:
  /// exec() refuses such a value with conversion_error rather than truncating it.
  static constexpr param text(std::string_view value, oid type = 0) noexcept {
    return {value.data() == nullptr ? "" : value.data(), value.size(), type, data_format::text};
  }
  /// text() of a std::string: the param refers to the string's bytes (see the class comment).
  /// Example: `const std::string id = std::to_string(42); auto p = pgorm::param::text(id);`
  template <std::same_as<std::string> S>
  static param text(const S& value PGORM_LIFETIMEBOUND, oid type = 0) noexcept {
    return {value.data(), value.size(), type, data_format::text};
  }

  /// A value in PostgreSQL's binary format for `type` (see the codecs in types.hpp).
  static param binary(std::span<const std::byte> value, oid type) noexcept {
    static constexpr char empty[1] = {};
    const char* data = value.empty() ? empty : reinterpret_cast<const char*>(value.data());
    return {data, value.size(), type, data_format::binary};
  }

  [[nodiscard]] constexpr bool is_null() const noexcept { return data_ == nullptr; }
  [[nodiscard]] constexpr oid type() const noexcept { return type_; }
  [[nodiscard]] constexpr data_format format() const noexcept { return format_; }
  /// The bytes of the value (empty for NULL).
  [[nodiscard]] constexpr std::string_view bytes() const noexcept {
    return data_ == nullptr ? std::string_view{} : std::string_view{data_, size_};
  }

 private:
  constexpr param(const char* data, std::size_t size, oid type, data_format format) noexcept
      : data_(data), size_(size), type_(type), format_(format) {}

  const char* data_;
  std::size_t size_;
  oid type_;
  data_format format_;
};

/// The outcome of one statement: its rows and columns (if any), the command tag and the
/// affected-row count. Move-only; owns the libpq PGresult.
///
/// Row and column indexes are 0-based. Accessors with an index out of range throw usage_error.
class PGORM_API result {
 public:
  result() noexcept = default;
  /// Takes ownership of a libpq result (PGresult*). Mostly for pgorm itself.
  /// `checked`: see checked_layout(); pass null unless the columns were checked (the
  /// connection does, see intern_checked_columns()).
  explicit result(pg_result* res, const checked_columns* checked = nullptr) noexcept;
  result(result&& other) noexcept
      : res_(other.res_), rows_(other.rows_), columns_(other.columns_), checked_(other.checked_) {
    other.res_ = nullptr;
    other.rows_ = 0;
    other.columns_ = 0;
    other.checked_ = nullptr;
  }
  result& operator=(result&& other) noexcept;
  result(const result&) = delete;
  result& operator=(const result&) = delete;
  ~result();

  /// Number of rows returned (0 for commands that return none).
  [[nodiscard]] int rows() const noexcept { return rows_; }
  /// Number of columns in each row.
  [[nodiscard]] int columns() const noexcept { return columns_; }
  [[nodiscard]] bool empty() const noexcept { return rows() == 0; }

  /// Name of column `col`, as the server labelled it.
  [[nodiscard]] std::string_view column_name(int col) const;
  /// True when column `col` is named exactly `name` (no std::string_view of the name is made).
  [[nodiscard]] bool column_name_is(int col, std::string_view name) const;
  /// Index of the column named `name`, or std::nullopt. Case-sensitive: pass the name as the
  /// server labels it (unquoted identifiers are folded to lower case by the server).
  [[nodiscard]] std::optional<int> column_index(std::string_view name) const noexcept;
  /// Type OID of column `col`.
  [[nodiscard]] oid column_type(int col) const;
  /// Format (text or binary) in which column `col` was returned.
  [[nodiscard]] data_format column_format(int col) const;
  /// OID of the table column `col` was fetched from, or 0 when it is computed.
  [[nodiscard]] oid column_table(int col) const;

  /// True when the value at (row, col) is SQL NULL.
  [[nodiscard]] bool is_null(int row, int col) const;
  /// The bytes of the value at (row, col) in the column's format; empty for NULL.
  [[nodiscard]] std::string_view value(int row, int col) const;
  /// The value at (row, col), or std::nullopt for NULL.
  [[nodiscard]] std::optional<std::string_view> get(int row, int col) const;

  /// Rows affected by INSERT/UPDATE/DELETE/MERGE/SELECT/COPY/..., from the command tag; 0 for
  /// commands that report no count.
  [[nodiscard]] std::int64_t affected_rows() const noexcept;
  /// The command tag, e.g. "INSERT 0 1" or "SELECT 3".
  [[nodiscard]] std::string_view command_tag() const noexcept;

  [[nodiscard]] pg_result* native_handle() const noexcept { return res_; }
  /// Gives up ownership of the libpq result: the caller PQclear()s it; this result is empty.
  [[nodiscard]] pg_result* release() noexcept {
    pg_result* res = res_;
    res_ = nullptr;
    rows_ = 0;
    columns_ = 0;
    checked_ = nullptr;
    return res;
  }

  /// The row layout this result's columns were found to match (count, names, binary format,
  /// types), or null when they were not checked against one. The connection checks the layout
  /// of a statement_shape once per cached prepared statement: PostgreSQL refuses to run a
  /// prepared statement whose result columns would change ("cached plan must not change result
  /// type"), so every later result of it matches too. The row reader then reads the columns by
  /// position without matching them again.
  [[nodiscard]] const row_layout* checked_layout() const noexcept {
    return checked_ == nullptr ? nullptr : checked_->layout;
  }
  /// The checked layout and the columns' type OIDs, or null (see checked_layout()).
  [[nodiscard]] const checked_columns* checked() const noexcept { return checked_; }
  /// True when the columns are those of `layout`: as many, each in binary format, of a type
  /// its column_spec accepts and, where the spec names one, of that name.
  ///
  /// Example: `bool same = res.columns_match(pgorm::row_layout_v<User>);`
  [[nodiscard]] bool columns_match(const row_layout& layout) const noexcept;

  // Unchecked access for pgorm's row reader, which checks indexes once per row (read_value.hpp).
  [[nodiscard]] bool is_null_unchecked(int row, int col) const noexcept {
    return ::PQgetisnull(res_, row, col) == 1;
  }
  [[nodiscard]] const char* data_unchecked(int row, int col) const noexcept {
    return ::PQgetvalue(res_, row, col);
  }
  [[nodiscard]] int length_unchecked(int row, int col) const noexcept {
    return ::PQgetlength(res_, row, col);
  }
  /// Throws usage_error unless 0 <= row < rows().
  void check_row(int row) const {
    if (row < 0 || row >= rows_) [[unlikely]]
      throw_bad_row(row);
  }

 private:
  // Inline, so that an in-range access costs two compares (the dimensions are read once).
  void check_column(int col) const {
    if (col < 0 || col >= columns_) [[unlikely]]
      throw_bad_column(col);
  }
  void check_index(int row, int col) const {
    check_column(col);
    if (row < 0 || row >= rows_) [[unlikely]]
      throw_bad_row(row);
  }
  [[noreturn]] void throw_bad_column(int col) const;
  [[noreturn]] void throw_bad_row(int row) const;

  pg_result* res_ = nullptr;
  int rows_ = 0;
  int columns_ = 0;
  const checked_columns* checked_ = nullptr;
};

/// The interned checked_columns for `layout` and the column types of `res` (whose columns
/// match it): the same object for the same layout and types, for the life of the process.
/// Thread-safe. The connection calls it once per prepared statement.
///
/// Example: `auto* c = pgorm::intern_checked_columns(pgorm::row_layout_v<User>, res);`
PGORM_API const checked_columns* intern_checked_columns(const row_layout& layout,
                                                        const result& res);

}  // namespace pgorm
