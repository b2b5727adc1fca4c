// expect: pgorm: keyset pagination reads the cursor from each row: select a struct
#include "pgorm/pgorm.hpp"
#include "support/schema.hpp"

auto f(pgorm::connection& conn) {
  return pgorm::select(pgorm::col<&qt::User::id>)
      .order_by(pgorm::col<&qt::User::id>)
      .page(conn, 20);
}
