// SPDX-License-Identifier: MIT
#pragma once

/// \file
/// The terminal operations of every query builder (select, insert, update, remove, raw
/// query<Row>, find) on an async connection: all, one, first, exec, each, page, last_page.
/// They run the statement the synchronous terminal would run and read its rows the same way:
/// the builder renders and binds through the one runner (pgorm/query/runner.hpp), and the
/// result is decoded by that runner's terminal, over the result the async connection got.
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
#include <optional>
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

struct access {
  static const std::shared_ptr<core>& core_of(const connection& c) noexcept { return c.core_; }
};

/// An executor for the runner that records the statement a terminal operation would send
/// (its shape's text, parameters and result format) instead of running it.
struct capture {
  explicit capture(std::chrono::milliseconds t, bool stop_after = false) noexcept
      : timeout(t), stop(stop_after) {}
  std::chrono::milliseconds timeout;
  bool stop;  // throw capture_done once recorded (page(): it reads rows right away)
  std::optional<request> req;

  struct capture_done {};

  result exec(std::string_view sql, std::span<const param> params, data_format format) {
    req.emplace(sql, params, format, timeout);
    if (stop) throw capture_done{};
    return result{};
  }
  result exec(const statement_shape& shape, std::span<const param> params, data_format format) {
    return exec(shape.sql, params, format);
  }
};

/// An executor for the runner that hands back the result the async connection received.
struct replay {
  result res;
  result exec(std::string_view /*sql*/, std::span<const param> /*params*/, data_format /*format*/) {
    return std::move(res);
  }
  result exec(const statement_shape& /*shape*/, std::span<const param> /*params*/,
              data_format /*format*/) {
    return std::move(res);
  }
};

inline connection& conn_of(connection& c) noexcept { return c; }
inline connection& conn_of(const timed& t) noexcept { return *t.conn; }
inline std::chrono::milliseconds timeout_of(const connection& /*c*/) noexcept { return {}; }
inline std::chrono::milliseconds timeout_of(const timed& t) noexcept { return t.timeout; }

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

