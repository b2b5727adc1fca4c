// SPDX-License-Identifier: MIT
#pragma once

/// \file
/// The query builders: select, insert, update, remove, find and raw query<Row>(), and the
/// members of pgorm::connection that start them bound to it.

#include "pgorm/expr.hpp"          // IWYU pragma: export
#include "pgorm/query/bound.hpp"   // IWYU pragma: export (includes every builder it binds)
#include "pgorm/query/common.hpp"  // IWYU pragma: export
#include "pgorm/query/find.hpp"    // IWYU pragma: export
#include "pgorm/query/insert.hpp"  // IWYU pragma: export
#include "pgorm/query/raw.hpp"     // IWYU pragma: export
#include "pgorm/query/remove.hpp"  // IWYU pragma: export
#include "pgorm/query/select.hpp"  // IWYU pragma: export
#include "pgorm/query/update.hpp"  // IWYU pragma: export
