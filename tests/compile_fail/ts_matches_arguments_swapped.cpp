// expect: pgorm: matches\(\) takes a tsvector \(a pgorm::tsvector column, pgorm::to_tsvector\) and
#include "pgorm/query.hpp"
#include "pgorm/query/text_search.hpp"
#include "support/schema.hpp"

// The query comes second: tsquery @@ tsvector is not what matches() spells.
auto e = pgorm::matches(pgorm::websearch_to_tsquery<"english">("ada"),
                        pgorm::to_tsvector<"english">(pgorm::col<&qt::User::email>));