template <class T, class Token, class Finish>
auto launch(connection& c, capture cap, Finish finish, Token&& token) {
  return boost::asio::async_initiate<Token, typename signature_of<T>::type>(
      [](auto handler, std::shared_ptr<core> core, std::optional<request> req, Finish fin,
         connection::executor_type fallback) {
        auto slot = boost::asio::get_associated_cancellation_slot(handler);
        auto ex = boost::asio::get_associated_executor(handler, fallback);
        auto done = [h = std::move(handler), fin = std::move(fin)](std::exception_ptr e,
                                                                   result r) mutable {
          if constexpr (std::is_void_v<T>) {
            if (!e) {
              try {
                fin(std::move(r));
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
            std::optional<T> value;
            try {
              value.emplace(fin(std::move(r)));
            } catch (...) {
              std::move(h)(std::current_exception(), T{});
              return;
            }
            std::move(h)(nullptr, std::move(*value));
          }
        };
        if (!req) {
          // Nothing to send (e.g. an insert of no rows): the terminal answers by itself.
          boost::asio::post(ex, [d = std::move(done)]() mutable { d(nullptr, result{}); });
          return;
        }
        auto bound = boost::asio::bind_cancellation_slot(
            slot, boost::asio::bind_executor(ex, std::move(done)));
        submit(core, std::move(*req),
               std::make_unique<op_impl<decltype(bound), std::exception_ptr, result>>(
                   std::move(bound), fallback));
      },
      token, access::core_of(c), std::move(cap.req), std::move(finish), c.get_executor());
}

template <class C, class Q>
capture capture_exec(const C& c, const Q& q) {
  capture cap(timeout_of(c));
  (void)q.exec(cap);
  return cap;
}

}  // namespace detail

/// All rows of `q` (completion: std::vector<Row>).
///
/// Example: `auto users = co_await pgorm::async::all(conn, pgorm::select<User>(), token);`
template <class C, class Q, class Token>
auto all(C&& c, const Q& q, Token&& token) {
  using T = decltype(q.all(std::declval<detail::replay&>()));
  return detail::launch<T>(
      detail::conn_of(c), detail::capture_exec(c, q),
      [q](result r) {
        detail::replay rep{std::move(r)};
        return q.all(rep);
      },
      std::forward<Token>(token));
}

/// Exactly one row of `q`: pgorm::not_found when there is none, usage_error when there are
/// several (completion: Row).
template <class C, class Q, class Token>
auto one(C&& c, const Q& q, Token&& token) {
  using T = decltype(q.one(std::declval<detail::replay&>()));
  return detail::launch<T>(
      detail::conn_of(c), detail::capture_exec(c, q),
      [q](result r) {
        detail::replay rep{std::move(r)};
        return q.one(rep);
      },
      std::forward<Token>(token));
}

/// The first row of `q`, or std::nullopt (completion: std::optional<Row>).
template <class C, class Q, class Token>
auto first(C&& c, const Q& q, Token&& token) {
  using T = decltype(q.first(std::declval<detail::replay&>()));
  return detail::launch<T>(
      detail::conn_of(c), detail::capture_exec(c, q),
      [q](result r) {
        detail::replay rep{std::move(r)};
        return q.first(rep);
      },
      std::forward<Token>(token));
}

/// Runs `q` and completes with its row count (the rows a select returned, the rows an insert,
/// update or remove wrote). An insert of many rows is sent as one INSERT (the synchronous
/// exec() may use COPY instead).
template <class C, class Q, class Token>
auto exec(C&& c, const Q& q, Token&& token) {
  return detail::launch<std::int64_t>(
      detail::conn_of(c), detail::capture_exec(c, q),
      [q](result r) {
        detail::replay rep{std::move(r)};
        return q.exec(rep);
      },
      std::forward<Token>(token));
}

/// Calls fn(row) for each row of `q`, in order, once its result has arrived, on the
/// completion's executor (completion: nothing but the error). Unlike the synchronous each(),
/// the result is received whole before the first call (no single-row streaming yet).
template <class C, class Q, class F, class Token>
auto each(C&& c, const Q& q, F fn, Token&& token) {
  return detail::launch<void>(
      detail::conn_of(c), detail::capture_exec(c, q),
      [q, fn = std::move(fn)](result r) mutable {
        detail::replay rep{std::move(r)};
        for (auto& row : q.all(rep)) fn(row);
      },
      std::forward<Token>(token));
}

/// Keyset pagination of a select (see select's page()): up to n rows with the cursors around
/// them (completion: pgorm::page<Row, Cursor>).
template <class C, class Q, class Token>
auto page(C&& c, const Q& q, std::int64_t n, Token&& token) {
  using T = decltype(q.page(std::declval<detail::replay&>(), n));
  detail::capture cap(detail::timeout_of(c), true);
  if (n >= 1) {
    try {
      (void)q.page(cap, n);
    } catch (const detail::capture::capture_done&) {  // recorded: nothing was run
    }
  }
  return detail::launch<T>(
      detail::conn_of(c), std::move(cap),
      [q, n](result r) {
        detail::replay rep{std::move(r)};
        return q.page(rep, n);
      },
      std::forward<Token>(token));
}

/// The last n rows in order_by() order, with `prev` set when rows come before them (see
/// select's last_page()).
template <class C, class Q, class Token>
auto last_page(C&& c, const Q& q, std::int64_t n, Token&& token) {
  using T = decltype(q.last_page(std::declval<detail::replay&>(), n));
  detail::capture cap(detail::timeout_of(c), true);
  if (n >= 1) {
    try {
      (void)q.last_page(cap, n);
    } catch (const detail::capture::capture_done&) {  // recorded: nothing was run
    }
  }
  return detail::launch<T>(
      detail::conn_of(c), std::move(cap),
      [q, n](result r) {
        detail::replay rep{std::move(r)};
        return q.last_page(rep, n);
      },
      std::forward<Token>(token));
}

/// The row of T whose (one-column) primary key is `key`, or std::nullopt (completion:
/// std::optional<T>). For a composite key: first(conn, select<T>().where(primary_key<T>(...))).
///
/// Example: `std::optional<User> u = co_await pgorm::async::find<User>(conn, 42, token);`
template <class T, class C, class K, class Token>
auto find(C&& c, const K& key, Token&& token) {
  return first(std::forward<C>(c), select<T>().where(primary_key<T>(key)),
               std::forward<Token>(token));
}

}  // namespace pgorm::async
