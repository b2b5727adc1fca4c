// SPDX-License-Identifier: MIT
#pragma once

/// \file
/// The executor boundary: what a query builder runs its statement on. A connection, a pool, a
/// transaction and with_timeout(...) are executors; so is any type with the same exec().

#include <concepts>
#include <span>
#include <string_view>

#include "pgorm/result.hpp"

namespace pgorm {

/// Something queries run on: a connection; the pool and transactions satisfy it too.
/// It runs one statement with binary parameters and returns its result in the given format.
///
/// Example: `static_assert(pgorm::executor<pgorm::pool>);`
template <class E>
concept executor = requires(E& e, std::string_view sql, std::span<const param> params) {
  { e.exec(sql, params, data_format::binary) } -> std::same_as<result>;
};

namespace detail {
/// Marks a statement rendered by a pgorm builder (select, find, insert, update, remove): unlike
/// raw SQL it cannot change session state. An executor that reuses sessions (the pool) takes
/// the mark as a first argument and skips the session reset after such a statement.
struct builder_sql_t {
  explicit builder_sql_t() = default;
};
inline constexpr builder_sql_t builder_sql{};
}  // namespace detail

}  // namespace pgorm
