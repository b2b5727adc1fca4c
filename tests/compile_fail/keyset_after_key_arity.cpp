// expect: pgorm: after_key\(\) and before_key\(\) take one value per primary key column
#include "pgorm/query.hpp"
#include "support/schema.hpp"

auto q = pgorm::select<qt::User>().order_by(pgorm::col<&qt::User::age>).after_key(1, 2);
