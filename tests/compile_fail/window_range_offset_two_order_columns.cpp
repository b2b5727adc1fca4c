// expect: pgorm: range_between\(\) with preceding<n> or following<n> needs a window ordered by
// exactly one column
#include "pgorm/query.hpp"
#include "pgorm/query/window.hpp"
#include "support/schema.hpp"

// RANGE offsets compare one ORDER BY value; two columns have no single value to offset.
auto q = pgorm::select(pgorm::over(
    pgorm::count(), pgorm::window()
                        .order_by(pgorm::col<&qt::Account::user_id>, pgorm::col<&qt::Account::id>)
                        .range_between(pgorm::preceding<5>, pgorm::current_row)));
auto text = decltype(q)::sql();
