// expect: pgorm: skip_locked\(\) goes after for_update\(\) or for_share\(\)
#include "pgorm/query.hpp"
#include "support/schema.hpp"

auto q = pgorm::select<qt::Session>().skip_locked();
