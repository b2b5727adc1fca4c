// expect: pgorm: a join needs an ON condition
#include "pgorm/query.hpp"
#include "support/schema.hpp"

using pgorm::col;
auto q = pgorm::select<qt::User>().join<qt::Session>(col<&qt::Session::user_id>);
