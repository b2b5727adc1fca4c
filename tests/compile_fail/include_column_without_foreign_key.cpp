// expect: pgorm: rel<&T::column> names a column with a single-column foreign key
#include "pgorm/query.hpp"
#include "pgorm/query/include.hpp"
#include "support/relations_schema.hpp"

auto q = pgorm::select<rt::User>().include(pgorm::rel<&rt::Session::token>);
