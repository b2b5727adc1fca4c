// expect: pgorm: every CASE branch must have the same SQL type as the first one
#include "pgorm/query.hpp"
#include "pgorm/query/case.hpp"
#include "support/schema.hpp"

// age is an integer, email is text: the branches have different SQL types.
auto e = pgorm::case_when(pgorm::col<&qt::User::age> > 18, pgorm::col<&qt::User::age>)
             .else_(pgorm::col<&qt::User::email>);
