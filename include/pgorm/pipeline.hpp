// SPDX-License-Identifier: MIT
#pragma once

/// \file
/// Pipelining: many statements sent in one round trip (libpq pipeline mode), each read back
/// later through a typed handle. See docs/pipeline.md.
///
/// ```cpp
/// pgorm::pipeline p{conn};
/// auto users = p.add(pgorm::select<User>().where(pgorm::col<&User::age> > 18));
/// auto count = p.add(pgorm::query<std::int64_t>("select count(*) from session"));
/// p.run();                                  // one round trip
/// std::vector<User> adults = users.all();
/// ```

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <memory>
#include <optional>
#include <ranges>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "pgorm/connection.hpp"
#include "pgorm/error.hpp"
#include "pgorm/export.hpp"
#include "pgorm/params.hpp"
#include "pgorm/query/common.hpp"
#include "pgorm/query/raw.hpp"
#include "pgorm/row.hpp"

namespace pgorm {

/// Thrown when the handle of a pipelined statement is read although the server skipped that
/// statement: an earlier statement of the same sync batch failed, and PostgreSQL skips the rest
/// of the batch (libpq: PGRES_PIPELINE_ABORTED). what() names the statement that failed;
/// reading that statement's own handle throws its own error (e.g. unique_violation).
///
/// Example:
/// ```
/// try { c.all(); } catch (const pgorm::pipeline_aborted& e) { retry_from(e.failed_index()); }
/// ```
class PGORM_API pipeline_aborted : public error {
 public:
  pipeline_aborted(const std::string& what, std::size_t index, std::size_t failed_index)
      : error(what), index_(index), failed_index_(failed_index) {}

  /// The skipped statement's 0-based position among the statements given to add().
  [[nodiscard]] std::size_t index() const noexcept { return index_; }
  /// The 0-based position of the earlier statement whose failure aborted the batch.
  [[nodiscard]] std::size_t failed_index() const noexcept { return failed_index_; }

 private:
  std::size_t index_;
  std::size_t failed_index_;
};

namespace detail {

/// One pipelined statement: what to send, and what came back (a result or an error).
struct pipeline_slot {
  std::string_view sql;   // static storage, or owned_sql
  std::string owned_sql;  // the text of a statement rendered at run time
  param_list params;
  std::string prepared;  // the cached prepared statement to run, "" for an unnamed one
  const row_layout* layout = nullptr;        // the columns its rows are read into (null: none)
  const checked_columns* checked = nullptr;  // its columns, when found to match layout
  std::size_t index = 0;
  sql_origin origin = sql_origin::raw;  // a builder's statement or raw SQL (a pool resets after)
  bool done = false;                    // run() has settled it (result or error)
  result res;                           // when it succeeded
  std::exception_ptr error;             // when it failed or was skipped
};

/// Throws usage_error: a handle was read before its pipeline ran. In src/pipeline.cpp.
[[noreturn]] PGORM_API void throw_pipeline_not_run(std::size_t index);

/// The statement's result after run(), or its error rethrown.
PGORM_API const result& pipeline_result_of(const pipeline_slot& slot);

/// What a pipeline runs: its statements, and the sync points after them (after syncs[i]
/// statements; the last is after every statement).
struct pipeline_batch {
  std::vector<std::shared_ptr<pipeline_slot>> slots;
  std::vector<std::size_t> syncs;
};

/// The row type a builder's rows map to (void for statements without rows).
template <class Q>
struct pipeline_row_of {
  using type = typename Q::row_type;
};
template <class Exec, class Row, class Text, std::size_t N>
struct pipeline_row_of<raw_query<Exec, Row, Text, N>> {
  using type = Row;
};

/// True for raw SQL (pgorm::query<Row>(...)), false for a builder's statement.
template <class Q>
inline constexpr bool pipeline_raw_v = false;
template <class Exec, class Row, class Text, std::size_t N>
inline constexpr bool pipeline_raw_v<raw_query<Exec, Row, Text, N>> = true;

template <class Q>
concept pipelinable = requires(const Q& q) {
  { q.to_sql() } -> std::same_as<statement>;
  typename pipeline_row_of<Q>::type;
};

}  // namespace detail

/// The handle of one pipelined statement, returned by pipeline::add(). Read it after run():
/// all(), one() or first() map the rows (binary format, by row.hpp) into `Row`; exec() gives
/// the affected-row count. A handle is a cheap shared reference: it stays valid after the
/// pipeline is gone.
///
/// Throws (when read): the statement's own error (sql_error or its subclass, e.g.
/// unique_violation) if it failed; pipeline_aborted if the server skipped it; usage_error if
/// the pipeline has not run yet.
///
/// Example: `auto h = p.add(pgorm::select<User>()); p.run(); auto users = h.all();`
template <class Row>
class pipeline_result {
 public:
  /// The C++ type of one row (void for statements read with exec() only).
  using row_type = Row;

