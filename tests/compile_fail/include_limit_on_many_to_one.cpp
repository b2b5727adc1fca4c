// expect: pgorm: order_by\(\) and limit\(\) apply to a 1-n relation
#include "pgorm/query.hpp"
#include "pgorm/query/include.hpp"
#include "support/relations_schema.hpp"

// A session has one user: there is no list to limit.
auto q = pgorm::select<rt::Session>().include(pgorm::rel<&rt::Session::user_id>.limit(1));
