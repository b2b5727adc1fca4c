// SPDX-License-Identifier: MIT
#pragma once

/// \file
/// The executor boundary: what a query builder runs its statement on. A connection, a pool, a
/// transaction and with_timeout(...) are executors; so is any type with the same exec().

#include <concepts>
#include <span>
#include <string_view>

#include "pgorm/result.hpp"
#include "pgorm/statement_shape.hpp"

namespace pgorm {

/// Something queries run on: a connection; the pool and transactions satisfy it too.
/// It runs one statement with binary parameters and returns its result in the given format.
///
/// Example: `static_assert(pgorm::executor<pgorm::pool>);`
template <class E>
concept executor = requires(E& e, std::string_view sql, std::span<const param> params) {
  { e.exec(sql, params, data_format::binary) } -> std::same_as<result>;
};

/// An executor that also takes a statement's shape (see statement_shape.hpp): pgorm's
/// connection, pool, transaction and with_timeout. Builders hand such an executor the shape,
/// so that its statement cache is keyed at compile time and the columns are checked once per
/// prepared statement; any other executor gets the SQL text.
///
/// Example: `static_assert(pgorm::shape_executor<pgorm::connection>);`
template <class E>
concept shape_executor = executor<E> &&
    requires(E& e, const statement_shape& s, std::span<const param> params) {
  { e.exec(s, params, data_format::binary) } -> std::same_as<result>;
};

}  // namespace pgorm
