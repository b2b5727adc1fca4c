// expect: pgorm: over\(\) takes an aggregate call such as pgorm::sum\(e\)
#include "pgorm/query.hpp"
#include "pgorm/query/window.hpp"
#include "support/schema.hpp"

// A plain column is not computed over a window.
auto e = pgorm::over(pgorm::col<&qt::User::age>, pgorm::window());
