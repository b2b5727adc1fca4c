// expect: pgorm: keyset pagination orders by columns, not computed expressions
#include "pgorm/pgorm.hpp"
#include "support/schema.hpp"

auto f(pgorm::connection& conn) {
  return pgorm::select<qt::User>()
      .order_by(pgorm::lower(pgorm::col<&qt::User::email>))
      .page(conn, 20);
}
