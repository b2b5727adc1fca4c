// SPDX-License-Identifier: MIT
#pragma once

/// \file
/// The umbrella header: includes every public pgorm header (but not pgorm/testing/).

#include "pgorm/connection.hpp"    // IWYU pragma: export
#include "pgorm/copy.hpp"          // IWYU pragma: export
#include "pgorm/error.hpp"         // IWYU pragma: export
#include "pgorm/fwd.hpp"           // IWYU pragma: export
#include "pgorm/listener.hpp"      // IWYU pragma: export
#include "pgorm/migrate.hpp"       // IWYU pragma: export
#include "pgorm/notification.hpp"  // IWYU pragma: export
#include "pgorm/observer.hpp"      // IWYU pragma: export
#include "pgorm/pipeline.hpp"      // IWYU pragma: export
#include "pgorm/pool.hpp"          // IWYU pragma: export
#include "pgorm/query.hpp"         // IWYU pragma: export
#include "pgorm/reflect.hpp"       // IWYU pragma: export
#include "pgorm/row.hpp"           // IWYU pragma: export
#include "pgorm/schema.hpp"        // IWYU pragma: export
#include "pgorm/table.hpp"         // IWYU pragma: export
#include "pgorm/transaction.hpp"   // IWYU pragma: export
#include "pgorm/types.hpp"         // IWYU pragma: export
#include "pgorm/version.hpp"       // IWYU pragma: export
