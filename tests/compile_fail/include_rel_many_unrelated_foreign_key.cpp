// expect: pgorm: this foreign key does not link the included table to the parent table
#include "pgorm/query.hpp"
#include "pgorm/query/include.hpp"
#include "support/relations_schema.hpp"

// rt_message.conversation_id references rt_conversation, not rt_user.
auto q = pgorm::select<rt::User>().include(pgorm::rel_many<&rt::Message::conversation_id>);
