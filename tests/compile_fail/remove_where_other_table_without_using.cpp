// SPDX-License-Identifier: MIT
// expect: pgorm: where\(\) of an update, remove or upsert .* add another table with from<U>
#include "pgorm/query.hpp"
#include "support/schema.hpp"

using pgorm::col;
auto q = pgorm::remove<qt::Session>().where(col<&qt::Session::user_id> == col<&qt::User::id>);
