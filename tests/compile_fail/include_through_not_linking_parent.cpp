// expect: pgorm: the join table does not link the parent table: the first column of rel_through
#include "pgorm/query.hpp"
#include "pgorm/query/include.hpp"
#include "support/relations_schema.hpp"

// The columns in the wrong order: group_id references rt_group, not the parent rt_user.
auto q = pgorm::select<rt::User>().include(
    pgorm::rel_through<&rt::Membership::group_id, &rt::Membership::user_id>);
