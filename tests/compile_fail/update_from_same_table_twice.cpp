// SPDX-License-Identifier: MIT
// expect: pgorm: this table is already in the statement; name it again under an alias
#include "pgorm/query.hpp"
#include "support/schema.hpp"

using pgorm::col;
auto q = pgorm::update<qt::Session>().from<qt::User>().from<qt::User>();
