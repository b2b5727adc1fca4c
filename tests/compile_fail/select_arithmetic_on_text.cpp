// expect: pgorm: arithmetic \(\+ - \* / %\) applies to numeric expressions only
#include "pgorm/query.hpp"
#include "support/schema.hpp"

auto e = pgorm::col<&qt::User::email> + 1;
