// expect: pgorm: a column selected beside an aggregate
#include "pgorm/query.hpp"
#include "support/schema.hpp"

using pgorm::col;
auto s = pgorm::select(col<&qt::User::age>, pgorm::count()).from<qt::User>().to_sql();
