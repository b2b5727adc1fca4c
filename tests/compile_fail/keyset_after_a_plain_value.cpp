// expect: pgorm: after\(\) and before\(\) take a cursor page\(\) returned
#include "pgorm/query.hpp"
#include "support/schema.hpp"

auto q = pgorm::select<qt::User>().order_by(pgorm::col<&qt::User::age>).after(36);
