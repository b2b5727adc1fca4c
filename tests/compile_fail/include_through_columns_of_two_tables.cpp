// expect: pgorm: both columns of rel_through<&J::to_parent, &J::to_related> are of the join table
#include "pgorm/query.hpp"
#include "pgorm/query/include.hpp"
#include "support/relations_schema.hpp"

// The second column is of another table than the first: no join table links them.
auto q = pgorm::select<rt::User>().include(
    pgorm::rel_through<&rt::Membership::user_id, &rt::Session::user_id>);
