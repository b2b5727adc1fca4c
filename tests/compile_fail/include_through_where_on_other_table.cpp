// expect: pgorm: a many-to-many include\(\).s where\(\) and order_by\(\) use columns of the
#include "pgorm/query.hpp"
#include "pgorm/query/include.hpp"
#include "support/relations_schema.hpp"

// A session's column is neither the group's nor the membership's.
auto q = pgorm::select<rt::User>().include(
    pgorm::rel_through<&rt::Membership::user_id, &rt::Membership::group_id>.where(
        pgorm::col<&rt::Session::hits> > 1));
