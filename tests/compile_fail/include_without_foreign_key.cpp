// expect: pgorm: include<T>\(\) needs a foreign key between T and the parent table
#include "pgorm/query.hpp"
#include "pgorm/query/include.hpp"
#include "support/relations_schema.hpp"

// rt_tag has no foreign key to or from rt_user.
auto q = pgorm::select<rt::User>().include<rt::Tag>();
