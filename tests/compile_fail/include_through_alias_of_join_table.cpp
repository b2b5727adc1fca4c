// expect: pgorm: the related rows must go by another name than the join table
#include "pgorm/query.hpp"
#include "pgorm/query/include.hpp"
#include "support/relations_schema.hpp"

// The groups under the join table's own name: its columns and theirs would be mixed up.
auto q = pgorm::select<rt::User>().include(
    pgorm::rel_through<&rt::Membership::user_id, &rt::Membership::group_id, "rt_membership">);
