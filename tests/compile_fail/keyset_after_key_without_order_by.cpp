// expect: pgorm: after_key\(\) and before_key\(\) need order_by\(\) first
#include "pgorm/query.hpp"
#include "support/schema.hpp"

auto q = pgorm::select<qt::User>().before_key(1);
