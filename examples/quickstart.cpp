#include <iostream>

#include <pgorm/pgorm.hpp>
#include <pgorm/testing/server.hpp>

int main() {
  pgorm::testing::server pg;  // a throwaway PostgreSQL; in an application, pass your own URL
  pgorm::connection db{pg.conninfo()};

  db.exec("create table users (id bigint generated always as identity, email text unique)");
  db.exec("insert into users (email) values ($1)", {pgorm::param::text("ada@example.com")});
  try {
    db.exec("insert into users (email) values ($1)", {pgorm::param::text("ada@example.com")});
  } catch (const pgorm::unique_violation& e) {
    std::cout << "already registered: " << e.constraint() << '\n';
  }

  auto rows = db.exec("select id, email from users where email like $1",
                      {pgorm::param::text("%@example.com")});
  for (int i = 0; i < rows.rows(); ++i) {
    std::cout << rows.value(i, 0) << ' ' << rows.value(i, 1) << '\n';
  }
}
