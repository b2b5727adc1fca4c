// SPDX-License-Identifier: MIT
#pragma once

/// \file
/// The query builders: select, and (see the per-builder headers) the shared pieces.

#include "pgorm/expr.hpp"          // IWYU pragma: export
#include "pgorm/query/common.hpp"  // IWYU pragma: export
#include "pgorm/query/select.hpp"  // IWYU pragma: export
#include "pgorm/query/find.hpp"    // IWYU pragma: export
#include "pgorm/query/raw.hpp"     // IWYU pragma: export
#include "pgorm/query/bound.hpp"   // IWYU pragma: export
