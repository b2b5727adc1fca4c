// SPDX-License-Identifier: MIT
#pragma once

#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>

#include "pgorm/export.hpp"

/// \file
/// The exceptions pgorm throws. Every one derives from pgorm::error; the data a handler needs
/// (SQLSTATE, constraint, table, column, ...) sits on sql_error itself, and subclasses exist only
/// for the states applications branch on. See docs/errors.md for the catalogue.
///
/// No what() text ever contains a password, and no what() text contains a parameter value:
/// values the server quotes back in its message are replaced by "<redacted>". The raw server
/// texts stay available through sql_error::message() and sql_error::detail().

namespace pgorm {

/// Root of every exception pgorm throws.
///
/// Example: `try { conn.exec("select 1"); } catch (const pgorm::error& e) { log(e.what()); }`
class PGORM_API error : public std::runtime_error {
 public:
  explicit error(const std::string& what) : std::runtime_error(what) {}

  /// True when the connection that raised this error must not be reused (it is broken, or its
  /// state is unknown). A pool destroys such a connection instead of returning it.
  [[nodiscard]] virtual bool poisons_connection() const noexcept { return false; }
};

/// Connecting failed, or an open connection broke (socket closed, server gone, timeout).
/// Always poisons the connection.
class PGORM_API connection_error : public error {
 public:
  using error::error;
  [[nodiscard]] bool poisons_connection() const noexcept override { return true; }
};

/// The library was used in a way that can only be detected at run time, for example one() on
/// a result with several rows, or a NUL byte inside a text parameter.
class PGORM_API usage_error : public error {
 public:
  using error::error;
};

/// one() found no row: what was asked for does not exist. Not a usage_error: zero rows is the
/// data's answer, not a misuse, so a service can map it to 404 Not Found (Prisma's
/// `findUniqueOrThrow` throws its NotFoundError likewise). Several rows from one() stay a
/// usage_error. Does not poison the connection.
///
/// Example: `try { return q.one(conn); } catch (const pgorm::not_found&) { respond(404); }`
class PGORM_API not_found : public error {
 public:
  using error::error;
};

/// A value could not be converted between its SQL and C++ representations. Names the table
/// and column (when known), the SQL type and the C++ type involved.
class PGORM_API conversion_error : public error {
 public:
  conversion_error(const std::string& what, std::string table, std::string column,
                   std::string sql_type, std::string cpp_type)
      : error(what),
        table_(std::move(table)),
        column_(std::move(column)),
        sql_type_(std::move(sql_type)),
        cpp_type_(std::move(cpp_type)) {}

  /// The table of the column being converted, or "" when it is not known.
  [[nodiscard]] const std::string& table() const noexcept { return table_; }
  /// The column (or "$n" for a parameter) being converted.
  [[nodiscard]] const std::string& column() const noexcept { return column_; }
  /// The PostgreSQL type name, e.g. "int8", or "oid 1234" when it has no built-in name.
  [[nodiscard]] const std::string& sql_type() const noexcept { return sql_type_; }
  /// The C++ type, e.g. "std::int32_t".
  [[nodiscard]] const std::string& cpp_type() const noexcept { return cpp_type_; }

 private:
  std::string table_;
  std::string column_;
  std::string sql_type_;
  std::string cpp_type_;
};

/// A NULL arrived for a field whose C++ type cannot hold one; make the field std::optional.
class PGORM_API unexpected_null : public conversion_error {
 public:
  using conversion_error::conversion_error;
};

/// The server's error fields, as libpq reports them (PQresultErrorField).
struct sql_error_fields {
  std::string sqlstate;    ///< five-character SQLSTATE, e.g. "23505"
  std::string severity;    ///< ERROR, FATAL or PANIC (not localized)
  std::string message;     ///< the primary message, unredacted
  std::string detail;      ///< the DETAIL line, unredacted (may hold values, e.g. a duplicate key)
  std::string hint;        ///< the HINT line
  std::string schema;      ///< schema of the object involved, when the server names one
  std::string table;       ///< table involved
  std::string column;      ///< column involved
  std::string constraint;  ///< constraint involved
  /// The SQL text that failed: never its parameter values, and a secret written into it as a
  /// literal (PASSWORD '...', a connection string) reads '***'.
  std::string statement;
  int position = 0;              ///< 1-based character position of the error in statement, or 0
  bool connection_lost = false;  ///< the connection was no longer usable after the error
};

/// The server rejected a statement. Carries every error field the server sent.
///
/// Example: `catch (const pgorm::sql_error& e) { if (e.sqlstate() == "42P01") ...; }`
class PGORM_API sql_error : public error {
 public:
  sql_error(const std::string& what, sql_error_fields fields)
      : error(what), fields_(std::make_shared<const sql_error_fields>(std::move(fields))) {}

  [[nodiscard]] const std::string& sqlstate() const noexcept { return fields_->sqlstate; }
  [[nodiscard]] const std::string& severity() const noexcept { return fields_->severity; }
  /// The server's primary message, unredacted: it can quote values. what() is the safe one.
  [[nodiscard]] const std::string& message() const noexcept { return fields_->message; }
  [[nodiscard]] const std::string& detail() const noexcept { return fields_->detail; }
  [[nodiscard]] const std::string& hint() const noexcept { return fields_->hint; }
  [[nodiscard]] const std::string& schema() const noexcept { return fields_->schema; }
  [[nodiscard]] const std::string& table() const noexcept { return fields_->table; }
  [[nodiscard]] const std::string& column() const noexcept { return fields_->column; }
  [[nodiscard]] const std::string& constraint() const noexcept { return fields_->constraint; }
  [[nodiscard]] const std::string& statement() const noexcept { return fields_->statement; }
  [[nodiscard]] int position() const noexcept { return fields_->position; }
  [[nodiscard]] const sql_error_fields& fields() const noexcept { return *fields_; }

  /// True for connection-level failures (SQLSTATE class 08, admin shutdown 57P01-57P03, a
  /// FATAL or PANIC severity) and whenever the connection was lost with the error.
  [[nodiscard]] bool poisons_connection() const noexcept override;

 private:
  // Shared so that copying an exception (which must not throw) only bumps a count.
  std::shared_ptr<const sql_error_fields> fields_;
};

/// 23505: a UNIQUE or PRIMARY KEY constraint was violated; constraint() names it.
class PGORM_API unique_violation : public sql_error {
 public:
  using sql_error::sql_error;
};
/// 23503: a FOREIGN KEY constraint was violated.
class PGORM_API foreign_key_violation : public sql_error {
 public:
  using sql_error::sql_error;
};
/// 23502: NULL was written into a NOT NULL column; column() names it.
class PGORM_API not_null_violation : public sql_error {
 public:
  using sql_error::sql_error;
};
/// 23514: a CHECK constraint was violated.
class PGORM_API check_violation : public sql_error {
 public:
  using sql_error::sql_error;
};
/// 40001: a serializable transaction could not be serialized; retrying it may succeed.
class PGORM_API serialization_failure : public sql_error {
 public:
  using sql_error::sql_error;
};
/// 40P01: the server broke a deadlock by aborting this transaction; retrying it may succeed.
class PGORM_API deadlock_detected : public sql_error {
 public:
  using sql_error::sql_error;
};
/// 57014: the statement was cancelled (statement_timeout, or a cancel request).
class PGORM_API query_canceled : public sql_error {
 public:
  using sql_error::sql_error;
};

}  // namespace pgorm
