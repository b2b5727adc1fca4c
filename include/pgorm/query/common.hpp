// SPDX-License-Identifier: MIT
#pragma once

/// \file
/// What every query builder shares: the executor concept, static SQL rendering, the statement
/// returned by to_sql(), and the run-and-read helpers.

#include <chrono>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "pgorm/connection.hpp"
#include "pgorm/detail/fixed_string.hpp"
#include "pgorm/detail/sql_writer.hpp"
#include "pgorm/error.hpp"
#include "pgorm/executor.hpp"
#include "pgorm/export.hpp"
#include "pgorm/params.hpp"
#include "pgorm/row.hpp"

namespace pgorm {

static_assert(executor<connection>);

/// An executor that runs each statement of another with a client-side deadline: past it the
/// statement is cancelled on the server and query_canceled is thrown (see
/// connection::exec(sql, params, format, timeout)). Streaming (each()) gets the deadline for
/// the whole stream where the executor takes one (connection, pool); a transaction's streams
/// keep the transaction's own budget. On a pool, builder statements keep skipping the session
/// reset.
///
/// Example: `auto quick = pgorm::with_timeout(conn, 200ms); auto rows = q.all(quick);`
template <class E>
class with_timeout {
  static_assert(
      requires(E & e, std::string_view sql, std::span<const param> p) {
        {
          e.exec(sql, p, data_format::binary, std::chrono::milliseconds(1))
          } -> std::same_as<result>;
      },
      "pgorm: with_timeout() needs an executor with exec(sql, params, format, timeout), such as "
      "pgorm::connection or pgorm::transaction");

 public:
  with_timeout(E& exec, std::chrono::milliseconds timeout) noexcept
      : exec_(&exec), timeout_(timeout) {}
  result exec(std::string_view sql, std::span<const param> params, data_format format) {
    return exec_->exec(sql, params, format, timeout_);
  }
  void exec_each(std::string_view sql, std::span<const param> params, data_format format,
                 const std::function<void(const result&)>& on_row) {
    if constexpr (requires { exec_->exec_each(sql, params, format, on_row, timeout_); }) {
      exec_->exec_each(sql, params, format, on_row, timeout_);
    } else {
      exec_->exec_each(sql, params, format, on_row);
    }
  }
  /// A statement whose shape a builder knows, passed on with its shape when the wrapped
  /// executor takes one.
  result exec(const statement_shape& shape, const param_pack& params,
              data_format format) requires shape_executor<E> {
    if constexpr (requires { exec_->exec(shape, params, format, timeout_); }) {
      return exec_->exec(shape, params, format, timeout_);
    } else {
      return exec_->exec(shape, params.views(), format, timeout_);
    }
  }
  void exec_each(const statement_shape& shape, const param_pack& params, data_format format,
                 const std::function<void(const result&)>& on_row) requires
      requires(E& e, const std::function<void(const result&)>& f) {
    e.exec_each(shape, params, data_format::binary, f, std::chrono::milliseconds(1));
  }
  { exec_->exec_each(shape, params, format, on_row, timeout_); }
  /// The wrapped executor.
  E& inner() const noexcept { return *exec_; }
  /// The deadline each statement gets.
  [[nodiscard]] std::chrono::milliseconds timeout() const noexcept { return timeout_; }

