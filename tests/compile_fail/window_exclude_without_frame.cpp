// expect: pgorm: exclude_current_row\(\), exclude_group\(\), exclude_ties\(\) and
#include "pgorm/query.hpp"
#include "pgorm/query/window.hpp"
#include "support/schema.hpp"

// EXCLUDE is part of a frame clause: there is none yet.
auto w = pgorm::window().order_by(pgorm::col<&qt::Account::id>).exclude_current_row();
