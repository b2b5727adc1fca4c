// expect: pgorm: the join table links the parent table to several tables; name the two columns
#include "pgorm/query.hpp"
#include "pgorm/query/include.hpp"
#include "support/relations_schema.hpp"

// rt_message references its conversation, and users twice (sender, reply-to): which side?
auto q = pgorm::select<rt::Conversation>().include(pgorm::rel_via<rt::Message>);
