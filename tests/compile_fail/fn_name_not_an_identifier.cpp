// expect: pgorm: a function name must be a lowercase SQL identifier
#include "pgorm/query.hpp"
#include "pgorm/query/functions.hpp"
#include "support/schema.hpp"

// A name that is not an identifier (here, SQL text) is refused at compile time.
auto e = pgorm::fn<"lower(email); --", std::string>(pgorm::col<&qt::User::email>);
