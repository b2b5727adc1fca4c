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

}  // namespace pgorm
