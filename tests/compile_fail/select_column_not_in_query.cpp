// expect: pgorm: the query uses a column of a table that is not in it
#include "pgorm/query.hpp"
#include "support/schema.hpp"

auto s = pgorm::select<qt::User>().where(pgorm::col<&qt::Session::token> == "t").to_sql();
