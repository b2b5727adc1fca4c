// SPDX-License-Identifier: MIT
// expect: pgorm: columns\(\) lists a column twice
#include "pgorm/query.hpp"
#include "support/schema.hpp"

using pgorm::col;
auto q = pgorm::insert(qt::User{}).columns(col<&qt::User::email>, col<&qt::User::email>);
