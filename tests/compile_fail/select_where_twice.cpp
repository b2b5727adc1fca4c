// expect: pgorm: where\(\) was already called
#include "pgorm/query.hpp"
#include "support/schema.hpp"

using pgorm::col;
auto q = pgorm::select<qt::User>().where(col<&qt::User::age> > 1).where(col<&qt::User::id> == 2);
