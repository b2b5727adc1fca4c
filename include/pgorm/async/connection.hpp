// SPDX-License-Identifier: MIT
#pragma once

/// \file
/// An asynchronous PostgreSQL connection on Boost.Asio (docs/async.md): connects and runs
/// statements without blocking a thread, on the caller's executor, with any Asio completion
/// token (`asio::use_awaitable`, `asio::deferred`, a callback, `asio::use_future`).
///
/// Statements are pipelined: each call sends its statement at once (libpq pipeline mode, one
/// sync point per statement), so concurrent callers on one connection never wait for each
/// other's round trips, and each one completes with its own result or its own error. (A
/// coroutine's next statement after a lone result goes alone, outside pipeline mode:
/// docs/async.md, "Automatic pipelining".)
///
/// Opt in with `#include <pgorm/async.hpp>`; pgorm/pgorm.hpp does not include Asio.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/execution_context.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include "pgorm/connection.hpp"
#include "pgorm/export.hpp"
#include "pgorm/notification.hpp"
#include "pgorm/param_pack.hpp"
#include "pgorm/params.hpp"
#include "pgorm/result.hpp"
#include "pgorm/statement_shape.hpp"

namespace pgorm::async {

class connection;

namespace detail {

struct core;
struct access;

/// Where a streamed statement's rows go (async each()): the connection calls on_rows() with a
/// result of one row (libpq single-row mode; several only if libpq could not stream), posted to
/// executor() (the operation's associated executor, set when it starts), one call at a time,
/// and reads no more of the statement's rows until it has returned. What on_rows() throws
/// stops the statement (cancelled on the server) and is its outcome.
class row_sink {
 public:
  row_sink() = default;
  row_sink(const row_sink&) = delete;
  row_sink& operator=(const row_sink&) = delete;
  virtual ~row_sink() = default;
  virtual void on_rows(const result& rows) = 0;
  [[nodiscard]] const boost::asio::any_io_executor& executor() const noexcept { return ex_; }
  void set_executor(boost::asio::any_io_executor ex) noexcept { ex_ = std::move(ex); }

 private:
  boost::asio::any_io_executor ex_;
};

/// A block for one of the objects each statement makes (its request, its operation), from the
/// blocks of that size this thread freed before (src/async/recycle.cpp): with many statements
/// in flight, malloc's slow paths cost thousands of instructions per statement.
PGORM_API void* recycled_allocate(std::size_t size);
/// Gives back a block of recycled_allocate(size), kept for reuse by this thread.
PGORM_API void recycled_free(void* p, std::size_t size) noexcept;

/// A statement as the async connection queues it: its text and parameter bytes copied, so that
/// it stays valid whatever the completion token defers (asio::deferred runs the operation
/// later). A builder's statement keeps its parameter list as bound (one copy, sent as it is)
/// and its static text by reference, with the shape's key: the connection prepares it once and
/// runs it by name. Move-only: the parameter views point into buffers a move keeps.
class PGORM_API request {
 public:
  request(std::string_view sql, std::span<const param> params, data_format format,
          std::chrono::milliseconds timeout, std::uint64_t pin = 0);
  /// A builder's statement: `shape` (a static shape's text is static storage and is not
  /// copied) with the parameters the builder bound. Prepared by the connection (cached()).
  request(const statement_shape& shape, const param_pack& params, data_format format,
          std::chrono::milliseconds timeout);
  request(request&&) noexcept = default;
  request& operator=(request&&) noexcept = default;
  request(const request&) = delete;
  request& operator=(const request&) = delete;
  ~request() = default;

  /// Each statement makes one (about 1 KB): its block is recycled (recycled_allocate()).
  static void* operator new(std::size_t size);
  static void operator delete(void* p, std::size_t size) noexcept;

