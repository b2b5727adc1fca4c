// expect: pgorm: the join table does not link the parent table: rel_via<J> needs a foreign key
#include "pgorm/query.hpp"
#include "pgorm/query/include.hpp"
#include "support/relations_schema.hpp"

// rt_membership links users and groups; rt_tag is neither.
auto q = pgorm::select<rt::Tag>().include(pgorm::rel_via<rt::Membership>);
