// SPDX-License-Identifier: MIT
// expect: pgorm: with_recursive<P>\(\) takes start.union_all\(step\)
#include <cstdint>

#include "pgorm/query.hpp"
#include "support/schema.hpp"

struct Reach {
  std::int64_t id;
};
using pgorm::col;
auto q = pgorm::select<Reach>().with_recursive<Reach>(pgorm::select(col<&qt::User::id>));