  [[nodiscard]] std::string_view sql() const noexcept {
    return static_sql_ != nullptr ? std::string_view(static_sql_, static_size_)
                                  : std::string_view(sql_);
  }
  /// The parameters as pgorm::param views (built on first use for a builder's).
  [[nodiscard]] std::span<const param> params() const {
    return list_ ? list_->params() : std::span<const param>(params_);
  }
  /// The parameters as the executors take them (a builder's with libpq's arrays ready).
  [[nodiscard]] param_pack pack() const noexcept {
    return list_ ? param_pack(*list_, list_->arrays()) : param_pack(params_);
  }
  /// The shape's statement key: nonzero for a builder's static text (computed at compile
  /// time), which the connection prepares once and then runs by name.
  [[nodiscard]] std::uint64_t key() const noexcept { return key_; }
  /// True for a statement made from a shape (a builder's, static or rendered at run time, or
  /// raw SQL run through a shape): the connection runs it from its prepared-statement cache,
  /// as the synchronous connection does (connect_options::prepare).
  [[nodiscard]] bool cached() const noexcept { return cached_; }
  /// The columns its rows are read into (null: not known).
  [[nodiscard]] const row_layout* layout() const noexcept { return layout_; }
  /// What it does to data (a builder's select that only reads may share a sync point).
  [[nodiscard]] sql_effect effect() const noexcept { return effect_; }
  [[nodiscard]] data_format format() const noexcept { return format_; }
  /// The call's own timeout (zero: the connection's query_timeout; no_timeout: none).
  [[nodiscard]] std::chrono::milliseconds timeout() const noexcept { return timeout_; }
  /// The pin (see pin()) of the transaction that sends it; 0 for a statement of no transaction.
  [[nodiscard]] std::uint64_t pin() const noexcept { return pin_; }
  /// Marks it as a statement of the transaction pinned with `id`.
  void set_pin(std::uint64_t id) noexcept { pin_ = id; }
  /// Streams its rows to `sink` (single-row mode, own sync point) instead of collecting them:
  /// the statement then completes with the final, row-less result.
  void set_sink(std::shared_ptr<row_sink> sink) noexcept { sink_ = std::move(sink); }
  [[nodiscard]] const std::shared_ptr<row_sink>& sink() const noexcept { return sink_; }

 private:
  void copy_views(std::span<const param> params);

  std::string sql_;
  const char* static_sql_ = nullptr;  // a static shape's text (then sql_ is empty)
  std::size_t static_size_ = 0;
  std::vector<char> bytes_;
  std::vector<param> params_;
  std::optional<pgorm::detail::param_list> list_;  // a builder's parameters
  std::uint64_t key_ = 0;
  const row_layout* layout_ = nullptr;
  sql_effect effect_ = sql_effect::unknown;
  bool cached_ = false;
  data_format format_;
  std::chrono::milliseconds timeout_;
  std::uint64_t pin_ = 0;
  std::shared_ptr<row_sink> sink_;
};

/// An operation's completion handler, type-erased here so that the connection's core (compiled
/// in the library) can complete it: complete() calls the handler on its associated executor
/// (dispatched, or posted when `defer`), keeping that executor's work counted until then.
template <class... Args>
class op_base {
 public:
  op_base() = default;
  op_base(const op_base&) = delete;
  op_base& operator=(const op_base&) = delete;
  virtual ~op_base() = default;
  // One per statement: recycled (see recycled_allocate()). The deleting destructor passes the
  // most derived type's size. (Here, not in op_impl: there GCC 12 crashes on handlers whose
  // types are local to a coroutine.)
  static void* operator new(std::size_t size) { return recycled_allocate(size); }
  static void operator delete(void* p, std::size_t size) noexcept { recycled_free(p, size); }
  virtual void complete(bool defer, Args... args) = 0;
  /// The handler's cancellation slot (not connected when it has none).
  [[nodiscard]] virtual boost::asio::cancellation_slot slot() const noexcept = 0;
};

template <class Handler, class... Args>
class op_impl final : public op_base<Args...> {
  using executor = boost::asio::associated_executor_t<Handler, boost::asio::any_io_executor>;
  // An io_context's executor that counts the operation as the context's outstanding work.
  using io_work =
      decltype(boost::asio::prefer(std::declval<boost::asio::io_context::executor_type>(),
                                   boost::asio::execution::outstanding_work.tracked));

