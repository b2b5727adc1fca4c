// expect: pgorm: the offset of rows_between\(\) and groups_between\(\) counts rows or peer groups
#include "pgorm/query.hpp"
#include "pgorm/query/window.hpp"
#include "support/schema.hpp"

// ROWS counts rows: 1.5 rows is not an offset.
auto q = pgorm::select(pgorm::over(pgorm::count(),
                                   pgorm::window()
                                       .order_by(pgorm::col<&qt::Account::id>)
                                       .rows_between(pgorm::preceding_by(1.5), pgorm::current_row)))
             .to_sql();
