// expect: pgorm: this foreign key does not link the included table to the parent table
#include "pgorm/query.hpp"
#include "pgorm/query/include.hpp"
#include "support/relations_schema.hpp"

// rt_session.user_id references rt_user, not rt_conversation.
auto q = pgorm::select<rt::Conversation>().include(pgorm::rel<&rt::Session::user_id>);
