// expect: pgorm: when\(\) after else_\(\); give else_\(\) last
#include "pgorm/query.hpp"
#include "pgorm/query/case.hpp"
#include "support/schema.hpp"

auto e = pgorm::case_when(pgorm::col<&qt::User::age> < 18, 1)
             .else_(0)
             .when(pgorm::col<&qt::User::age> < 65, 2);
