// SPDX-License-Identifier: MIT
#pragma once

/// \file
/// The terminal operations of every query builder (select, insert, update, remove, raw
/// query<Row>, find) on an async connection: all, one, first, exec, each, page, last_page.
/// They run the statement the synchronous terminal would run and read its rows the same way:
/// the builder renders and binds once, through the one runner (pgorm/query/runner.hpp), and
/// the result the async connection got is read with the runner's own readers (read_rows,
/// read_one, read_first, and for page() and last_page() the page it makes of the rows).
///
/// Example:
/// ```
/// std::vector<User> adults = co_await pgorm::async::all(
///     conn, pgorm::select<User>().where(pgorm::col<&User::age> >= 18), asio::use_awaitable);
/// ```

#include <chrono>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <source_location>
#include <span>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/post.hpp>

#include "pgorm/async/connection.hpp"
#include "pgorm/async/copy.hpp"
#include "pgorm/async/pool.hpp"
#include "pgorm/async/transaction.hpp"
#include "pgorm/query.hpp"

namespace pgorm::async {

/// An async connection with a deadline for each statement run through it (zero: the
/// connection's query_timeout; pgorm::no_timeout: none); pass it where a terminal takes the
/// connection. Past the deadline the statement is cancelled on the server (query_canceled).
///
/// Example: `auto rows = co_await pgorm::async::all(with_timeout(conn, 200ms), q, token);`
struct timed {
  connection* conn;
  std::chrono::milliseconds timeout;
};

/// `conn` with a per-statement deadline of `timeout` for the terminal it is passed to.
inline timed with_timeout(connection& conn, std::chrono::milliseconds timeout) noexcept {
  return {&conn, timeout};
}

namespace detail {

/// An executor for the runner that records the statement a terminal operation would send
/// (its shape's text, parameters and result format) instead of running it.
struct capture {
  explicit capture(std::chrono::milliseconds t, bool stop_after = false) noexcept
      : timeout(t), stop(stop_after) {}
  std::chrono::milliseconds timeout;
  bool stop;  // throw capture_done once recorded (page(): it reads rows right away)
  // Held by pointer: it is handed on several times before it is queued.
  std::unique_ptr<request> req;

  struct capture_done {};

