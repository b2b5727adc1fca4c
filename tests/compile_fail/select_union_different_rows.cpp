// SPDX-License-Identifier: MIT
// expect: pgorm: both sides of union_\(\), intersect\(\) and except\(\) must have the same row type
#include "pgorm/query.hpp"
#include "support/schema.hpp"

using pgorm::col;
auto q = pgorm::select(col<&qt::User::id>).union_(pgorm::select(col<&qt::User::email>));
