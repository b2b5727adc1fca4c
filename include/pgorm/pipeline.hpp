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

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
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

/// The memory of a pipeline's slots and of the rows it receives, carved in order out of 16 KiB
/// chunks: one allocation per ~25 statements instead of one each (a run's slots all live until
/// their handles go, so glibc served each from its bins rather than its per-thread cache). Each
/// piece starts with its chunk's address; a chunk counts its live pieces, plus one while the
/// arena carves from it, and is freed at zero: a handle kept alive keeps its chunk, not the
/// run's memory. A piece larger than 4 KiB gets a chunk of its own. Carving is for one thread
/// at a time (the pipeline's in add(), the run's as results arrive); pieces may be freed on
/// any thread.
class PGORM_API pipeline_arena {
 public:
  /// The alignment of every piece (larger ones are not carved here, see pipeline_allocator).
  static constexpr std::size_t alignment = alignof(std::max_align_t);

  pipeline_arena() noexcept = default;
  pipeline_arena(pipeline_arena&& other) noexcept
      : cur_(std::exchange(other.cur_, nullptr)),
        next_(std::exchange(other.next_, nullptr)),
        end_(std::exchange(other.end_, nullptr)) {}
  pipeline_arena& operator=(pipeline_arena&& other) noexcept {
    if (this != &other) {
      release(cur_);
      cur_ = std::exchange(other.cur_, nullptr);
      next_ = std::exchange(other.next_, nullptr);
      end_ = std::exchange(other.end_, nullptr);
    }
    return *this;
  }
  pipeline_arena(const pipeline_arena&) = delete;
  pipeline_arena& operator=(const pipeline_arena&) = delete;
  ~pipeline_arena() { release(cur_); }

  /// `size` bytes aligned to `alignment`, freed by deallocate().
  void* allocate(std::size_t size) {
    const std::size_t need = header + (size + alignment - 1) / alignment * alignment;
    if (static_cast<std::size_t>(end_ - next_) < need) [[unlikely]]
      return allocate_slow(need);
    return carve(need);
  }
  /// The free bytes of the current chunk, at least `least` of them (a new chunk when it has
  /// fewer; `least` at most 4 KiB), to be filled and then made a piece by commit(); `room` is
  /// set to their count. For a piece whose size is known only once it is written.
  std::byte* reserve(std::size_t least, std::size_t& room) {
    if (static_cast<std::size_t>(end_ - next_) < header + least) [[unlikely]]
      next_chunk();
    room = static_cast<std::size_t>(end_ - next_) - header;
    return next_ + header;
  }
  /// Makes the first `size` bytes of the last reserve() a piece (as allocate() returns them).
  void* commit(std::size_t size) noexcept {
    return carve(header + (size + alignment - 1) / alignment * alignment);
  }
  /// Frees a piece of allocate(), on any thread; its arena may be gone.
  static void deallocate(void* p) noexcept {
    chunk* c = nullptr;
    std::memcpy(&c, static_cast<std::byte*>(p) - header, sizeof c);
    release(c);
  }

 private:
  struct chunk {
    std::atomic<std::size_t> live{1};
  };
  static constexpr std::size_t header = alignment;  // a piece's chunk address, padded

  void* carve(std::size_t need) noexcept {
    std::byte* p = next_;
    next_ += need;
    cur_->live.fetch_add(1, std::memory_order_relaxed);
    std::memcpy(p, &cur_, sizeof cur_);
    return p + header;
  }
  void* allocate_slow(std::size_t need);  // a new chunk, or one of its own for a large piece
  void next_chunk();                      // carves on from a new chunk
  static void release(chunk* c) noexcept;

  chunk* cur_ = nullptr;
  std::byte* next_ = nullptr;
  std::byte* end_ = nullptr;
};

/// The values of a result's rows, copied out of it (with their lengths) into one piece of a
/// pipeline_arena as it arrives, so that the result is freed at once and the rows are decoded
/// only when a handle is read, straight into the caller's object: row_mapping reads them as it
/// reads a result (read_value()). Column names are kept only when asked (for the errors of
/// values read by position).
class PGORM_API pipeline_rows {
 public:
  pipeline_rows() noexcept = default;
  pipeline_rows(const pipeline_rows&) = delete;
  pipeline_rows& operator=(const pipeline_rows&) = delete;
  ~pipeline_rows() { reset(); }

