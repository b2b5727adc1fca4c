// expect: pgorm: && and \|\| combine boolean conditions
#include "pgorm/query.hpp"
#include "support/schema.hpp"

using pgorm::col;
auto c = col<&qt::User::age> && col<&qt::User::id> == 1;
