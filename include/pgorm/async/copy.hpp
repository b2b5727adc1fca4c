// SPDX-License-Identifier: MIT
#pragma once

/// \file
/// Binary COPY on an async connection or pool (docs/async.md, "COPY"): copy_in() writes a
/// range of structs with `COPY ... FROM STDIN (FORMAT binary)`, copy_out() streams a table or
/// a select's rows into a function with `COPY (...) TO STDOUT (FORMAT binary)`, as the
/// synchronous pgorm::copy_in() and pgorm::copy_out() do (same columns, codecs and errors).
///
/// libpq runs no COPY in a pipeline: the connection sends a COPY once every statement queued
/// before it has finished, leaves pipeline mode for it, and sends the statements queued
/// behind it (by other coroutines) once it has ended.
///
/// ```cpp
/// std::int64_t n = co_await pgorm::async::copy_in(conn, users, asio::use_awaitable);
/// co_await pgorm::async::copy_out<User>(conn, [&](const User& u) { ... }, asio::use_awaitable);
/// ```

#include <chrono>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <ranges>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include <boost/asio/async_result.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "pgorm/async/connection.hpp"
#include "pgorm/async/pool.hpp"
#include "pgorm/async/transaction.hpp"
#include "pgorm/copy.hpp"
#include "pgorm/detail/deadline.hpp"

