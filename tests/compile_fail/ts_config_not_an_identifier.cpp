// expect: pgorm: a text search configuration is a lowercase SQL identifier
#include "pgorm/query.hpp"
#include "pgorm/query/text_search.hpp"
#include "support/schema.hpp"

auto e = pgorm::to_tsvector<"english'); --">(pgorm::col<&qt::User::email>);