  /// Every row of the statement.
  auto all() const {
    static_assert(!std::is_void_v<Row>,
                  "pgorm: this pipelined statement returns no rows; read it with exec(), or add "
                  "returning(...) to the insert/update/remove");
    if constexpr (!std::is_void_v<Row>) return read_rows<Row>(get());
  }
  /// Exactly one row; usage_error when there are none or several.
  auto one() const {
    static_assert(!std::is_void_v<Row>,
                  "pgorm: this pipelined statement returns no rows; read it with exec(), or add "
                  "returning(...) to the insert/update/remove");
    if constexpr (!std::is_void_v<Row>) {
      const result& res = get();
      if (res.rows() != 1) detail::throw_not_one_row(res.rows());
      return row_reader<Row>(res).read(0);
    }
  }
  /// The first row, or std::nullopt when there is none.
  auto first() const {
    static_assert(!std::is_void_v<Row>,
                  "pgorm: this pipelined statement returns no rows; read it with exec(), or add "
                  "returning(...) to the insert/update/remove");
    if constexpr (!std::is_void_v<Row>) {
      const result& res = get();
      if (res.rows() == 0) return std::optional<Row>{};
      return std::optional<Row>(row_reader<Row>(res).read(0));
    }
  }
  /// Rows affected (INSERT/UPDATE/DELETE) or returned (SELECT), from the command tag.
  std::int64_t exec() const { return get().affected_rows(); }

  /// The raw result (binary format), or the statement's error rethrown.
  [[nodiscard]] const result& raw() const { return get(); }

  /// True once run() has settled this statement, successfully or not.
  [[nodiscard]] bool ready() const noexcept { return slot_->done; }
  /// True when the statement ran and succeeded (reading it will not throw an SQL error).
  [[nodiscard]] bool ok() const noexcept { return slot_->done && !slot_->error; }
  /// The statement's 0-based position among the statements added to its pipeline.
  [[nodiscard]] std::size_t index() const noexcept { return slot_->index; }

 private:
  friend class pipeline_statements;
  explicit pipeline_result(std::shared_ptr<const detail::pipeline_slot> slot)
      : slot_(std::move(slot)) {}
  [[nodiscard]] const result& get() const { return detail::pipeline_result_of(*slot_); }

  std::shared_ptr<const detail::pipeline_slot> slot_;
};

/// The statements of a pipeline and its sync points: what pgorm::pipeline and
/// pgorm::async::pipeline share (add(), add_each(), sync()). Not used on its own.
///
/// Example: `auto h = p.add(pgorm::select<User>());  // p: either pipeline`
class PGORM_API pipeline_statements {
 public:
  pipeline_statements() = default;
  pipeline_statements(const pipeline_statements&) = delete;
  pipeline_statements& operator=(const pipeline_statements&) = delete;
  pipeline_statements(pipeline_statements&&) noexcept = default;
  pipeline_statements& operator=(pipeline_statements&&) noexcept = default;
  /// Statements added but never run are dropped; reading their handles throws usage_error.
  ~pipeline_statements() = default;

  /// Queues a statement: any builder (select, insert, update, remove) or raw
  /// pgorm::query<Row>(...). Its SQL and parameters are rendered now (so the builder may go
  /// away); nothing is sent until run(). Returns its handle, typed by the builder's rows.
  ///
  /// Throws usage_error for a statement that cannot be sent (more than 65535 parameters; an
  /// insert of an empty range; a misused builder, as its to_sql() would).
  ///
  /// Example: `auto id = p.add(pgorm::insert(u).returning(pgorm::col<&User::id>));`
  template <class Q>
  auto add(const Q& query) {
    static_assert(detail::pipelinable<Q>,
                  "pgorm: pipeline::add() takes a query builder (select, insert, update, remove) "
                  "or pgorm::query<Row>(...)");
    if constexpr (detail::pipelinable<Q>) {
      using row = typename detail::pipeline_row_of<Q>::type;
      if constexpr (requires { requires Q::is_static; }) {
        // A builder of static shape: its SQL text lives in static storage, nothing to copy.
        detail::param_list params;
        query.bind(params);
        return pipeline_result<row>(
            push(detail::static_shape_v<Q>, std::string(), std::move(params)));
      } else {
        statement s = query.to_sql();
        return pipeline_result<row>(
            push(statement_shape{.layout = detail::layout_of<row>(),
                                 .origin = detail::pipeline_raw_v<Q> ? sql_origin::raw
                                                                     : sql_origin::builder},
                 std::move(s.sql), std::move(s.params)));
      }
    }
  }

