// SPDX-License-Identifier: MIT
#pragma once

/// \file
/// The one runner of every statement kind (select, insert, update, remove, raw query<Row>): the
/// terminal operations all(), one(), first(), exec(), each() and page(), each bound (no
/// argument, after bind(conn) or conn.select<T>()) and unbound (the executor as argument); and,
/// for the builders, the one to_sql() / sql() / render() over their clauses.

#include <algorithm>
#include <cstdint>
#include <optional>
#include <source_location>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "pgorm/error.hpp"
#include "pgorm/expr.hpp"
#include "pgorm/query/clauses.hpp"
#include "pgorm/query/common.hpp"
#include "pgorm/query_methods.hpp"
#include "pgorm/row.hpp"

namespace pgorm::async::detail {
struct page_access;
}  // namespace pgorm::async::detail

namespace pgorm::detail {

/// all()'s reading of a received result, the rows of statement Q (settle_rows). Shared with
/// the async terminals, which read the result the async connection received.
template <class Row, class Q>
std::vector<Row> read_all(const result& res) {
  std::vector<Row> rows = read_rows<Row>(res);
  settle_rows<Q>(rows);
  return rows;
}

/// one()'s reading of a received result: its one row; not_found or usage_error otherwise.
template <class Row, class Q = void>
Row read_one(const result& res) {
  if (res.rows() != 1) throw_not_one_row(res.rows());
  if constexpr (settles_rows_v<Q, Row>) {
    Row row = row_reader<Row>(res).read(0);
    Q::settle_row(row);
    return row;
  } else {
    return row_reader<Row>(res).read(0);
  }
}

/// first()'s reading of a received result: its first row, or std::nullopt.
template <class Row, class Q = void>
std::optional<Row> read_first(const result& res) {
  std::optional<Row> out;
  // Read in place: a Row built apart and moved in costs a move and a destruction of every
  // field (~80 instructions per point select of a struct with two strings; bench --callgrind).
  if (res.rows() != 0) row_reader<Row>(res).read(0, out.emplace());
  settle_row<Q>(out);
  return out;
}

/// The terminal operations, written once for every statement kind. `Derived` provides:
/// - `row_type`: the C++ type of a row (void: a statement whose rows are not read);
/// - `static consteval bool check_run()`: the kind's rules checked where it runs (a failed one
///   is a static_assert with a `pgorm:` message); true when they hold;
/// - `static consteval bool check_reads_rows()`: the same for all(), one(), first(), each();
/// - `template <class E> result execute(E&) const` and
///   `template <class E, class F> void execute_each(E&, F&&) const` (F called with each row);
/// - optionally `bool sends_nothing() const` (true: nothing to send, e.g. an empty insert),
///   `template <class E> std::optional<std::int64_t> exec_shortcut(E&) const` (exec() without
///   the statement, e.g. insert's COPY), and for page() `check_page()`, `page_query(n)` and
///   `cursor_of(row)` (keyset pagination of a select).
///
/// A terminal runs on terminal_site<E>::at(executor, where), `where` being its call site (leave
/// it defaulted): on a pool (also through with_timeout()), the line a leak report names.
template <class Derived, class Exec>
class runner {
 public:
  /// All rows.
  auto all(std::source_location where = std::source_location::current()) const {
    if constexpr (require_bound<Exec>()) {
      decltype(auto) at = terminal_site<Exec>::at(*exec_, where);
      return all(at);
    }
  }
  template <executor E>
  auto all(E& exec, std::source_location where = std::source_location::current()) const {
    if constexpr (Derived::check_run() && Derived::check_reads_rows()) {
      using row = typename Derived::row_type;
      if (nothing_to_send()) return std::vector<row>{};
      decltype(auto) at = terminal_site<E>::at(exec, where);
      return read_all<row, Derived>(self().execute(at));
    }
  }

  /// Exactly one row; pgorm::not_found when there is none, usage_error when there are several.
  auto one(std::source_location where = std::source_location::current()) const {
    if constexpr (require_bound<Exec>()) {
      decltype(auto) at = terminal_site<Exec>::at(*exec_, where);
      return one(at);
    }
  }
  template <executor E>
  auto one(E& exec, std::source_location where = std::source_location::current()) const {
    if constexpr (Derived::check_run() && Derived::check_reads_rows()) {
      using row = typename Derived::row_type;
      if (nothing_to_send()) throw_not_one_row(0);
      decltype(auto) at = terminal_site<E>::at(exec, where);
      return read_one<row, Derived>(self().execute(at));
    }
  }

  /// The first row, or std::nullopt. (On a select, add limit(1) to let the server stop early.)
  auto first(std::source_location where = std::source_location::current()) const {
    if constexpr (require_bound<Exec>()) {
      decltype(auto) at = terminal_site<Exec>::at(*exec_, where);
      return first(at);
    }
  }
  template <executor E>
  auto first(E& exec, std::source_location where = std::source_location::current()) const {
    if constexpr (Derived::check_run() && Derived::check_reads_rows()) {
      using row = typename Derived::row_type;
      if (nothing_to_send()) return std::optional<row>{};
      decltype(auto) at = terminal_site<E>::at(exec, where);
      return read_first<row, Derived>(self().execute(at));
    }
  }