 private:
  E* exec_;
  std::chrono::milliseconds timeout_;
};

/// A rendered statement: its SQL text and its parameters, for logging, debugging and snapshot
/// tests. Parameter values are in binary format (params()); SQL holds only placeholders.
struct statement {
  std::string sql;
  detail::param_list params;
};

/// Rows and the cursors of the pages around them, from select(...).page(n) or last_page(n)
/// (keyset pagination, docs/queries.md).
template <class Row, class Cursor>
struct page {
  /// Up to n rows, in order_by() order (also on a backward page).
  std::vector<Row> rows;
  /// Pass to after() for the next page: the last row's cursor; std::nullopt when no row
  /// follows (known from one extra row fetched), or after before() when this page is empty.
  std::optional<Cursor> next;
  /// Pass to before() for the previous page: the first row's cursor; std::nullopt when no row
  /// precedes (a page from the start), or after after() when this page is empty.
  std::optional<Cursor> prev;
};

namespace detail {

/// Marks a builder not bound to an executor: run it with all(conn), one(conn), ...
struct unbound {};

template <class Q>
struct static_sql_renderer {
  template <class Out>
  constexpr void operator()(Out& out) const {
    sql_writer<Out> w{out};
    Q::render(w);
  }
};

/// The SQL text of a query whose shape is static, computed during compilation and stored once.
template <class Q>
inline constexpr auto static_sql_v = rendered_v<static_sql_renderer<Q>>;

/// The SQL text of `q`: a view of static storage for a static shape (nothing rendered at run
/// time), else rendered into `storage`.
template <class Q>
std::string_view sql_text(const Q& q, std::string& storage) {
  if constexpr (Q::is_static) {
    (void)q;
    (void)storage;
    return static_sql_v<Q>.view();
  } else {
    string_out out;
    sql_writer<string_out> w{out};
    q.render_dynamic(w);
    storage = std::move(out.text);
    return storage;
  }
}

template <class Q>
statement to_statement(const Q& q) {
  statement s;
  std::string storage;
  s.sql = std::string(sql_text(q, storage));
  q.bind(s.params);
  return s;
}

/// exec.exec(shape, params, format) when `exec` takes a shape and a param_pack (pgorm's
/// executors: a builder's parameters go to libpq as they are), exec.exec(shape, views, format)
/// when it takes a shape with parameter views, else exec.exec(shape.sql, views, format).
template <class Exec>
result exec_shape(Exec& exec, const statement_shape& shape, const param_pack& params,
                  data_format format) {
  if constexpr (requires { exec.exec(shape, params, format); }) {
    return exec.exec(shape, params, format);
  } else if constexpr (shape_executor<Exec>) {
    return exec.exec(shape, params.views(), format);
  } else {
    return exec.exec(shape.sql, params.views(), format);
  }
}

/// The row layout a statement's rows are read into (null for void: rows not read).
template <class Row>
consteval const row_layout* layout_of() {
  if constexpr (std::is_void_v<Row>) {
    return nullptr;
  } else {
    return &row_layout_v<Row>;
  }
}

/// What the builder Q's statement does to data (Q::effect; unknown when Q does not say).
template <class Q>
consteval sql_effect effect_of() {
  if constexpr (requires { Q::effect; }) {
    return Q::effect;
  } else {
    return sql_effect::unknown;
  }
}

/// The shape of a builder's static statement: its text, its key and its row layout, all
/// computed during compilation and stored once.
template <class Q>
inline constexpr statement_shape static_shape_v{
    static_sql_v<Q>.view(), statement_key(static_sql_v<Q>.view()),
    layout_of<typename Q::row_type>(), sql_origin::builder, effect_of<Q>()};

/// The most parameters one statement may carry: the Bind message counts them in an Int16
/// (PostgreSQL docs 55.7, "Bind"), so libpq rejects more than 65535.
inline constexpr std::size_t max_statement_params = 65535;

[[noreturn]] inline void throw_too_many_params(std::size_t count) {
  throw usage_error("pgorm: this statement needs " + std::to_string(count) +
                    " parameters, more than PostgreSQL's limit of 65535; insert the rows in "
                    "batches (inside one transaction to keep it atomic)");
}

/// Calls fn(shape, params) with a builder's statement shape (static_shape_v for a static
/// text; else the text rendered now, with the row layout) and its bound parameters;
/// usage_error past 65535 parameters. A static shape has one parameter per placeholder of its
/// compile-time text, so only a run-time shape (a range insert, a filter) is checked.
template <class Q, class F>
decltype(auto) with_bound_shape(const Q& q, F&& fn) {
  param_list params;
  q.bind(params);
  if constexpr (Q::is_static) {
    return std::forward<F>(fn)(static_shape_v<Q>, pack(params));
  } else {
    if (params.size() > max_statement_params) throw_too_many_params(params.size());
    std::string storage;
    const statement_shape shape{sql_text(q, storage), 0, layout_of<typename Q::row_type>(),
                                sql_origin::builder, effect_of<Q>()};
    return std::forward<F>(fn)(shape, pack(params));
  }
}

/// Runs the builder `q` on `exec` with binary results, as a builder's statement.
template <class Q, class Exec>
result run(const Q& q, Exec& exec) {
  return with_bound_shape(q, [&](const statement_shape& shape, const param_pack& params) {
    return exec_shape(exec, shape, params, data_format::binary);
  });
}

/// Statement Q's step after one of its rows is decoded, which every terminal (all, one, first,
/// each, page; sync, async, pipelined) takes through these: Q::settle_row(row) when Q has one
/// (a select with include() sorts the related rows it orders on the client,
/// query/include.hpp), else nothing.
template <class Q, class Row>
inline constexpr bool settles_rows_v = requires(Row& row) {
  Q::settle_row(row);
};
template <class Q, class Row>
void settle_row(Row& row) {
  if constexpr (settles_rows_v<Q, Row>) Q::settle_row(row);
}
template <class Q, class Row>
void settle_row(std::optional<Row>& row) {
  if constexpr (settles_rows_v<Q, Row>) {
    if (row) Q::settle_row(*row);
  }
}
template <class Q, class Row>
void settle_rows(std::vector<Row>& rows) {
  if constexpr (settles_rows_v<Q, Row>) {
    for (Row& row : rows) Q::settle_row(row);
  }
}

/// Runs the statement of `shape` on `exec` in single-row mode and calls fn(row) with each row
/// read into one reused `Row` (the column matching of row_reader is done once, for the first
/// row). An executor that takes a shape gets it (a pool then knows whether a builder wrote it).
template <class Row, class Q = void, class Exec, class F>
void stream_rows(Exec& exec, const statement_shape& shape, const param_pack& params, F&& fn) {
  std::optional<row_reader<Row>> reader;
  Row row{};
  const auto on_row = [&](const result& res) {
    if (!reader) {
      reader.emplace(res);
    } else {
      reader->rebind(res);
    }
    reader->read(0, row);
    settle_row<Q>(row);
    fn(row);
  };
  if constexpr (requires { exec.exec_each(shape, params, data_format::binary, on_row); }) {
    exec.exec_each(shape, params, data_format::binary, on_row);
  } else if constexpr (requires {
                         exec.exec_each(shape, params.views(), data_format::binary, on_row);
                       }) {
    exec.exec_each(shape, params.views(), data_format::binary, on_row);
  } else {
    exec.exec_each(shape.sql, params.views(), data_format::binary, on_row);
  }
}

/// one()'s error for `rows` rows: not_found for none, usage_error for several.
[[noreturn]] PGORM_API void throw_not_one_row(int rows);

/// The one "not bound" check of every builder: true for a bound builder; for an unbound one a
/// compile error that says what to do. Use as
/// `if constexpr (detail::require_bound<Exec>()) return all(*exec_);` so that nothing else is
/// instantiated first.
template <class Exec>
consteval bool require_bound() {
  static_assert(!std::is_same_v<Exec, unbound>,
                "pgorm: this query is not bound to a connection; start it from one "
                "(conn.select<T>()), pass one (all(conn), one(conn), first(conn), exec(conn)) or "
                "bind it first: .bind(conn).exec()");
  return !std::is_same_v<Exec, unbound>;
}

}  // namespace detail

}  // namespace pgorm