  result exec(std::string_view sql, std::span<const param> params, data_format format) {
    req = std::make_unique<request>(sql, params, format, timeout);
    if (stop) throw capture_done{};
    return result{};
  }
  /// A builder's statement: its shape, and its parameters as bound (kept, not converted).
  result exec(const statement_shape& shape, const param_pack& params, data_format format) {
    origin = shape.origin;
    req = std::make_unique<request>(shape, params, format, timeout);
    if (stop) throw capture_done{};
    return result{};
  }
  /// Raw SQL unless the builder said otherwise (a pool resets the session after raw SQL).
  sql_origin origin = sql_origin::raw;
};

/// The page a select's page() (`Last`: last_page()) makes of the rows its statement returned.
struct page_access {
  template <bool Last, class Q>
  static auto page_of(const result& r, std::int64_t n) {
    return Q::template page_from_rows<Last>(pgorm::detail::read_all<typename Q::row_type, Q>(r), n);
  }
};

/// An executor for the runner that hands back the result the async connection received
/// (page(), and a terminal that sent nothing).
struct replay {
  result res;
  result exec(std::string_view /*sql*/, std::span<const param> /*params*/, data_format /*format*/) {
    return std::move(res);
  }
  result exec(const statement_shape& /*shape*/, const param_pack& /*params*/,
              data_format /*format*/) {
    return std::move(res);
  }
};

/// The terminal `term` of `q` when it sent nothing (answered by the runner, which then binds
/// nothing either). A received result is read without `q`: binding it again would cost what
/// binding it did.
template <class Q, class Term>
auto unsent(const Q& q, Term term) {
  replay rep{result{}};
  return term(q, rep);
}

/// Where a terminal sends its statement: a connection's core, with the pin of the transaction
/// it belongs to, or an error to complete with instead.
struct target {
  std::shared_ptr<core> c;
  connection::executor_type ex;
  std::uint64_t pin = 0;
  std::exception_ptr refused{};
};

inline target target_of(connection& c) { return {access::core_of(c), c.get_executor()}; }
inline target target_of(const timed& t) { return target_of(*t.conn); }
inline target target_of(pgorm::async::transaction& tx) {
  return {access::core_of(tx.conn()), tx.conn().get_executor(), tx.pin()};
}
inline std::chrono::milliseconds timeout_of(const connection& /*c*/) noexcept { return {}; }
inline std::chrono::milliseconds timeout_of(const timed& t) noexcept { return t.timeout; }
// A transaction's statement gets what is left of its budget (query_canceled when spent: the
// terminal then completes with that error, sending nothing).
inline std::chrono::milliseconds timeout_of(const pgorm::async::transaction& tx) {
  return tx.next_timeout({});
}
inline std::chrono::milliseconds timeout_of(const pgorm::async::pool& /*p*/) noexcept { return {}; }

/// Runs the recorded statement of `cap` on `c` and completes `token` with finish(result)
/// (the synchronous terminal over the received result), or with the error.
template <class T>
struct signature_of {
  using type = void(std::exception_ptr, T);
};
template <>
struct signature_of<void> {
  using type = void(std::exception_ptr);
};

// The terminal's handler over the result: finish(result) (the synchronous terminal over the
// received result) or the error.
// `sent`: false when nothing was sent (the terminal answers without a result, e.g. an insert of
// no rows).
template <class T, class Handler, class Finish>
auto finisher(Handler handler, Finish fin) {
  return [h = std::move(handler), fin = std::move(fin)](std::exception_ptr e, result r,
                                                        bool sent = true) mutable {
    if constexpr (std::is_void_v<T>) {
      if (!e) {
        try {
          fin(std::move(r), sent);
        } catch (...) {
          e = std::current_exception();
        }
      }
      std::move(h)(std::move(e));
    } else {
      if (e) {
        std::move(h)(std::move(e), T{});
        return;
      }
      // Made in place (not moved through an optional): a row type's strings move once less.
      std::exception_ptr failed;
      T value = [&]() -> T {
        try {
          return fin(std::move(r), sent);
        } catch (...) {
          failed = std::current_exception();
          return T{};
        }
      }();
      std::move(h)(std::move(failed), std::move(value));
    }
  };
}

/// Runs the statement recorded in `cap` on `where` and completes `token` with
/// finish(result), or with the error.
template <class T, class Token, class Finish>
auto launch(target where, capture cap, std::exception_ptr refused, Finish finish, Token&& token,
            const std::source_location& /*site*/) {
  if (!refused) refused = where.refused;
  return boost::asio::async_initiate<Token, typename signature_of<T>::type>(
      [](auto handler, target to, std::unique_ptr<request> req, std::exception_ptr error,
         Finish fin) {
        auto slot = boost::asio::get_associated_cancellation_slot(handler);
        auto ex = boost::asio::get_associated_executor(handler, to.ex);
        if (req && req->sink()) req->sink()->set_executor(ex);  // each(): rows go there
        auto done = finisher<T>(std::move(handler), std::move(fin));
        if (error || !req) {
          // Refused, or nothing to send (e.g. an insert of no rows): answered here.
          boost::asio::post(ex,
                            [d = std::move(done), error]() mutable { d(error, result{}, false); });
          return;
        }
        req->set_pin(to.pin);
        auto bound = boost::asio::bind_cancellation_slot(slot, std::move(done));
        // (Its executor is `ex`, given to op_impl: no executor_binder to move around.)
        submit(to.c, std::move(req),
               std::make_unique<op_impl<decltype(bound), std::exception_ptr, result>>(
                   std::move(bound), ex));
      },
      token, std::move(where), std::move(cap.req), std::move(refused), std::move(finish));
}

/// The same on a pool: borrows a connection (waiting asynchronously, within acquire_timeout),
/// runs the statement, gives the connection back (reset after raw SQL, as the sync pool does)
/// and completes; with read_sharing, a builder's read shares a connection with other reads.
/// `site`: the terminal's call site, which leak detection names.
template <class T, class Token, class Finish>
auto launch(pgorm::async::pool& p, capture cap, std::exception_ptr refused, Finish finish,
            Token&& token, const std::source_location& site) {
  return boost::asio::async_initiate<Token, typename signature_of<T>::type>(
      [](auto handler, std::shared_ptr<pool_state> state, connection::executor_type pool_ex,
         std::unique_ptr<request> req, sql_origin origin, std::exception_ptr error, Finish fin,
         std::source_location caller) {
        auto slot = boost::asio::get_associated_cancellation_slot(handler);
        auto ex = boost::asio::get_associated_executor(handler, pool_ex);
        if (req && req->sink()) req->sink()->set_executor(ex);  // each(): rows go there
        auto done = finisher<T>(std::move(handler), std::move(fin));
        if (error || !req) {
          boost::asio::post(ex,
                            [d = std::move(done), error]() mutable { d(error, result{}, false); });
          return;
        }
        if (req->effect() == sql_effect::reads && !req->sink() && shares_reads(state)) {
          // Read sharing: on a connection other reads use at the same time (docs/async.md);
          // not each(), whose function paces its rows (it would hold the others up).
          auto bound = boost::asio::bind_cancellation_slot(slot, std::move(done));
          start_shared_read(state, std::move(req),
                            std::make_unique<op_impl<decltype(bound), std::exception_ptr, result>>(
                                std::move(bound), ex));
          return;
        }
        auto run = [slot, ex, d = std::move(done), r = std::move(req)](
                       std::exception_ptr e, pgorm::async::lease l) mutable {
          if (e) {
            d(std::move(e), result{});
            return;
          }
          auto core = access::core_of(*l);
          auto fin_and_release = [l = std::move(l), d = std::move(d)](std::exception_ptr e2,
                                                                      result res) mutable {
            if (e2 && poisons(e2)) l.poison();
            l.release();  // back to the pool (reset first when it ran raw SQL)
            d(std::move(e2), std::move(res));
          };
          auto bound = boost::asio::bind_cancellation_slot(slot, std::move(fin_and_release));
          submit(core, std::move(r),
                 std::make_unique<op_impl<decltype(bound), std::exception_ptr, result>>(
                     std::move(bound), ex));
        };
        // The caller's cancellation slot covers the wait for a connection, then the statement.
        auto waiting = boost::asio::bind_cancellation_slot(slot, std::move(run));
        start_acquire(
            state, std::chrono::milliseconds{0}, origin != sql_origin::builder,
            std::make_unique<op_impl<decltype(waiting), std::exception_ptr, pgorm::async::lease>>(
                std::move(waiting), ex),
            caller);
      },
      token, pool_access::state_of(p), p.get_executor(), std::move(cap.req), cap.origin,
      std::move(refused), std::move(finish), site);
}

/// each()'s row sink: reads each row it is handed into a Row (the synchronous each()'s reader,
/// rebound to each one-row result), settles it as a row of statement Q and calls fn with it.
template <class Row, class F, class Q = void>
class each_sink final : public row_sink {
 public:
  explicit each_sink(F fn) : fn_(std::move(fn)) {}
  void on_rows(const result& rows) override {
    for (int i = 0; i < rows.rows(); ++i) {
      if (!reader_) {
        reader_.emplace(rows);
      } else {
        reader_->rebind(rows);
      }
      reader_->read(i, row_);
      pgorm::detail::settle_row<Q>(row_);
      fn_(std::as_const(row_));
    }
  }