  /// Runs the statement and returns its row count: the rows a select returned, the rows an
  /// insert, update or remove wrote.
  std::int64_t exec(std::source_location where = std::source_location::current()) const {
    if constexpr (require_bound<Exec>()) {
      decltype(auto) at = terminal_site<Exec>::at(*exec_, where);
      return exec(at);
    } else {
      return 0;
    }
  }
  template <executor E>
  std::int64_t exec(E& exec, std::source_location where = std::source_location::current()) const {
    if constexpr (Derived::check_run()) {
      if (nothing_to_send()) return 0;
      decltype(auto) at = terminal_site<E>::at(exec, where);
      if constexpr (requires { self().exec_shortcut(at); }) {
        if (const std::optional<std::int64_t> n = self().exec_shortcut(at)) return *n;
      }
      return self().execute(at).affected_rows();
    } else {
      return 0;
    }
  }

  /// Calls fn(row) for each row as it arrives (libpq single-row mode): a large result never
  /// sits in memory whole. An exception from fn stops the statement and propagates.
  template <class F>
  void each(F&& fn, std::source_location where = std::source_location::current()) const {
    if constexpr (require_bound<Exec>()) {
      decltype(auto) at = terminal_site<Exec>::at(*exec_, where);
      each(at, std::forward<F>(fn));
    }
  }
  template <executor E, class F>
  void each(E& exec, F&& fn, std::source_location where = std::source_location::current()) const {
    if constexpr (Derived::check_run() && Derived::check_reads_rows()) {
      if (nothing_to_send()) return;
      decltype(auto) at = terminal_site<E>::at(exec, where);
      self().execute_each(at, std::forward<F>(fn));
    }
  }

  /// Keyset pagination (select): up to n rows in order_by() order, with the cursors of the
  /// pages around them (pgorm::page). Forward from the start, after after(c) / after_key(k);
  /// backward after before(c) / before_key(k). Needs order_by() over columns of the selected
  /// struct; the primary key makes the order total. usage_error when n < 1.
  auto page(std::int64_t n, std::source_location where = std::source_location::current()) const {
    if constexpr (require_bound<Exec>()) {
      decltype(auto) at = terminal_site<Exec>::at(*exec_, where);
      return page(at, n);
    }
  }
  template <executor E>
  auto page(E& exec, std::int64_t n,
            std::source_location where = std::source_location::current()) const {
    if constexpr (!requires { Derived::check_page(); }) {
      static_assert(always_false_v<E>,
                    "pgorm: page() is keyset pagination of a select: "
                    "pgorm::select<T>().order_by(...).page(n)");
    } else if constexpr (Derived::check_page()) {
      decltype(auto) at = terminal_site<E>::at(exec, where);
      return run_page<Derived::page_backward>(at, n);
    }
  }

  /// Keyset pagination from the end (select): the last n rows in order_by() order (Prisma's
  /// `take: -n`), with `prev` set when rows come before them.
  auto last_page(std::int64_t n,
                 std::source_location where = std::source_location::current()) const {
    if constexpr (require_bound<Exec>()) {
      decltype(auto) at = terminal_site<Exec>::at(*exec_, where);
      return last_page(at, n);
    }
  }
  template <executor E>
  auto last_page(E& exec, std::int64_t n,
                 std::source_location where = std::source_location::current()) const {
    if constexpr (!requires { Derived::check_last_page(); }) {
      static_assert(always_false_v<E>,
                    "pgorm: last_page() is keyset pagination of a select: "
                    "pgorm::select<T>().order_by(...).last_page(n)");
    } else if constexpr (Derived::check_last_page()) {
      decltype(auto) at = terminal_site<E>::at(exec, where);
      return run_page<true>(at, n);
    }
  }

 protected:
  constexpr explicit runner(Exec* exec) noexcept : exec_(exec) {}

  /// The executor the statement is bound to (null when unbound).
  [[nodiscard]] constexpr Exec* bound_to() const noexcept { return exec_; }

 private:
  constexpr const Derived& self() const { return static_cast<const Derived&>(*this); }

  /// Derived's sends_nothing(), or false when the kind always sends its statement.
  [[nodiscard]] bool nothing_to_send() const {
    if constexpr (requires { self().sends_nothing(); }) {
      return self().sends_nothing();
    } else {
      return false;
    }
  }

  /// One page of n rows: fetched in the walk's direction with one row more than asked (it
  /// tells whether another page follows), a backward page reversed into order_by() order.
  template <bool Backward, class E>
  auto run_page(E& exec, std::int64_t n) const {
    if (n < 1) {
      throw usage_error("pgorm: page(n) and last_page(n) take a page size of at least 1, got " +
                        std::to_string(n));
    }
    return page_of<Backward>(self().template page_query<Backward>(n).all(exec), n);
  }

