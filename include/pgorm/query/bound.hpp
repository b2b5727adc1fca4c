// SPDX-License-Identifier: MIT
#pragma once

/// \file
/// The query builders behind `pgorm::query_methods` (conn.select<T>(), db.insert(u), ...):
/// each starts the free builder and binds it to the executor.

#include <optional>
#include <utility>

#include "pgorm/query/find.hpp"
#include "pgorm/query/insert.hpp"
#include "pgorm/query/raw.hpp"
#include "pgorm/query/remove.hpp"
#include "pgorm/query/select.hpp"
#include "pgorm/query/update.hpp"
#include "pgorm/query_methods.hpp"

namespace pgorm::detail {

// Every member is a template with a deduced type: T may be void (insert<>(), query<void>), so
// no signature may name it.
template <class T>
struct builder_entries {
  template <class... More, class Exec>
  static auto select(Exec& exec) {
    return pgorm::select<T, More...>().bind(exec);
  }
  template <class Exec, class E0, class... E>
  static auto select_columns(Exec& exec, const E0& first, const E&... rest) {
    return pgorm::select(first, rest...).bind(exec);
  }
  template <class Exec, class... K>
  static auto find(Exec& exec, const K&... key) {
    return pgorm::find<T>(exec, key...);
  }
  template <class Exec, class R>
  static auto insert(Exec& exec, R&& row_or_range) {
    return pgorm::insert<T>(std::forward<R>(row_or_range)).bind(exec);
  }
  template <class Exec>
  static auto update(Exec& exec) {
    return pgorm::update<T>().bind(exec);
  }
  template <class Exec>
  static auto remove(Exec& exec) {
    return pgorm::remove<T>().bind(exec);
  }
  template <class Exec, class Sql, class... Args>
  static auto query(Exec& exec, Sql&& sql, const Args&... args) {
    return pgorm::query<T>(std::forward<Sql>(sql), args...).bind(exec);
  }
};

}  // namespace pgorm::detail