 public:
  op_impl(Handler h, const boost::asio::any_io_executor& fallback)
      : ex_(boost::asio::get_associated_executor(h, fallback)), h_(std::move(h)) {
    if constexpr (std::is_same_v<executor, boost::asio::any_io_executor>) {
      // An io_context's executor (the usual one): its work counted directly, not through
      // any_io_executor's type-erased prefer() and copies (about 100 instructions).
      if (const auto* io = ex_.template target<boost::asio::io_context::executor_type>()) {
        io_work_.emplace(
            boost::asio::prefer(*io, boost::asio::execution::outstanding_work.tracked));
        return;
      }
    }
    work_.emplace(ex_);
  }
  void complete(bool defer, Args... args) override {
    if (!defer && io_work_ && io_work_->running_in_this_thread()) {
      // What dispatch() would do here, without wrapping the handler to hand it over; the work
      // stays counted until the handler returned.
      Handler h = std::move(h_);
      std::move(h)(std::move(args)...);
      io_work_.reset();
      return;
    }
    auto fn = [h = std::move(h_), ... a = std::move(args)]() mutable {
      std::move(h)(std::move(a)...);
    };
    if (defer) {
      boost::asio::post(ex_, std::move(fn));
    } else {
      boost::asio::dispatch(ex_, std::move(fn));
    }
    io_work_.reset();
    work_.reset();
  }
  [[nodiscard]] boost::asio::cancellation_slot slot() const noexcept override {
    return boost::asio::get_associated_cancellation_slot(h_);
  }

 private:
  executor ex_;
  // The operation counts as its executor's outstanding work until it completed: through
  // io_work_ on an io_context, else through work_.
  std::optional<io_work> io_work_;
  std::optional<boost::asio::executor_work_guard<executor>> work_;
  Handler h_;
};

/// A statement's completion: the error, or the result.
using exec_op = op_base<std::exception_ptr, result>;
/// A connection attempt's completion.
using connect_op_base = op_base<std::exception_ptr, pgorm::async::connection>;

/// A notification wait's completion: the error, or the notification (none at the deadline).
using notify_op = op_base<std::exception_ptr, std::optional<notification>>;

/// Completes `op` with the next notification received on `c` (one queued already, or the
/// next to arrive within `timeout`; zero: only what has arrived; pgorm::no_timeout: no
/// deadline), std::nullopt at the deadline.
PGORM_API void wait_notification(const std::shared_ptr<core>& c, std::chrono::milliseconds timeout,
                                 std::unique_ptr<notify_op> op);

/// Queues `req` on `c` (sent at once) and completes `op` with its outcome.
PGORM_API void submit(const std::shared_ptr<core>& c, request&& req, std::unique_ptr<exec_op> op);
/// The same with the request on the heap already (the terminals build it there): queued as
/// it is, without moving it.
PGORM_API void submit(const std::shared_ptr<core>& c, std::unique_ptr<request> req,
                      std::unique_ptr<exec_op> op);
/// Pins `c` for a transaction: until unpin(), only requests carrying the returned pin are
/// accepted; any other statement fails at once with usage_error. Throws usage_error when `c`
/// is already pinned (a transaction is running on it) and connection_error when it is closed.
PGORM_API std::uint64_t pin(const std::shared_ptr<core>& c);
/// Ends the pin `id` of `c` (no effect when `c` is closed or pinned by another id).
PGORM_API void unpin(const std::shared_ptr<core>& c, std::uint64_t id) noexcept;
/// Starts connecting on `ex`; completes `op` with the connection or the error.
PGORM_API void start_connect(boost::asio::any_io_executor ex, std::string conninfo,
                             connect_options options, std::unique_ptr<connect_op_base> op);

struct initiate_exec {
  std::shared_ptr<core> c;
  boost::asio::any_io_executor fallback;
  /// When set, the operation completes with this error and sends nothing (e.g. a
  /// transaction's budget is spent).
  std::exception_ptr refused{};
  template <class Handler>
  void operator()(Handler&& handler, request req) const {
    using h = std::decay_t<Handler>;
    auto op = std::make_unique<op_impl<h, std::exception_ptr, result>>(
        std::forward<Handler>(handler), fallback);
    if (refused) {
      op->complete(true, refused, result{});
      return;
    }
    submit(c, std::move(req), std::move(op));
  }
};

struct initiate_notification {
  std::shared_ptr<core> c;
  boost::asio::any_io_executor fallback;
  template <class Handler>
  void operator()(Handler&& handler, std::chrono::milliseconds timeout) const {
    using h = std::decay_t<Handler>;
    wait_notification(c, timeout,
                      std::make_unique<op_impl<h, std::exception_ptr, std::optional<notification>>>(
                          std::forward<Handler>(handler), fallback));
  }
};

struct initiate_connect {
  template <class Handler>
  void operator()(Handler&& handler, boost::asio::any_io_executor ex, std::string conninfo,
                  connect_options options) const {
    using h = std::decay_t<Handler>;
    auto op = std::make_unique<op_impl<h, std::exception_ptr, pgorm::async::connection>>(
        std::forward<Handler>(handler), ex);
    start_connect(std::move(ex), std::move(conninfo), std::move(options), std::move(op));
  }
};

}  // namespace detail

/// The completion signature of a statement: the error (typed: sql_error and its subclasses,
/// query_canceled, connection_error, usage_error) or the result.
using exec_signature = void(std::exception_ptr, result);

/// One asynchronous connection to PostgreSQL. Move-only; destroying or close()-ing it fails
/// every statement still queued with connection_error, so no operation outlives it.
///
/// It starts no thread: its work runs on the executor it was connected on (an io_context run
/// by any number of threads, or a strand); calls may come from any thread, but moving,
/// assigning, close() and destruction must not race with other calls on the same object.
///
/// Example:
/// ```
/// boost::asio::awaitable<void> run(boost::asio::io_context& io, std::string url) {
///   auto conn = co_await pgorm::async::connection::async_connect(io.get_executor(), url, {},
///                                                                boost::asio::use_awaitable);
///   pgorm::result r = co_await conn.async_exec("select 1", boost::asio::use_awaitable);
/// }
/// ```
class PGORM_API connection {
 public:
  /// The executor its I/O and timers run on.
  using executor_type = boost::asio::any_io_executor;

