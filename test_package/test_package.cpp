// SPDX-License-Identifier: MIT
// Conan's test_package program: pgorm links and works without a server. It checks that the
// library it runs with has the headers' version, renders a query's SQL, and catches a
// connection failure as pgorm's typed exception (which a shared libpgorm must export).
#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <string>

#include <pgorm/pgorm.hpp>
#include <pgorm/version.hpp>

struct Item {
  std::int64_t id = 0;
  std::string name;
};

template <>
struct pgorm::table_traits<Item> {
  static constexpr std::string_view name = "items";
  static constexpr auto primary_key = pgorm::identity(&Item::id);
};

int main() {
  if (pgorm::library_version() != PGORM_VERSION_STRING) {
    std::cerr << "test_package: headers " << PGORM_VERSION_STRING << ", library "
              << pgorm::library_version() << '\n';
    return EXIT_FAILURE;
  }
  const std::string sql = pgorm::select<Item>().where(pgorm::col<&Item::name> == "x").to_sql().sql;
  try {
    // A Unix socket directory that does not exist: fails at once, without any network.
    pgorm::connection db{"host=/nonexistent/pgorm-test-package dbname=none connect_timeout=2"};
    std::cerr << "test_package: connected to a server that cannot exist\n";
    return EXIT_FAILURE;
  } catch (const pgorm::connection_error&) {
    std::cout << "pgorm " << pgorm::library_version() << ": " << sql
              << "; no server: connection_error\n";
  }
  return EXIT_SUCCESS;
}
