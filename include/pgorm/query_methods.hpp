// SPDX-License-Identifier: MIT
#pragma once

/// \file
/// `pgorm::query_methods<Self>`: the members that start a query builder bound to an executor
/// (`conn.select<User>()`, `db.insert(u)`, `tx.update<User>()`, ...). A connection, the pool
/// and transactions inherit them. The builders themselves live in pgorm/query.hpp, a layer
/// above: this header only names them, so a call made without that header fails with a
/// `pgorm:` message saying which header to include.

#include <optional>
#include <source_location>
#include <type_traits>
#include <utility>

#include "pgorm/sql_text.hpp"

namespace pgorm {

namespace detail {

/// Starts each builder of row type T bound to an executor. Declared here, defined by
/// pgorm/query/bound.hpp (included by pgorm/query.hpp and pgorm/pgorm.hpp).
template <class T>
struct builder_entries;

/// What a bound builder's terminal (`db.select<User>().all()`) runs on: the executor it is
/// bound to, unless a specialization for that executor says otherwise. The pool's (pool.hpp)
/// runs the statement on the pool with the terminal's call site `where`, which leak detection
/// (pool_options::leak_threshold) names.
template <class E>
struct terminal_site {
  static E& at(E& e, const std::source_location& /*where*/) noexcept { return e; }
};

template <class T>
concept defined_type = requires {
  sizeof(T);
};

/// True when the builders are visible; else a compile error saying which header to include.
/// Used as `if constexpr (detail::builders_visible<T>()) return ...;`, so that nothing else is
/// instantiated first.
template <class T>
consteval bool builders_visible() {
  static_assert(defined_type<builder_entries<T>>,
                "pgorm: the query builders are not included here: #include \"pgorm/query.hpp\" "
                "(or \"pgorm/pgorm.hpp\") to call select(), find(), insert(), update(), remove() "
                "or query() on a connection, a pool or a transaction");
  return defined_type<builder_entries<T>>;
}

}  // namespace detail

/// The query-builder members of every executor: inherit `query_methods<Self>` and provide
/// exec()/exec_each(). pgorm::connection, pgorm::pool and pgorm::transaction do.
///
/// Example: `class pool : public pgorm::query_methods<pool> { ... };  db.select<User>().all();`
template <class Derived>
class query_methods {
 public:
  /// Starts a SELECT of whole rows of T bound to this executor:
  /// `conn.select<User>().where(...).all()`.
  template <class T, class... More>
  auto select() {
    if constexpr (detail::builders_visible<T>()) {
      return detail::builder_entries<T>::template select<More...>(self());
    }
  }
  /// Starts a SELECT of columns bound to this executor (rows are std::tuple).
  template <class E0, class... E>
  auto select(const E0& first, const E&... rest) {
    if constexpr (detail::builders_visible<E0>()) {
      return detail::builder_entries<E0>::select_columns(self(), first, rest...);
    }
  }
  /// The row of T with this primary key, or std::nullopt.
  template <class T, class... K>
  std::optional<T> find(const K&... key) {
    if constexpr (detail::builders_visible<T>()) {
      return detail::builder_entries<T>::find(self(), key...);
    } else {
      return std::nullopt;
    }
  }
  /// Starts an INSERT of a struct or a range of structs, bound to this executor.
  template <class T = void, class R>
  auto insert(R&& row_or_range) {
    if constexpr (detail::builders_visible<T>()) {
      return detail::builder_entries<T>::insert(self(), std::forward<R>(row_or_range));
    }
  }
  /// Starts an UPDATE of T's table, bound to this executor.
  template <class T>
  auto update() {
    if constexpr (detail::builders_visible<T>()) return detail::builder_entries<T>::update(self());
  }
  /// Starts a DELETE from T's table, bound to this executor.
  template <class T>
  auto remove() {
    if constexpr (detail::builders_visible<T>()) return detail::builder_entries<T>::remove(self());
  }
  /// Raw SQL from a string literal with typed rows: `conn.query<User>("select ...", 42).all()`.
  template <class Row, class... Args>
  auto query(sql_literal sql, const Args&... args) {
    if constexpr (detail::builders_visible<Row>()) {
      return detail::builder_entries<Row>::query(self(), sql, args...);
    }
  }
  /// Raw SQL built at run time, marked with pgorm::unsafe_sql().
  template <class Row, class... Args>
  auto query(unsafe_sql_text sql, const Args&... args) {
    if constexpr (detail::builders_visible<Row>()) {
      return detail::builder_entries<Row>::query(self(), std::move(sql), args...);
    }
  }

 protected:
  query_methods() = default;

 private:
  Derived& self() { return static_cast<Derived&>(*this); }
};

}  // namespace pgorm