namespace pgorm::async {

namespace detail {

/// Appends the next part of a COPY's data to its argument (about copy_chunk_bytes); false once
/// the data has ended (the last part is in).
using copy_source = std::function<bool(byte_buffer&)>;
/// Receives a COPY's data, chunk by chunk, in order.
using copy_sink = std::function<void(std::string_view)>;

/// Queues `sql`, a COPY ... FROM STDIN, on `c` with the data of `source` (called on the
/// connection's executor, under its lock: it must not call into the connection); completes
/// `op` with the COPY's final result or its error (what `source` threw, the server's error,
/// query_canceled, connection_error). In src/async/copy.cpp.
/// `pin`: the pin of the transaction it runs in (0: none).
PGORM_API void submit_copy_in(const std::shared_ptr<core>& c, std::string sql, copy_source source,
                              std::chrono::milliseconds timeout, std::uint64_t pin,
                              std::unique_ptr<exec_op> op);
/// Queues `sql`, a COPY ... TO STDOUT, on `c`; its data goes to `sink`, posted to
/// `sink_executor`, one chunk at a time (what the sink throws stops the COPY, cancelled on the
/// server, and is the outcome); completes `op` as submit_copy_in().
PGORM_API void submit_copy_out(const std::shared_ptr<core>& c, std::string sql, copy_sink sink,
                               boost::asio::any_io_executor sink_executor,
                               std::chrono::milliseconds timeout, std::uint64_t pin,
                               std::unique_ptr<exec_op> op);

/// Where a COPY runs: a connection, and the running transaction it belongs to (null: none),
/// whose pin lets the COPY and its lookups onto the pinned connection and whose budget bounds
/// them.
struct copy_site {
  connection* conn;
  const pgorm::async::transaction* tx = nullptr;
  [[nodiscard]] std::uint64_t pin() const noexcept { return tx != nullptr ? tx->pin() : 0; }
};

/// One call's deadline (`timeout`, capped in a transaction by what is left of its budget;
/// neither: the connection's default; pgorm::no_timeout: none), and what is left of it as a
/// statement's timeout. Throws query_canceled when the transaction's budget is spent.
inline pgorm::detail::deadline copy_deadline(const copy_site& at,
                                             std::chrono::milliseconds timeout) {
  if (at.tx != nullptr) timeout = at.tx->next_timeout(timeout);
  return pgorm::detail::deadline::after(timeout.count() > 0 ? timeout : at.conn->default_timeout());
}
inline std::chrono::milliseconds left_of(const pgorm::detail::deadline& d) noexcept {
  const std::chrono::milliseconds t = d.as_timeout();
  return t.count() > 0 ? t : no_timeout;
}

/// A statement at `at` as an awaitable (text results unless `format` says otherwise).
inline boost::asio::awaitable<result> copy_exec(const copy_site& at, std::string_view sql,
                                                std::span<const param> params, data_format format,
                                                std::chrono::milliseconds timeout) {
  co_return co_await pinned_exec(*at.conn, at.pin(), sql, params, format, timeout, nullptr,
                                 boost::asio::use_awaitable);
}

/// The element types of the runtime_oid_field fields `mask` selects, looked up on `conn` as
/// the synchronous copy_lookup_oids() does.
template <class T>
boost::asio::awaitable<pgorm::detail::copy_oids<T>> copy_lookup_oids(
    copy_site at, const pgorm::detail::copy_mask<T>& mask, pgorm::detail::deadline d) {
  struct lookup {
    std::size_t field;
    std::string_view type_name;
  };
  std::vector<lookup> wanted;
  [&]<std::size_t... I>(std::index_sequence<I...>) {
    (
        [&] {
          using F = field_type_t<T, I>;
          if constexpr (pgorm::detail::runtime_oid_field<F>) {
            if (mask[I]) wanted.push_back({I, pg_type<F>::element_type_name});
          }
        }(),
        ...);
  }
  (std::make_index_sequence<field_count_v<T>>{});
  pgorm::detail::copy_oids<T> oids{};
  for (const lookup& l : wanted) {
    const std::string name(l.type_name);
    const param p = param::text(name);
    const std::span<const param> one(&p, 1);
    const result r =
        co_await copy_exec(at, pgorm::detail::copy_lookup_sql, one, data_format::text, left_of(d));
    oids[l.field] = pgorm::detail::copy_type_oid(r, l.type_name, table<T>::qualified_name,
                                                 table<T>::columns[l.field].name);
  }
  co_return oids;
}

/// Completes with the final result of the COPY that `submit` (submit_copy_in/out bound to
/// everything but the operation) queues.
template <class Submit>
boost::asio::awaitable<result> copy_await(Submit submit) {
  co_return co_await boost::asio::async_initiate<const boost::asio::use_awaitable_t<>&,
                                                 void(std::exception_ptr, result)>(
      [](auto handler, Submit s) {
        auto ex = boost::asio::get_associated_executor(handler);
        using h = decltype(handler);
        s(std::make_unique<op_impl<h, std::exception_ptr, result>>(std::move(handler), ex));
      },
      boost::asio::use_awaitable, std::move(submit));
}

/// Writes `rows` (kept valid by the caller until it completes) into the columns of `mask`.
template <class T, class R>
boost::asio::awaitable<std::int64_t> copy_in_body(copy_site site, R& rows,
                                                  std::chrono::milliseconds timeout,
                                                  pgorm::detail::copy_mask<T> mask) {
  const pgorm::detail::deadline d = copy_deadline(site, timeout);
  const pgorm::detail::copy_oids<T> oids = co_await copy_lookup_oids<T>(site, mask, d);
  const std::int16_t fields = pgorm::detail::copy_field_count<T>(mask);
  // The rows are encoded as the socket takes them, a chunk at a time.
  struct cursor {
    std::ranges::iterator_t<R> it;
    std::ranges::sentinel_t<R> end;
    bool header = false;
  };
  auto at = std::make_shared<cursor>(cursor{std::ranges::begin(rows), std::ranges::end(rows)});
  copy_source source = [at, oids, mask, fields](byte_buffer& out) {
    if (!at->header) {
      pgorm::detail::copy_write_header(out);
      at->header = true;
    }
    while (at->it != at->end) {
      pgorm::detail::copy_write_row<T>(*at->it, mask, fields, out, oids);
      ++at->it;
      if (out.size() >= pgorm::detail::copy_chunk_bytes) return true;
    }
    pgorm::detail::copy_write_trailer(out);
    return false;
  };
  // (Named, not temporaries of the co_await expression: GCC 12 destroys some of those twice.)
  auto submit = [c = access::core_of(*site.conn), sql = pgorm::detail::copy_in_sql<T>(mask),
                 src = std::move(source), t = left_of(d),
                 pin = site.pin()](std::unique_ptr<exec_op> op) mutable {
    submit_copy_in(c, std::move(sql), std::move(src), t, pin, std::move(op));
  };
  const result r = co_await copy_await(std::move(submit));
  co_return r.affected_rows();
}

template <class Row, class F>
boost::asio::awaitable<std::int64_t> copy_out_body(copy_site at,
                                                   std::shared_ptr<const request> query, F fn,
                                                   std::chrono::milliseconds timeout) {
  static_assert(reflectable<Row> && !has_pg_type<Row>,
                "pgorm: copy_out() reads rows into a struct of columns (matched by name); "
                "select a struct, or use all()/each() for tuples and single values");
  const std::string_view sql = query->sql();
  const std::span<const param> params = query->params();
  const pgorm::detail::deadline d = copy_deadline(at, timeout);
  const std::string shape_sql = pgorm::detail::copy_shape_sql(sql);
  const result shape = co_await copy_exec(at, shape_sql, params, data_format::binary, left_of(d));
  auto reader = std::make_shared<pgorm::detail::copy_row_reader<Row>>(shape);
  std::string select(sql);
  if (!params.empty()) {
    const std::string probe = pgorm::detail::inline_params_probe(params);
    const result literals = co_await copy_exec(at, probe, params, data_format::text, left_of(d));
    select = pgorm::detail::inline_params_apply(sql, literals, params.size());
  }
  copy_sink sink = [reader, &fn](std::string_view chunk) { reader->feed(chunk, fn); };
  const boost::asio::any_io_executor ex = co_await boost::asio::this_coro::executor;
  auto submit = [c = access::core_of(*at.conn), copy_sql = pgorm::detail::copy_out_sql(select),
                 s = std::move(sink), ex, t = left_of(d),
                 pin = at.pin()](std::unique_ptr<exec_op> op) mutable {
    submit_copy_out(c, std::move(copy_sql), std::move(s), ex, t, pin, std::move(op));
  };
  const result r = co_await copy_await(std::move(submit));
  reader->finish();
  co_return r.affected_rows();
}

/// `body(copy_site)` on a connection borrowed from `p` (not reset afterwards: a COPY leaves
/// no session state), given back when it ends; closed when its error says so.
template <class Body>
boost::asio::awaitable<std::int64_t> on_pool(std::shared_ptr<pool_state> state,
                                             boost::asio::any_io_executor pool_ex, Body body) {
  pgorm::async::lease l =
      co_await boost::asio::async_initiate<const boost::asio::use_awaitable_t<>&,
                                           void(std::exception_ptr, pgorm::async::lease)>(
          [](auto handler, const std::shared_ptr<pool_state>& s, boost::asio::any_io_executor ex) {
            using h = decltype(handler);
            start_acquire(s, std::chrono::milliseconds{0}, false,
                          std::make_unique<op_impl<h, std::exception_ptr, pgorm::async::lease>>(
                              std::move(handler), ex));
          },
          boost::asio::use_awaitable, std::move(state), std::move(pool_ex));
  std::exception_ptr failure;
  try {
    co_return co_await body(copy_site{&*l});
  } catch (...) {
    failure = std::current_exception();
  }
  if (poisons(failure)) l.poison();
  std::rethrow_exception(failure);
}

/// Runs the awaitable `body(copy_site)` on `conn`, in the transaction `tx` (on its pinned
/// connection), or on a connection of the pool `p`, and completes `token` with its row count.
template <class Body>
boost::asio::awaitable<std::int64_t> on_site(copy_site at, Body body) {
  co_return co_await body(at);
}
template <class Body, class Token>
auto copy_launch(connection& conn, Body body, Token&& token) {
  return boost::asio::co_spawn(conn.get_executor(), on_site(copy_site{&conn}, std::move(body)),
                               std::forward<Token>(token));
}
template <class Body, class Token>
auto copy_launch(pgorm::async::transaction& tx, Body body, Token&& token) {
  return boost::asio::co_spawn(tx.conn().get_executor(),
                               on_site(copy_site{&tx.conn(), &tx}, std::move(body)),
                               std::forward<Token>(token));
}
template <class Body, class Token>
auto copy_launch(pgorm::async::pool& p, Body body, Token&& token) {
  return boost::asio::co_spawn(p.get_executor(),
                               on_pool(pool_access::state_of(p), p.get_executor(), std::move(body)),
                               std::forward<Token>(token));
}

template <class C>
concept copy_target = std::is_same_v<std::remove_cvref_t<C>, connection> ||
    std::is_same_v<std::remove_cvref_t<C>, pgorm::async::transaction> ||
    std::is_same_v<std::remove_cvref_t<C>, pgorm::async::pool>;

}  // namespace detail

/// Writes every struct of `rows` into T's table with one binary `COPY ... FROM STDIN`, on the
/// async connection `c` (a lease: `*lease`), in the running async transaction `c` (on its
/// pinned connection: the rows are written, or rolled back, with the transaction), or on a
/// connection borrowed from the async pool `c`, and completes with the number of rows written
/// (completion signature void(std::exception_ptr, std::int64_t)). Columns, atomicity and
/// errors are those of the synchronous pgorm::copy_in(): a failing row writes nothing and fails
/// only this COPY (the connection stays usable, and the statements queued behind it run; in a
/// transaction, the failure aborts the transaction, as any failed statement does).
///
/// The rows are encoded as the socket takes them (about 256 KiB at a time, on the connection's
/// executor): `rows` must stay valid and unchanged until the operation completes. `timeout`
/// bounds the whole call (zero: the connection's query_timeout; pgorm::no_timeout: none; in a
/// transaction, capped by what is left of its transaction_options::timeout); past it, or when
/// the cancellation slot is emitted, the COPY is ended on the server (nothing is written) and
/// the operation fails with query_canceled.
///
/// Example: `std::int64_t n = co_await pgorm::async::copy_in(conn, users, asio::use_awaitable);`
template <class C, class R, class Token>
requires detail::copy_target<C>
auto copy_in(C& c, R&& rows, std::chrono::milliseconds timeout, Token&& token) {
  static_assert(std::ranges::input_range<R>,
                "pgorm: copy_in() takes a range of structs, e.g. std::vector<User>");
  using T = std::remove_cvref_t<std::ranges::range_value_t<R>>;
  static_assert(reflectable<T>, "pgorm: copy_in() takes a range of structs that map to a table");
  auto* range = &rows;
  return detail::copy_launch(
      c,
      [range, timeout](detail::copy_site at) {
        return detail::copy_in_body<T>(at, *range, timeout, pgorm::detail::copy_default_mask<T>());
      },
      std::forward<Token>(token));
}

/// copy_in() with the connection's default timeout.
template <class C, class R, class Token>
requires detail::copy_target<C>
auto copy_in(C& c, R&& rows, Token&& token) {
  return copy_in(c, std::forward<R>(rows), std::chrono::milliseconds{0},
                 std::forward<Token>(token));
}

/// Streams every row of T's table into `fn(const T&)` with one binary `COPY (SELECT ...) TO
/// STDOUT`, on an async connection, transaction or pool, and completes with the number of rows
/// (completion signature void(std::exception_ptr, std::int64_t)). As the synchronous
/// pgorm::copy_out():
/// columns are checked first (one more round trip), rows are decoded one at a time into a T
/// that is reused. fn runs on the connection's (or pool's) executor, one call at a time; the
/// connection reads no more data while it runs. An exception from fn cancels the COPY on the
/// server and is the operation's error; the connection stays usable. `timeout` and the
/// cancellation slot end it as for copy_in() (query_canceled).
///
/// Example:
/// `co_await pgorm::async::copy_out<User>(conn, [&](const User& u) { ... }, asio::use_awaitable);`
template <class T, class C, class F, class Token>
requires detail::copy_target<C> && std::is_invocable_v<F&, const T&>
auto copy_out(C& c, F fn, std::chrono::milliseconds timeout, Token&& token) {
  static_assert(reflectable<T>, "pgorm: copy_out<T>() reads T's table; T must map to a table");
  return detail::copy_launch(
      c,
      [f = std::move(fn), timeout](detail::copy_site at) mutable {
        return detail::copy_out_body<T>(
            at,
            std::make_shared<const detail::request>(pgorm::detail::copy_table_select<T>(),
                                                    std::span<const param>{}, data_format::binary,
                                                    std::chrono::milliseconds{0}),
            std::move(f), timeout);
      },
      std::forward<Token>(token));
}

/// copy_out<T>() with the connection's default timeout.
template <class T, class C, class F, class Token>
requires detail::copy_target<C> && std::is_invocable_v<F&, const T&>
auto copy_out(C& c, F fn, Token&& token) {
  return copy_out<T>(c, std::move(fn), std::chrono::milliseconds{0}, std::forward<Token>(token));
}

/// Streams the rows of a select builder (whose rows are a struct) into `fn(const Row&)`
/// through binary COPY, as copy_out<T>() (the query's parameters are rendered as typed
/// literals by the server first: one more round trip). `timeout` as for copy_out<T>().
///
/// Example:
/// ```
/// co_await pgorm::async::copy_out(conn, pgorm::select<User>().where(pgorm::col<&User::age> > 18),
///                                 [&](const User& u) { ... }, asio::use_awaitable);
/// ```
template <class C, class Q, class F, class Token>
requires detail::copy_target<C> && requires(const Q& q) {
  typename Q::row_type;
  { q.to_sql() } -> std::same_as<statement>;
}
auto copy_out(C& c, const Q& query, F fn, std::chrono::milliseconds timeout, Token&& token) {
  const statement s = query.to_sql();
  // The statement with its parameters' bytes copied (they outlive `s`).
  auto held = std::make_shared<detail::request>(s.sql, s.params.params(), data_format::binary,
                                                std::chrono::milliseconds{0});
  return detail::copy_launch(
      c,
      [held = std::move(held), f = std::move(fn), timeout](detail::copy_site at) mutable {
        return detail::copy_out_body<typename Q::row_type>(at, std::move(held), std::move(f),
                                                           timeout);
      },
      std::forward<Token>(token));
}

/// copy_out() of a select builder with the connection's default timeout.
template <class C, class Q, class F, class Token>
requires detail::copy_target<C> && requires(const Q& q) {
  typename Q::row_type;
  { q.to_sql() } -> std::same_as<statement>;
}
auto copy_out(C& c, const Q& query, F fn, Token&& token) {
  return copy_out(c, query, std::move(fn), std::chrono::milliseconds{0},
                  std::forward<Token>(token));
}

}  // namespace pgorm::async
