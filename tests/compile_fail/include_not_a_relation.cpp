// expect: pgorm: include\(\) takes relations
#include "pgorm/query.hpp"
#include "pgorm/query/include.hpp"
#include "support/relations_schema.hpp"

auto q = pgorm::select<rt::User>().include(pgorm::col<&rt::User::id>);
