// expect: pgorm: after\(\) needs order_by\(\) first
#include "pgorm/query.hpp"
#include "support/schema.hpp"

auto q = pgorm::select<qt::User>().after(std::tuple<std::int64_t>{1});
