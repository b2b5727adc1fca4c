// SPDX-License-Identifier: MIT
// The program every consumer project in tests/consumer builds: it starts a throwaway server
// (pgorm::testing), runs one parameterized query through pgorm::connection and prints
//   pgorm consumer <kind>: 41 + 1 = 42 on PostgreSQL <major>
// which tests/consumer/run.sh looks for. PGORM_CONSUMER_KIND names the way pgorm was found.
#include <exception>
#include <iostream>
#include <string>

#include <pgorm/pgorm.hpp>
#include <pgorm/testing/server.hpp>

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
    return std::string(rows.value(0, 0)) == "42" ? 0 : 1;
  } catch (const std::exception& e) {
    std::cerr << "pgorm consumer " << PGORM_CONSUMER_KIND << " failed: " << e.what() << '\n';
    return 1;
  }
}
