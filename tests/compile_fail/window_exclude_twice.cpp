// expect: pgorm: the frame's EXCLUDE clause was already set
#include "pgorm/query.hpp"
#include "pgorm/query/window.hpp"
#include "support/schema.hpp"

// One EXCLUDE clause per frame.
auto w = pgorm::window()
             .order_by(pgorm::col<&qt::Account::id>)
             .rows_between(pgorm::unbounded_preceding, pgorm::current_row)
             .exclude_ties()
             .exclude_group();
