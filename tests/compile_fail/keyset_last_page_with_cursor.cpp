// expect: pgorm: last_page\(\) starts from the end of the order
#include <cstdint>
#include <tuple>

#include "pgorm/pgorm.hpp"
#include "support/schema.hpp"

auto f(pgorm::connection& conn) {
  return pgorm::select<qt::User>()
      .order_by(pgorm::col<&qt::User::id>)
      .after(std::tuple<std::int64_t>{1})
      .last_page(conn, 20);
}
