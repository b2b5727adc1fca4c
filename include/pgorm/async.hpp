// SPDX-License-Identifier: MIT
#pragma once

/// \file
/// pgorm's asynchronous API on Boost.Asio (docs/async.md): the async connection, its
/// transactions, the async pool and the async terminal operations of every query builder. Not part
/// of pgorm/pgorm.hpp, so that code that does not use it does not compile Asio.
///
/// Example: `#include <pgorm/async.hpp>` then
/// `auto users = co_await pgorm::async::all(conn, pgorm::select<User>(), asio::use_awaitable);`

#include "pgorm/async/connection.hpp"   // IWYU pragma: export
#include "pgorm/async/copy.hpp"         // IWYU pragma: export
#include "pgorm/async/pipeline.hpp"     // IWYU pragma: export
#include "pgorm/async/pool.hpp"         // IWYU pragma: export
#include "pgorm/async/query.hpp"        // IWYU pragma: export
#include "pgorm/async/transaction.hpp"  // IWYU pragma: export
