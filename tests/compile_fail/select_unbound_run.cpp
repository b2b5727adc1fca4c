// expect: pgorm: this query is not bound to a connection
#include "pgorm/query.hpp"
#include "support/schema.hpp"

auto rows() { return pgorm::select<qt::User>().all(); }