  // pgorm::async's page() and last_page() (`Last`): the page made of `rows`, the rows of the
  // statement they sent (page_query(n)), so that they bind the statement once.
  friend struct pgorm::async::detail::page_access;
  template <bool Last, class Rows>
  static auto page_from_rows(Rows rows, std::int64_t n) {
    return page_of<(Last || Derived::page_backward)>(std::move(rows), n);
  }

  template <bool Backward, class Rows>
  static auto page_of(Rows rows, std::int64_t n) {
    pgorm::page<typename Derived::row_type, typename Derived::cursor_t> out;
    out.rows = std::move(rows);
    const bool more = static_cast<std::int64_t>(out.rows.size()) > n;
    if (more) out.rows.pop_back();
    if (out.rows.empty()) return out;
    if constexpr (Backward) std::reverse(out.rows.begin(), out.rows.end());
    // Forward: rows follow when the extra row came, and precede when the page started at a
    // cursor. Backward: the other way round.
    constexpr bool from_cursor = Derived::page_has_cursor;
    if (Backward ? more : from_cursor) out.prev = Derived::cursor_of(out.rows.front());
    if (Backward ? from_cursor : more) out.next = Derived::cursor_of(out.rows.back());
    return out;
  }

  Exec* exec_;
};

/// A statement a builder renders: the runner, plus to_sql() and sql() over Derived's clauses,
/// written once, and the clause protocol's render() / render_dynamic() from
/// detail::renders_from. `Derived` provides, besides the runner's members,
/// `static constexpr bool is_static`, `template <class W, class S> static constexpr void
/// render_from(W&, const S& self)` (self: the builder, or detail::shape of it for the static
/// text) and `void bind(param_list&) const`; optionally `void check_to_sql() const`, which
/// throws when there is no statement to show (e.g. an insert of no rows). A Derived that runs
/// its text otherwise (raw SQL, not marked as a builder's) defines its own execute() and
/// execute_each(), which the runner then calls instead of these.
///
/// A Derived made of clauses keeps them in a detail::clause_set member `parts_` and is
/// `B<Exec, Parts>` or `B<Exec, T, Parts>`: it then gets bind(exec), bind(param_list&) over its
/// parts in order, and with_part(part_at<I>, v), the one rebuild of every builder.
template <class Derived, class Exec>
class builder : public runner<Derived, Exec>, public renders_from<Derived> {
 public:
  /// The SQL text and parameters, for debugging and snapshot tests.
  [[nodiscard]] statement to_sql() const {
    if constexpr (Derived::check_run()) {
      if constexpr (requires(const Derived& d) { d.check_to_sql(); }) self().check_to_sql();
      return to_statement(self());
    } else {
      return {};
    }
  }

  /// The same statement, bound to `exec` so that all(), one(), exec(), ... need no argument.
  template <executor E>
  auto bind(E& exec) const {
    using parts = std::remove_cvref_t<decltype(self().parts_)>;
    return remade_t<Derived, E, parts>(&exec, parts(self().parts_));
  }
  /// Appends the statement's parameters, in the order of their placeholders.
  void bind(param_list& p) const { self().parts_.bind(p); }

  /// The SQL text of this statement's shape, computed at compile time (static shapes only).
  static constexpr std::string_view sql() requires(Derived::is_static) {
    if constexpr (Derived::check_run()) {
      return static_sql_v<Derived>.view();
    } else {
      return {};
    }
  }

 protected:
  using runner<Derived, Exec>::runner;

  /// This statement with part I replaced by `value`: the one rebuild of every builder. The
  /// value is forwarded by reference down to its place in the new parts: a condition with a
  /// string value, taken by value at each step, was moved (and its husk destroyed) twice more
  /// (bench --callgrind, session lookup).
  template <auto I, class V>
  auto with_part(part_at_t<I> /*at*/, V&& value) const {
    return remake(self().parts_.template with<I>(std::forward<V>(value)));
  }
  /// This statement with parts I and J replaced.
  template <auto I, auto J, class V1, class V2>
  auto with_parts(part_at_t<I> /*at1*/, V1 v1, part_at_t<J> /*at2*/, V2 v2) const {
    return remake(self().parts_.template with<I>(std::move(v1)).template with<J>(std::move(v2)));
  }

 private:
  friend class runner<Derived, Exec>;

  constexpr const Derived& self() const { return static_cast<const Derived&>(*this); }

  // The builders take their parts by rvalue reference: a rebuilt statement's parts are moved
  // once, from with()'s result (a prvalue) into the new builder.
  template <class P>
  auto remake(P&& parts) const {
    return remade_t<Derived, Exec, std::remove_cvref_t<P>>(this->bound_to(),
                                                           std::forward<P>(parts));
  }

  /// Runs the statement: the runner's way in.
  template <class E>
  result execute(E& exec) const {
    return run(self(), exec);
  }
  /// Streams the statement's rows to fn: the runner's way in.
  template <class E, class F>
  void execute_each(E& exec, F&& fn) const {
    with_bound_shape(self(), [&](const statement_shape& shape, const param_pack& params) {
      stream_rows<typename Derived::row_type, Derived>(exec, shape, params, std::forward<F>(fn));
    });
  }
};

}  // namespace pgorm::detail
