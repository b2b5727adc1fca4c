// expect: pgorm: these two types cannot be compared in SQL
#include "pgorm/query.hpp"
#include "support/schema.hpp"

auto q = pgorm::select<qt::User>().where(pgorm::col<&qt::User::email> == 42);