  /// Queues `make(x)` for each element x of `range`, e.g. one point select per id. Returns the
  /// handles in the range's order.
  ///
  /// Example:
  /// ```
  /// auto users = p.add_each(ids, [](std::int64_t id) {
  ///   return pgorm::select<User>().where(pgorm::col<&User::id> == id);
  /// });
  /// ```
  template <std::ranges::input_range R, class F>
  auto add_each(R&& range, F&& make) {
    using query_type = std::remove_cvref_t<decltype(make(*std::ranges::begin(range)))>;
    using row = typename detail::pipeline_row_of<query_type>::type;
    std::vector<pipeline_result<row>> handles;
    if constexpr (std::ranges::sized_range<R>) handles.reserve(std::ranges::size(range));
    for (auto&& x : range) handles.push_back(add(make(x)));
    return handles;
  }

  /// Ends the current batch: statements added after this point run in a new implicit
  /// transaction, and a failure before it does not abort them. run() ends the last batch.
  void sync();

  /// Number of statements queued and not yet run.
  [[nodiscard]] std::size_t size() const noexcept { return queued_.size(); }
  [[nodiscard]] bool empty() const noexcept { return queued_.empty(); }

 protected:
  /// Takes the queued statements and their sync points (the last one after every statement),
  /// leaving the queue empty and reusable.
  detail::pipeline_batch take();

 private:
  // Queues `shape`'s text (a view of static storage) when not empty, else `sql`.
  std::shared_ptr<const detail::pipeline_slot> push(const statement_shape& shape, std::string sql,
                                                    detail::param_list&& params);

  std::vector<std::shared_ptr<detail::pipeline_slot>> queued_;
  std::vector<std::size_t> syncs_;  // sync after this many queued statements
  std::size_t added_ = 0;           // statements added over the pipeline's life
};

/// Sends many statements to the server in one round trip through libpq's pipeline mode, and
/// hands back a typed handle per statement. Queue statements with add(), optionally split them
/// into independent batches with sync(), then call run() once.
///
/// Transactions: the statements between two sync points form one implicit transaction unless
/// an explicit one is open (PostgreSQL docs 55.2.4, libpq 34.5.1). When one fails, the server
/// rolls back the statements of its batch that already ran (their handles still read as
/// successful) and skips the rest (pipeline_aborted). Put sync() between statements that must
/// not share a fate.
///
/// The connection must be idle (no statement running). It stays usable after run(), whatever
/// failed, unless the connection itself broke (connection_error from run()). COPY cannot be
/// pipelined. Not thread-safe, like the connection.
///
/// Example:
/// ```
/// pgorm::pipeline p{conn};
/// auto a = p.add(pgorm::select<User>().where(pgorm::col<&User::id> == 1));
/// auto b = p.add(pgorm::query<std::tuple<int>>("select $1::int", 5));
/// p.run();
/// std::vector<User> users = a.all();
/// ```
class PGORM_API pipeline : public pipeline_statements {
 public:
  /// A pipeline on `conn`, which must outlive it.
  explicit pipeline(connection& conn) noexcept : conn_(&conn) {}

  /// Sends every queued statement in one round trip (pipeline mode, a sync per batch), waits
  /// for all results, and settles every handle. The queue is then empty; the pipeline can be
  /// reused. SQL errors do not throw here: they surface when the handle is read.
  ///
  /// Throws connection_error if the connection is closed or breaks (every unsettled handle
  /// then throws it too); usage_error if the connection is already in pipeline mode.
  void run();
  /// run() with its own deadline for the whole run (zero: the connection's
  /// connect_options::query_timeout). Past it, the statement running on the server is
  /// cancelled, and so is each later batch as it starts (they are already in the server's
  /// buffer: closing the connection would not stop them); once every batch has ended, run()
  /// throws query_canceled, the cancelled statements' handles throw it too, and the
  /// connection stays usable. When the server does not end a batch within
  /// connect_options::cancel_grace, the connection is closed and connection_error thrown.
  ///
  /// Example: `p.run(std::chrono::seconds(2));`
  void run(std::chrono::milliseconds timeout);

 private:
  connection* conn_;
};

}  // namespace pgorm
