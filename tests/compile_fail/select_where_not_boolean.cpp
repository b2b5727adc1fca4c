// expect: pgorm: where\(\) needs a boolean condition
#include "pgorm/query.hpp"
#include "support/schema.hpp"

auto q = pgorm::select<qt::User>().where(pgorm::col<&qt::User::age>);
