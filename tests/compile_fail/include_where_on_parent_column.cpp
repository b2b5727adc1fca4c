// expect: pgorm: an include\(\).s where\(\) and order_by\(\) use columns of the included table only
#include "pgorm/query.hpp"
#include "pgorm/query/include.hpp"
#include "support/relations_schema.hpp"

auto q = pgorm::select<rt::User>().include(
    pgorm::rel<&rt::Session::user_id>.where(pgorm::col<&rt::User::id> == 1));
