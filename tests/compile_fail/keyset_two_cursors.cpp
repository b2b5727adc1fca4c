// expect: pgorm: the query already has a cursor
#include <cstdint>
#include <tuple>

#include "pgorm/query.hpp"
#include "support/schema.hpp"

auto q = pgorm::select<qt::User>()
             .order_by(pgorm::col<&qt::User::id>)
             .after(std::tuple<std::int64_t>{1})
             .before(std::tuple<std::int64_t>{9});
