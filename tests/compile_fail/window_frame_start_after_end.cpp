// expect: pgorm: a window frame starts after its end
#include "pgorm/query.hpp"
#include "pgorm/query/window.hpp"
#include "support/schema.hpp"

// following then preceding: the frame's start comes after its end.
auto w = pgorm::window()
             .order_by(pgorm::col<&qt::Account::id>)
             .rows_between(pgorm::following<1>, pgorm::preceding<1>);