  /// Copies the rows of `res` (binary format, any number) into a piece of `arena`, with the
  /// columns' names when `names`.
  void store(const result& res, pipeline_arena& arena, bool names);

  [[nodiscard]] int rows() const noexcept { return rows_; }
  // The result's unchecked accessors (row and col in range).
  [[nodiscard]] int length_unchecked(int row, int col) const noexcept {
    return at(row, col).length;
  }
  [[nodiscard]] bool is_null_unchecked(int row, int col) const noexcept {
    return at(row, col).data == nullptr;
  }
  [[nodiscard]] const char* data_unchecked(int row, int col) const noexcept {
    return at(row, col).data;
  }
  /// Column `col`'s name if store() kept the names, else "?".
  [[nodiscard]] std::string_view column_name(int col) const noexcept;

 private:
  struct value {
    const char* data;  // null for NULL
    int length;
  };
  [[nodiscard]] const value& at(int row, int col) const noexcept {
    return values_[static_cast<std::size_t>(row) * static_cast<std::size_t>(columns_) +
                   static_cast<std::size_t>(col)];
  }
  void keep(const value* table, int rows, int cols, bool names) noexcept;  // store()'s piece
  void reset() noexcept {
    if (values_ != nullptr) pipeline_arena::deallocate(const_cast<value*>(values_));
    values_ = nullptr;
  }

  const value* values_ = nullptr;  // rows_ x columns_ values, then the names, then the bytes
  int rows_ = 0;
  int columns_ = 0;
  bool names_ = false;
};

struct pipeline_slot;

/// Matches the columns of a settled statement's result to the handle's row type, once, into
/// the slot (a pipeline_rows_slot of that type), so that its rows can be read after the result
/// is freed. Type-erased: pipeline_statements::add() knows the row type, the reader does not.
using pipeline_map_fn = void (*)(pipeline_slot& slot, const result& res);

/// One pipelined statement: what to send, and what came back (its rows or an error).
struct pipeline_slot {
  std::string_view sql;   // static storage, or owned_sql
  std::string owned_sql;  // the text of a statement rendered at run time
  param_list params;
  std::string prepared;  // the cached prepared statement to run, "" for an unnamed one
  const row_layout* layout = nullptr;        // the columns its rows are read into (null: none)
  const checked_columns* checked = nullptr;  // its columns, when found to match layout
  pipeline_map_fn map = nullptr;             // maps its rows (null: it has none to read)
  std::size_t index = 0;
  sql_origin origin = sql_origin::raw;  // a builder's statement or raw SQL (a pool resets after)
  bool keep_names = false;              // its rows keep their columns' names (pipeline_rows)
  bool done = false;                    // run() has settled it (result or error)
  int rows = 0;                         // rows returned, when it succeeded
  std::int64_t affected = 0;            // its command tag's count, when it succeeded
  result res;                           // its result between arrival and pipeline_settle() only
  pipeline_rows stored;                 // its rows, when it returned some and they map
  std::exception_ptr error;             // when it failed or was skipped
  std::exception_ptr rows_error;        // when its columns do not map to the handle's type
};

/// True when `Row` has a value read by position, whose errors name the result's column.
template <class Row>
inline constexpr bool reads_by_position_v = has_pg_type<Row>;
template <class... E>
inline constexpr bool reads_by_position_v<std::tuple<E...>> = (has_pg_type<E> || ...);

/// The slot of a statement whose rows are `Row`s: how its columns map to them, and the step
/// after decoding one (a select with include() sorts related rows; null: none).
template <class Row>
struct pipeline_rows_slot : pipeline_slot {
  row_mapping<Row> mapping;
  void (*settle)(Row& row) = nullptr;

