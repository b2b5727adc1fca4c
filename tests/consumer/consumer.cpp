// SPDX-License-Identifier: MIT
// The program every consumer project in tests/consumer builds: it starts a throwaway server
// (pgorm::testing), runs one parameterized query through pgorm::connection, catches a typed
// server error and prints
//   pgorm consumer <kind>: 41 + 1 = 42 on PostgreSQL <major>
//   pgorm consumer <kind>: library <version>, caught unique_violation on consumer_t_pkey
// which tests/consumer/run.sh looks for. PGORM_CONSUMER_KIND names the way pgorm was found.
// Against a shared libpgorm, the catch needs the exception classes' type information exported
// (PGORM_API), and the version check that the program loaded the library of its headers.
#include <exception>
#include <iostream>
#include <string>

#include <pgorm/pgorm.hpp>
#include <pgorm/testing/server.hpp>
#include <pgorm/version.hpp>

#ifndef PGORM_CONSUMER_KIND
#error "define PGORM_CONSUMER_KIND, e.g. -DPGORM_CONSUMER_KIND=\"pkg-config\""
#endif

namespace {

// Compiles cleanly with the consumer's flags (none), but warns under -Wconversion and
// -Wold-style-cast: pgorm's warning flags must stay on pgorm's own targets.
int truncate(double value) { return (int)value; }

}  // namespace

int main() {
  try {
    pgorm::testing::server pg;
    pgorm::connection db{pg.conninfo()};
    const auto rows = db.exec("select $1::int + 1", {pgorm::param::text("41")});
    std::cout << "pgorm consumer " << PGORM_CONSUMER_KIND << ": 41 + 1 = " << rows.value(0, 0)
              << " on PostgreSQL " << truncate(db.server_version() / 10000.0) << '\n';
    if (std::string(rows.value(0, 0)) != "42") return 1;

    if (pgorm::library_version() != PGORM_VERSION_STRING) {
      std::cerr << "pgorm consumer: headers " << PGORM_VERSION_STRING << ", library "
                << pgorm::library_version() << '\n';
      return 1;
    }
    db.exec("create temporary table consumer_t (id int primary key)");
    db.exec("insert into consumer_t values (1)");
    try {
      db.exec("insert into consumer_t values (1)");
      std::cerr << "pgorm consumer: a duplicate key was accepted\n";
      return 1;
    } catch (const pgorm::unique_violation& e) {
      std::cout << "pgorm consumer " << PGORM_CONSUMER_KIND << ": library "
                << pgorm::library_version() << ", caught unique_violation on " << e.constraint()
                << '\n';
    }
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "pgorm consumer " << PGORM_CONSUMER_KIND << " failed: " << e.what() << '\n';
    return 1;
  }
}
