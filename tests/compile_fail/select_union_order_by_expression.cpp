// SPDX-License-Identifier: MIT
// expect: pgorm: order_by\(\) of a union, intersect or except names output columns
#include "pgorm/query.hpp"
#include "support/schema.hpp"

using pgorm::col;
auto q = pgorm::select(col<&qt::User::email>)
             .union_(pgorm::select(col<&qt::User::email>))
             .order_by(pgorm::lower(col<&qt::User::email>));