  /// Decodes row `row` (in range) into `out`.
  void read(int row, Row& out) const {
    mapping.read(stored, row, out);
    if (settle != nullptr) settle(out);
  }
};

template <class Row>
void pipeline_map(pipeline_slot& slot, const result& res) {
  static_cast<pipeline_rows_slot<Row>&>(slot).mapping = row_mapping<Row>(res);
}

/// The allocator a pipeline's slots are made with (std::allocate_shared): pieces of its
/// pipeline_arena. Only allocate() uses the arena, which the pipeline does in add() while it
/// lives; the copy a slot keeps for its release only frees.
template <class T>
class pipeline_allocator {
 public:
  using value_type = T;

  explicit pipeline_allocator(pipeline_arena& arena) noexcept : arena_(&arena) {}
  template <class U>
  pipeline_allocator(const pipeline_allocator<U>& other) noexcept  // NOLINT: rebinding
      : arena_(other.arena_) {}

  T* allocate(std::size_t n) {
    if constexpr (alignof(T) > pipeline_arena::alignment) {
      return std::allocator<T>().allocate(n);
    } else {
      return static_cast<T*>(arena_->allocate(n * sizeof(T)));
    }
  }
  void deallocate(T* p, std::size_t n) noexcept {
    if constexpr (alignof(T) > pipeline_arena::alignment) {
      std::allocator<T>().deallocate(p, n);
    } else {
      pipeline_arena::deallocate(p);
    }
  }

  template <class U>
  bool operator==(const pipeline_allocator<U>& other) const noexcept {
    return arena_ == other.arena_;
  }

 private:
  template <class U>
  friend class pipeline_allocator;
  pipeline_arena* arena_;
};

/// Throws usage_error: a handle was read before its pipeline ran. In src/pipeline.cpp.
[[noreturn]] PGORM_API void throw_pipeline_not_run(std::size_t index);

/// The settled statement's slot, or its error rethrown (usage_error before run()).
PGORM_API const pipeline_slot& pipeline_settled(const pipeline_slot& slot);

/// Records a successful statement's counts from `slot.res`, maps its columns with slot.map and
/// copies its rows into a piece of `arena` (an error doing so goes to slot.rows_error), and
/// frees the result: no PGresult outlives its arrival (a pipeline of 256 statements would
/// otherwise keep 256 of them, which glibc serves from its bins instead of its per-thread
/// cache). A no-op for a failed statement.
PGORM_API void pipeline_settle(pipeline_slot& slot, pipeline_arena& arena) noexcept;

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

/// The handle of one pipelined statement, returned by pipeline::add(). run() copies the rows
/// (binary format) out of the result as it arrives and frees the result; read them after run():
/// all(), one() or first() decode them (by row.hpp) into new `Row`s at each call; exec() gives
/// the affected-row count. A handle is a cheap shared reference: it stays valid after the
/// pipeline is gone.
///
/// Throws (when read): the statement's own error (sql_error or its subclass, e.g.
/// unique_violation) if it failed; pipeline_aborted if the server skipped it; usage_error if
/// the pipeline has not run yet; the errors of reading its rows into `Row` (columns that do not
/// map, conversion_error, unexpected_null).
///
/// Example: `auto h = p.add(pgorm::select<User>()); p.run(); auto users = h.all();`
template <class Row>
class pipeline_result {
 public:
  /// The C++ type of one row (void for statements read with exec() only).
  using row_type = Row;

