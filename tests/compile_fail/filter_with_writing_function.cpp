// expect: pgorm: a filter cannot hold a call of a function that may change data
#include "pgorm/query.hpp"
#include "pgorm/query/functions.hpp"
#include "support/schema.hpp"

// A run-time filter does not carry whether its conditions write, so a call of a function that
// may write (any fn<> name not known to be read-only) is refused: its select would be a read.
void f() {
  pgorm::filter<qt::User> where;
  where &= pgorm::fn<"app.touch", std::int64_t>(pgorm::col<&qt::User::id>) > 0;
}
