// SPDX-License-Identifier: MIT
#pragma once

/// \file
/// The query-builder members of pgorm::connection (declared in connection.hpp, which knows
/// nothing of queries): each starts the free builder and binds it to the connection.

#include <optional>
#include <utility>

#include "pgorm/connection.hpp"
#include "pgorm/query/find.hpp"
#include "pgorm/query/insert.hpp"
#include "pgorm/query/raw.hpp"
#include "pgorm/query/remove.hpp"
#include "pgorm/query/select.hpp"
#include "pgorm/query/update.hpp"

namespace pgorm {

template <class T, class... More>
auto connection::select() {
  return pgorm::select<T, More...>().bind(*this);
}

template <class E0, class... E>
auto connection::select(const E0& first, const E&... rest) {
  return pgorm::select(first, rest...).bind(*this);
}

template <class T, class... K>
std::optional<T> connection::find(const K&... key) {
  return pgorm::find<T>(*this, key...);
}

template <class T, class R>
auto connection::insert(R&& row_or_range) {
  return pgorm::insert<T>(std::forward<R>(row_or_range)).bind(*this);
}

template <class T>
auto connection::update() {
  return pgorm::update<T>().bind(*this);
}

template <class T>
auto connection::remove() {
  return pgorm::remove<T>().bind(*this);
}

template <class Row, class... Args>
auto connection::query(sql_literal sql, const Args&... args) {
  return pgorm::query<Row>(sql, args...).bind(*this);
}

template <class Row, class... Args>
auto connection::query(unsafe_sql_text sql, const Args&... args) {
  return pgorm::query<Row>(std::move(sql), args...).bind(*this);
}

/// The query-builder members shared by every executor other than connection (the pool,
/// transactions): inherit `query_methods<Self>` and provide exec()/exec_each().
///
/// Example: `class pool : public pgorm::query_methods<pool> { ... };  db.select<User>().all();`
template <class Derived>
class query_methods {
 public:
  /// Starts a SELECT bound to this executor.
  template <class T, class... More>
  auto select() {
    return pgorm::select<T, More...>().bind(self());
  }
  /// Starts a SELECT of columns bound to this executor.
  template <class E0, class... E>
  auto select(const E0& first, const E&... rest) {
    return pgorm::select(first, rest...).bind(self());
  }
  /// The row of T with this primary key, or std::nullopt.
  template <class T, class... K>
  std::optional<T> find(const K&... key) {
    return pgorm::find<T>(self(), key...);
  }
  /// Starts an INSERT bound to this executor.
  template <class T = void, class R>
  auto insert(R&& row_or_range) {
    return pgorm::insert<T>(std::forward<R>(row_or_range)).bind(self());
  }
  /// Starts an UPDATE bound to this executor.
  template <class T>
  auto update() {
    return pgorm::update<T>().bind(self());
  }
  /// Starts a DELETE bound to this executor.
  template <class T>
  auto remove() {
    return pgorm::remove<T>().bind(self());
  }
  /// Raw SQL from a string literal with typed rows.
  template <class Row, class... Args>
  auto query(sql_literal sql, const Args&... args) {
    return pgorm::query<Row>(sql, args...).bind(self());
  }
  /// Raw SQL built at run time, marked with pgorm::unsafe_sql().
  template <class Row, class... Args>
  auto query(unsafe_sql_text sql, const Args&... args) {
    return pgorm::query<Row>(std::move(sql), args...).bind(self());
  }

 protected:
  query_methods() = default;

 private:
  Derived& self() { return static_cast<Derived&>(*this); }
};

}  // namespace pgorm
