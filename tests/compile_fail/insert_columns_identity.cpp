// SPDX-License-Identifier: MIT
// expect: pgorm: columns\(\) cannot list an identity column
#include "pgorm/query.hpp"
#include "support/schema.hpp"

using pgorm::col;
auto q = pgorm::insert(qt::User{}).columns(col<&qt::User::id>, col<&qt::User::email>);
