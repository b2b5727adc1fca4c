// expect: pgorm: select\(\.\.\.\) takes columns or expressions
#include "pgorm/query.hpp"
#include "support/schema.hpp"

auto q = pgorm::select(5);
