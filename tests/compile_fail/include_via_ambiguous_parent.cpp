// expect: pgorm: the join table has several foreign keys to the parent table; name the two columns
#include "pgorm/query.hpp"
#include "pgorm/query/include.hpp"
#include "support/relations_schema.hpp"

// Both foreign keys of rt_follow reference rt_user: followers or followees?
auto q = pgorm::select<rt::User>().include(pgorm::rel_via<rt::Follow>);