  /// A closed connection (every call completes with connection_error); assign one from
  /// async_connect().
  connection() noexcept = default;
  connection(connection&& other) noexcept = default;
  connection& operator=(connection&& other) noexcept;
  connection(const connection&) = delete;
  connection& operator=(const connection&) = delete;
  ~connection();

  /// Connects to `conninfo` (URL or key=value, as pgorm::connection) on `ex` without blocking:
  /// PQconnectPoll driven by the socket's readiness, within connect_options::connect_timeout
  /// per host (each host of a multi-host string in turn). Completes with the connection, or
  /// connection_error (whose text never contains the password).
  ///
  /// Example: `auto c = co_await connection::async_connect(ex, url, {}, asio::use_awaitable);`
  template <class Token>
  static auto async_connect(executor_type ex, std::string_view conninfo, connect_options options,
                            Token&& token) {
    return boost::asio::async_initiate<Token, void(std::exception_ptr, connection)>(
        detail::initiate_connect{}, token, std::move(ex), std::string(conninfo),
        std::move(options));
  }
  /// async_connect() on an execution context's executor (e.g. an io_context).
  template <class Context, class Token>
  requires std::is_convertible_v<Context&, boost::asio::execution_context&>
  static auto async_connect(Context& ctx, std::string_view conninfo, connect_options options,
                            Token&& token) {
    return async_connect(executor_type(ctx.get_executor()), conninfo, std::move(options),
                         std::forward<Token>(token));
  }

  /// Runs one statement with `$1, $2, ...` parameters (extended protocol; one statement, no
  /// `;`-separated list) and completes with its result in `format`. The statement is sent
  /// before this returns (or, with a deferred token, when the operation starts; from the
  /// handler of a lone result, once that handler returned), behind the ones already queued;
  /// parameters are copied first. `timeout`: its deadline (zero: the
  /// connection's query_timeout; pgorm::no_timeout: none); past it, or when the operation's
  /// cancellation slot is emitted, the statement is cancelled on the server (query_canceled).
  /// Prepared once and then run by name from the connection's statement cache, found by its
  /// text, as pgorm::connection::exec(sql, params) runs it (connect_options::prepare; a text
  /// starting with DISCARD or DEALLOCATE runs unnamed).
  ///
  /// Example: `auto r = co_await conn.async_exec("select $1::int", params, fmt, 2s, token);`
  template <class Token>
  auto async_exec(std::string_view sql, std::span<const param> params, data_format format,
                  std::chrono::milliseconds timeout, Token&& token) {
    return boost::asio::async_initiate<Token, exec_signature>(
        detail::initiate_exec{core_, get_executor()}, token,
        detail::request(statement_shape{.sql = sql}, param_pack(params), format, timeout));
  }
  /// async_exec() with the connection's default timeout.
  template <class Token>
  auto async_exec(std::string_view sql, std::span<const param> params, data_format format,
                  Token&& token) {
    return async_exec(sql, params, format, std::chrono::milliseconds{0},
                      std::forward<Token>(token));
  }
  /// async_exec() with text results.
  template <class Token>
  auto async_exec(std::string_view sql, std::span<const param> params, Token&& token) {
    return async_exec(sql, params, data_format::text, std::chrono::milliseconds{0},
                      std::forward<Token>(token));
  }
  /// async_exec() of a statement without parameters, with text results: run unnamed, not
  /// prepared, as pgorm::connection::exec(sql) of a string alone.
  ///
  /// Example: `co_await conn.async_exec("create table t (x int)", asio::use_awaitable);`
  template <class Token>
  auto async_exec(std::string_view sql, Token&& token) {
    return boost::asio::async_initiate<Token, exec_signature>(
        detail::initiate_exec{core_, get_executor()}, token,
        detail::request(sql, {}, data_format::text, std::chrono::milliseconds{0}));
  }
  /// async_exec() of a statement whose shape a builder knows: run from the connection's
  /// prepared-statement cache, as pgorm::connection::exec(shape, ...) runs it.
  template <class Token>
  auto async_exec(const statement_shape& shape, std::span<const param> params, data_format format,
                  std::chrono::milliseconds timeout, Token&& token) {
    return boost::asio::async_initiate<Token, exec_signature>(
        detail::initiate_exec{core_, get_executor()}, token,
        detail::request(shape, param_pack(params), format, timeout));
  }