 private:
  F fn_;
  std::optional<pgorm::row_reader<Row>> reader_;
  Row row_{};
};

template <class C>
decltype(auto) where_of(C& c) {
  if constexpr (std::is_same_v<std::remove_cvref_t<C>, pgorm::async::pool>) {
    return (c);
  } else {
    return target_of(c);
  }
}

// Records the statement `record(capture&)` sends, with the timeout of `c`; an error while
// doing so (a spent transaction budget, a builder's usage_error) is the terminal's completion.
template <class C, class Record>
std::pair<capture, std::exception_ptr> record(C& c, bool stop, Record rec) {
  std::exception_ptr refused;
  std::chrono::milliseconds t{0};
  try {
    t = timeout_of(c);
  } catch (...) {
    return {capture(t, stop), std::current_exception()};
  }
  capture cap(t, stop);
  try {
    rec(cap);
  } catch (const capture::capture_done&) {  // recorded: nothing was run
  } catch (...) {
    refused = std::current_exception();
  }
  return {std::move(cap), refused};
}

template <class C, class Q>
std::pair<capture, std::exception_ptr> capture_exec(C& c, const Q& q) {
  return record(c, false, [&](capture& cap) { (void)q.exec(cap); });
}

template <class T, class C, class Token, class Finish>
auto run_terminal(C& c, std::pair<capture, std::exception_ptr> rec, Finish finish, Token&& token,
                  const std::source_location& site) {
  return launch<T>(where_of(c), std::move(rec.first), std::move(rec.second), std::move(finish),
                   std::forward<Token>(token), site);
}

}  // namespace detail

// Each terminal takes where to run: an async connection, with_timeout(conn, t), a running
// pgorm::async::transaction (its statements are pinned to it) or a pgorm::async::pool (a
// connection is borrowed for the statement). Their last parameter, `site` (leave it
// defaulted), is the call site that the pool's leak detection (pool_options::leak_threshold)
// names when the borrowed connection is held too long.

/// All rows of `q` (completion: std::vector<Row>).
///
/// Example: `auto users = co_await pgorm::async::all(conn, pgorm::select<User>(), token);`
template <class C, class Q, class Token>
auto all(C&& c, const Q& q, Token&& token,
         std::source_location site = std::source_location::current()) {
  using T = decltype(q.all(std::declval<detail::replay&>()));
  return detail::run_terminal<T>(
      c, detail::capture_exec(c, q),
      [q](result r, bool sent) {
        if (!sent) return detail::unsent(q, [](auto& q2, auto& rep) { return q2.all(rep); });
        return pgorm::detail::read_all<typename Q::row_type, Q>(r);
      },
      std::forward<Token>(token), site);
}

/// Exactly one row of `q`: pgorm::not_found when there is none, usage_error when there are
/// several (completion: Row).
///
/// Example: `User u = co_await pgorm::async::one(conn, q, asio::use_awaitable);`
template <class C, class Q, class Token>
auto one(C&& c, const Q& q, Token&& token,
         std::source_location site = std::source_location::current()) {
  using T = decltype(q.one(std::declval<detail::replay&>()));
  return detail::run_terminal<T>(
      c, detail::capture_exec(c, q),
      [q](result r, bool sent) {
        if (!sent) return detail::unsent(q, [](auto& q2, auto& rep) { return q2.one(rep); });
        return pgorm::detail::read_one<typename Q::row_type, Q>(r);
      },
      std::forward<Token>(token), site);
}

/// The first row of `q`, or std::nullopt (completion: std::optional<Row>).
///
/// Example: `auto u = co_await pgorm::async::first(pool, q, asio::use_awaitable);`
template <class C, class Q, class Token>
auto first(C&& c, const Q& q, Token&& token,
           std::source_location site = std::source_location::current()) {
  using T = decltype(q.first(std::declval<detail::replay&>()));
  return detail::run_terminal<T>(
      c, detail::capture_exec(c, q),
      [q](result r, bool sent) {
        if (!sent) return detail::unsent(q, [](auto& q2, auto& rep) { return q2.first(rep); });
        return pgorm::detail::read_first<typename Q::row_type, Q>(r);
      },
      std::forward<Token>(token), site);
}

namespace detail {

template <class C, class Q, class Token>
auto exec_statement(C& c, const Q& q, Token&& token, const std::source_location& site) {
  return run_terminal<std::int64_t>(
      c, capture_exec(c, q),
      [q](result r, bool sent) {
        if (!sent) return unsent(q, [](auto& q2, auto& rep) { return q2.exec(rep); });
        return r.affected_rows();
      },
      std::forward<Token>(token), site);
}

/// Where an insert's COPY runs, held for a deferred initiation: a connection, transaction or
/// pool by pointer (the caller's, which outlives the call), with_timeout(conn, t) by value
/// (often a temporary); and the timeout it gives the COPY (zero: the connection's default).
template <class C>
struct copy_place {
  C* at;
  [[nodiscard]] C& target() const noexcept { return *at; }
  [[nodiscard]] C& runs_on() const noexcept { return *at; }
  [[nodiscard]] static std::chrono::milliseconds timeout() noexcept {
    return std::chrono::milliseconds{0};
  }
};
template <>
struct copy_place<timed> {
  timed at;
  [[nodiscard]] timed& target() noexcept { return at; }
  [[nodiscard]] connection& runs_on() const noexcept { return *at.conn; }
  [[nodiscard]] std::chrono::milliseconds timeout() const noexcept { return at.timeout; }
};
template <class C>
auto place_of(C& c) noexcept {
  if constexpr (std::is_same_v<std::remove_cv_t<C>, timed>) {
    return copy_place<timed>{c};
  } else {
    return copy_place<C>{&c};
  }
}

/// True for an insert that may write its rows with COPY (rows_for_copy()) where COPY can run:
/// an async connection (also with_timeout(conn, t)), transaction or pool.
template <class C, class Q>
concept copies_inserts = (copy_target<C> || std::is_same_v<C, timed>)&&requires(const Q& q) {
  typename Q::table_type;
  { q.rows_for_copy() } -> std::same_as<std::span<const typename Q::table_type>>;
};

}  // namespace detail

/// Runs `q` and completes with its row count (the rows a select returned, the rows an insert,
/// update or remove wrote). An insert of many rows takes COPY when the synchronous exec()
/// would (pgorm::insert_copy_threshold), on a connection (with_timeout(conn, t) too: the COPY
/// then has that deadline), in a transaction or on a pool; its rows are copied when the call
/// is made (as an INSERT's parameters are encoded then), so a range the builder borrows need
/// not outlive the call, whatever the token defers.
///
/// Example: `std::int64_t n = co_await pgorm::async::exec(tx, pgorm::insert(u), token);`
template <class C, class Q, class Token>
auto exec(C&& c, const Q& q, Token&& token,
          std::source_location site = std::source_location::current()) {
  if constexpr (detail::copies_inserts<std::remove_cvref_t<C>, Q>) {
    using T = typename Q::table_type;
    return boost::asio::async_initiate<Token, void(std::exception_ptr, std::int64_t)>(
        [place = detail::place_of(c), site](auto handler, Q q2) mutable {
          const std::span<const T> rows = q2.rows_for_copy();
          std::optional<pgorm::detail::copy_mask<T>> mask;
          if (!rows.empty()) mask = pgorm::detail::insert_copy_mask<T>(rows);
          if (!mask) {
            detail::exec_statement(place.target(), q2, std::move(handler), site);
            return;
          }
          // The deadline of a statement of `c` (in a transaction: what is left of its budget).
          // The rows are copied now, as the INSERT's parameters would be encoded now: the
          // caller's range need not outlive the call, whatever the token defers.
          detail::copy_launch(
              place.runs_on(),
              [kept = std::vector<T>(rows.begin(), rows.end()), m = *mask, t = place.timeout()](
                  detail::copy_site at) { return detail::copy_in_body<T>(at, kept, t, m); },
              std::move(handler));
        },
        token, q);
  } else {
    return detail::exec_statement(c, q, std::forward<Token>(token), site);
  }
}

/// Calls fn(row) for each row of `q`, in order, as the rows arrive (libpq single-row mode, as
/// the synchronous each()): one row is held at a time, and the next is read from the server
/// only once fn has returned. fn runs on the completion's associated executor (posted, one
/// call at a time, never concurrently with the completion). The statement keeps its own sync
/// point. An exception from fn stops the statement (cancelled on the server, the rest of its
/// rows dropped; the connection stays usable) and is the operation's error. A deadline or the
/// cancellation slot stops it like any statement (query_canceled), between two calls of fn.
/// Completion: nothing but the error.
///
/// Example: `co_await pgorm::async::each(conn, q, [](const User& u) { ... }, token);`
template <class C, class Q, class F, class Token>
auto each(C&& c, const Q& q, F fn, Token&& token,
          std::source_location site = std::source_location::current()) {
  auto rec = detail::capture_exec(c, q);
  if (rec.first.req) {
    rec.first.req->set_sink(
        std::make_shared<detail::each_sink<typename Q::row_type, F, Q>>(std::move(fn)));
  }
  return detail::run_terminal<void>(
      c, std::move(rec), [](result /*final*/, bool /*sent*/) {}, std::forward<Token>(token), site);
}

/// Keyset pagination of a select (see select's page()): up to n rows with the cursors around
/// them (completion: pgorm::page<Row, Cursor>).
///
/// Example: `auto p = co_await pgorm::async::page(conn, q, 20, asio::use_awaitable);`
template <class C, class Q, class Token>
auto page(C&& c, const Q& q, std::int64_t n, Token&& token,
          std::source_location site = std::source_location::current()) {
  using T = decltype(q.page(std::declval<detail::replay&>(), n));
  return detail::run_terminal<T>(
      c,
      detail::record(c, true,
                     [&](detail::capture& cap) {
                       if (n >= 1) (void)q.page(cap, n);
                     }),
      [q, n](result r, bool sent) {
        if (!sent) {  // n < 1: the synchronous page()'s usage_error
          detail::replay rep{std::move(r)};
          return q.page(rep, n);
        }
        return detail::page_access::page_of<false, Q>(r, n);
      },
      std::forward<Token>(token), site);
}

/// The last n rows in order_by() order, with `prev` set when rows come before them (see
/// select's last_page()).
///
/// Example: `auto p = co_await pgorm::async::last_page(conn, q, 20, asio::use_awaitable);`
template <class C, class Q, class Token>
auto last_page(C&& c, const Q& q, std::int64_t n, Token&& token,
               std::source_location site = std::source_location::current()) {
  using T = decltype(q.last_page(std::declval<detail::replay&>(), n));
  return detail::run_terminal<T>(
      c,
      detail::record(c, true,
                     [&](detail::capture& cap) {
                       if (n >= 1) (void)q.last_page(cap, n);
                     }),
      [q, n](result r, bool sent) {
        if (!sent) {  // n < 1: the synchronous last_page()'s usage_error
          detail::replay rep{std::move(r)};
          return q.last_page(rep, n);
        }
        return detail::page_access::page_of<true, Q>(r, n);
      },
      std::forward<Token>(token), site);
}

/// The row of T whose (one-column) primary key is `key`, or std::nullopt (completion:
/// std::optional<T>). For a composite key: first(conn, select<T>().where(primary_key<T>(...))).
///
/// Example: `std::optional<User> u = co_await pgorm::async::find<User>(conn, 42, token);`
template <class T, class C, class K, class Token>
auto find(C&& c, const K& key, Token&& token,
          std::source_location site = std::source_location::current()) {
  return first(std::forward<C>(c), select<T>().where(primary_key<T>(key)),
               std::forward<Token>(token), site);
}

}  // namespace pgorm::async
