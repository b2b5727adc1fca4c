// expect: pgorm: rel_through<&J::to_parent, &J::to_related> takes two different columns
#include "pgorm/query.hpp"
#include "pgorm/query/include.hpp"
#include "support/relations_schema.hpp"

// One column twice: the join table's rows would link each user to themselves.
auto q = pgorm::select<rt::User>().include(
    pgorm::rel_through<&rt::Membership::user_id, &rt::Membership::user_id>);