  /// Every row of the statement (decoded anew at each call: the handle keeps the rows).
  auto all() const {
    static_assert(!std::is_void_v<Row>,
                  "pgorm: this pipelined statement returns no rows; read it with exec(), or add "
                  "returning(...) to the insert/update/remove");
    if constexpr (!std::is_void_v<Row>) return read_all();
  }
  /// Exactly one row; usage_error when there are none or several.
  auto one() const {
    static_assert(!std::is_void_v<Row>,
                  "pgorm: this pipelined statement returns no rows; read it with exec(), or add "
                  "returning(...) to the insert/update/remove");
    if constexpr (!std::is_void_v<Row>) return read_one();
  }
  /// The first row, or std::nullopt when there is none.
  auto first() const {
    static_assert(!std::is_void_v<Row>,
                  "pgorm: this pipelined statement returns no rows; read it with exec(), or add "
                  "returning(...) to the insert/update/remove");
    if constexpr (!std::is_void_v<Row>) return read_first();
  }
  /// Rows affected (INSERT/UPDATE/DELETE) or returned (SELECT), from the command tag.
  std::int64_t exec() const { return detail::pipeline_settled(*slot_).affected; }

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
  // all(), one() and first() for a Row that is not void: each declares its result first, so
  // that it is built in the caller's object (GCC does not elide it declared inside all()'s
  // `if constexpr`: a User was moved, ~60 instructions per pipelined point select).
  template <class R = Row>
  std::vector<R> read_all() const {
    const auto& s = rows_slot();
    std::vector<R> out;
    if (s.rows_error) std::rethrow_exception(s.rows_error);
    out.resize(static_cast<std::size_t>(s.rows));
    for (int i = 0; i != s.rows; ++i) s.read(i, out[static_cast<std::size_t>(i)]);
    return out;
  }
  template <class R = Row>
  R read_one() const {
    const auto& s = rows_slot();
    R out{};
    if (s.rows != 1) detail::throw_not_one_row(s.rows);
    if (s.rows_error) std::rethrow_exception(s.rows_error);
    s.read(0, out);
    return out;
  }
  template <class R = Row>
  std::optional<R> read_first() const {
    const auto& s = rows_slot();
    std::optional<R> out;
    if (s.rows_error) std::rethrow_exception(s.rows_error);
    if (s.rows != 0) s.read(0, out.emplace());
    return out;
  }

  // The settled slot with this handle's rows (add() made it a pipeline_rows_slot<Row>).
  [[nodiscard]] const auto& rows_slot() const {
    return static_cast<const detail::pipeline_rows_slot<Row>&>(detail::pipeline_settled(*slot_));
  }

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
        auto slot = make_slot<row, Q>();
        query.bind(slot->params);
        return pipeline_result<row>(
            push(std::move(slot), detail::static_shape_v<Q>, std::string()));
      } else {
        statement s = query.to_sql();
        auto slot = make_slot<row, Q>();
        slot->params = std::move(s.params);
        return pipeline_result<row>(
            push(std::move(slot),
                 statement_shape{
                     .layout = detail::layout_of<row>(),
                     .origin = detail::pipeline_raw_v<Q> ? sql_origin::raw : sql_origin::builder},
                 std::move(s.sql)));
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
    if constexpr (std::ranges::sized_range<R>) {
      // The queue grows once: grown by doubling, it left freed blocks of every size behind,
      // which glibc then cut libpq's result blocks from (~200 instructions more per statement,
      // bench --callgrind).
      handles.reserve(std::ranges::size(range));
      reserve(std::ranges::size(range));
    }
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
  // A slot for statement Q, whose rows are `Row`s (void: none).
  template <class Row, class Q>
  std::shared_ptr<detail::pipeline_slot> make_slot() {
    const detail::pipeline_allocator<std::byte> alloc(arena_);
    if constexpr (std::is_void_v<Row>) {
      return std::allocate_shared<detail::pipeline_slot>(alloc);
    } else {
      auto slot = std::allocate_shared<detail::pipeline_rows_slot<Row>>(alloc);
      slot->map = &detail::pipeline_map<Row>;
      slot->keep_names = detail::reads_by_position_v<Row>;
      if constexpr (detail::settles_rows_v<Q, Row>) {
        slot->settle = [](Row& row) { Q::settle_row(row); };
      }
      return slot;
    }
  }

  // Room in the queue for `more` statements.
  void reserve(std::size_t more);

  // Queues `slot` (its parameters bound) with `shape`'s text (a view of static storage) when
  // not empty, else `sql`.
  std::shared_ptr<const detail::pipeline_slot> push(std::shared_ptr<detail::pipeline_slot> slot,
                                                    const statement_shape& shape, std::string sql);

  detail::pipeline_arena arena_;  // the queued statements' slots
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
