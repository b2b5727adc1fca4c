// expect: pgorm: like\(\)/ilike\(\) apply to text expressions only
#include "pgorm/query.hpp"
#include "support/schema.hpp"

auto c = pgorm::col<&qt::User::age>.like("4%");
