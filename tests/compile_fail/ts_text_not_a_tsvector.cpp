// expect: pgorm: ts_text\(\) takes a tsvector or tsquery expression
#include "pgorm/query.hpp"
#include "pgorm/query/text_search.hpp"
#include "support/schema.hpp"

// email is text already: ts_text() is for tsvector and tsquery values.
auto e = pgorm::ts_text(pgorm::col<&qt::User::email>);
