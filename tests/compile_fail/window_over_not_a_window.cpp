// expect: pgorm: over\(\) takes a window: pgorm::window\(\)
#include "pgorm/query/window.hpp"

#include "pgorm/query.hpp"
#include "support/schema.hpp"

// over() takes pgorm::window()..., not the column to order by.
auto e = pgorm::row_number().over(pgorm::col<&qt::User::age>);
