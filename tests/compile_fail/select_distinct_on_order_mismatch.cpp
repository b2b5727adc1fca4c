// SPDX-License-Identifier: MIT
// expect: pgorm: with distinct_on\(a, ...\), order_by\(\) must start with the same expressions
#include "pgorm/query.hpp"
#include "support/schema.hpp"

using pgorm::col;
using qt::Session;
auto s = pgorm::select<Session>()
             .distinct_on(col<&Session::user_id>)
             .order_by(col<&Session::expires_at>.desc(), col<&Session::user_id>)
             .to_sql();
