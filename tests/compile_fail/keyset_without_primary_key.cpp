// expect: pgorm: keyset pagination needs a total order, ended by the table's primary key
#include <cstdint>
#include <string>

#include "pgorm/pgorm.hpp"

struct note {
  std::int64_t id;
  std::string text;
};

auto f(pgorm::connection& conn) {
  return pgorm::select<note>().order_by(pgorm::col<&note::id>).page(conn, 20);
}
