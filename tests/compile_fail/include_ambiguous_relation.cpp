// expect: pgorm: more than one foreign key links these tables
#include "pgorm/query.hpp"
#include "pgorm/query/include.hpp"
#include "support/relations_schema.hpp"

// Two foreign keys of rt_message reference rt_user (sender_id, reply_to_id): name one.
auto q = pgorm::select<rt::Message>().include<rt::User>();
