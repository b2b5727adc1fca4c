// expect: pgorm: case_when\(\) and when\(\) take a boolean condition first
#include "pgorm/query.hpp"
#include "pgorm/query/case.hpp"
#include "support/schema.hpp"

// age is an integer, not a condition.
auto e = pgorm::case_when(pgorm::col<&qt::User::age>, 1);