  /// The next LISTEN/NOTIFY notification this session receives (after
  /// `async_exec("listen channel")`): one that arrived already,
  /// or the next to arrive within `timeout` (zero: only what has arrived; pgorm::no_timeout:
  /// no deadline). Completes with std::nullopt at the deadline, connection_error when the
  /// connection is lost (after the notifications that arrived before), usage_error when another
  /// caller is already waiting on this connection, and boost::system::system_error
  /// (operation_aborted) when its cancellation slot is emitted. Call it in a loop for a stream;
  /// notifications that arrive between calls are kept, in order. Statements may run on the
  /// connection meanwhile. Completion signature:
  /// void(std::exception_ptr, std::optional<pgorm::notification>).
  ///
  /// Example:
  /// ```
  /// co_await conn.async_exec("listen jobs", asio::use_awaitable);
  /// while (auto n = co_await conn.async_next_notification(30s, asio::use_awaitable)) {
  ///   handle(n->payload);
  /// }
  /// ```
  template <class Token>
  auto async_next_notification(std::chrono::milliseconds timeout, Token&& token) {
    return boost::asio::async_initiate<Token,
                                       void(std::exception_ptr, std::optional<notification>)>(
        detail::initiate_notification{core_, get_executor()}, token, timeout);
  }

  /// Closes the connection: every queued statement completes with connection_error (a running
  /// one is not waited for; the server ends it when it sees the connection close). Idempotent.
  void close() noexcept;
  /// True while connected and healthy as far as libpq knows.
  [[nodiscard]] bool is_open() const noexcept;
  /// Statements sent whose outcome has not arrived yet.
  [[nodiscard]] std::size_t in_flight() const noexcept;
  /// The server's transaction status as of the last result (active while statements are in
  /// flight; unknown when closed), as pgorm::connection::status().
  ///
  /// Example: `if (conn.status() != pgorm::transaction_status::idle) conn.close();`
  [[nodiscard]] transaction_status status() const noexcept;
  /// The server process serving this connection (0 when closed).
  [[nodiscard]] int backend_pid() const noexcept;
  /// Where the connection goes (host, port, dbname, user), safe to log.
  [[nodiscard]] std::string description() const;
  /// The default deadline of a call (connect_options::query_timeout).
  [[nodiscard]] std::chrono::milliseconds default_timeout() const noexcept;
  /// The executor the connection runs on.
  [[nodiscard]] executor_type get_executor() const noexcept;

 private:
  friend struct detail::core;
  friend struct detail::access;
  explicit connection(std::shared_ptr<detail::core> c) noexcept : core_(std::move(c)) {}

  std::shared_ptr<detail::core> core_;
};

namespace detail {

/// The core behind a connection, for the other parts of pgorm::async.
struct access {
  static const std::shared_ptr<core>& core_of(const connection& c) noexcept { return c.core_; }
};

}  // namespace detail

}  // namespace pgorm::async
