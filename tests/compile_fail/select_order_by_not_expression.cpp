// expect: pgorm: order_by\(\) takes columns or expressions
#include "pgorm/query.hpp"
#include "support/schema.hpp"

auto q = pgorm::select<qt::User>().order_by(2);
