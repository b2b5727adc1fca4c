// SPDX-License-Identifier: MIT
// The users/sessions demo, run by `./dev demo`: connects to $DATABASE_URL, or to a throwaway
// server it starts itself, creates the tables, signs a user up, opens a session, and reads both
// back. It exits non-zero on any failure.
#include <cstdlib>
#include <exception>
#include <memory>
#include <optional>
#include <string>

#include <fmt/format.h>

#include "pgorm/connection.hpp"
#include "pgorm/testing/server.hpp"

namespace {

void run(pgorm::connection& db) {
  fmt::print("connected: PostgreSQL {}.{}\n", db.server_version() / 10000,
             db.server_version() % 10000);

  db.exec(R"(
    create table if not exists "user" (
      id text primary key,
      email text not null unique,
      name text,
      email_verified boolean not null default false,
      created_at timestamptz not null default now()
    );
    create table if not exists session (
      id bigint generated always as identity primary key,
      user_id text not null references "user"(id) on delete cascade,
      token text not null unique,
      expires_at timestamptz not null,
      ip_address text,
      user_agent text
    ))");
  db.exec("delete from \"user\" where email = 'ada@example.com'");

  // Sign-up: values always travel as $n parameters, never inside the SQL text.
  db.exec(R"(insert into "user" (id, email, name) values ($1, $2, $3))",
          {pgorm::param::text("usr_ada"), pgorm::param::text("ada@example.com"),
           pgorm::param::text("Ada Lovelace")});
  fmt::print("signed up ada@example.com\n");

  // A second sign-up with the same e-mail is a typed error the application can branch on.
  try {
    db.exec(R"(insert into "user" (id, email) values ($1, $2))",
            {pgorm::param::text("usr_other"), pgorm::param::text("ada@example.com")});
    throw std::runtime_error("the duplicate sign-up was accepted");
  } catch (const pgorm::unique_violation& e) {
    fmt::print("duplicate sign-up refused: already registered (constraint {})\n", e.constraint());
  }

  // Log in: a session that expires in 7 days.
  auto created = db.exec(R"(
      insert into session (user_id, token, expires_at, ip_address, user_agent)
      values ($1, $2, now() + interval '7 days', $3, $4)
      returning id, expires_at)",
                         {pgorm::param::text("usr_ada"), pgorm::param::text("tok_4f9a"),
                          pgorm::param::text("203.0.113.7"), pgorm::param::text("demo/1.0")});
  fmt::print("session {} expires at {}\n", created.value(0, 0), created.value(0, 1));

  // Validate the token: the session joined to its user, and not expired.
  auto rows = db.exec(R"(
      select u.email, u.name, s.ip_address, s.user_agent
        from session s join "user" u on u.id = s.user_id
       where s.token = $1 and s.expires_at > now())",
                      {pgorm::param::text("tok_4f9a")});
  if (rows.rows() != 1) throw std::runtime_error("the new session did not validate");
  fmt::print("token tok_4f9a belongs to {} <{}> (ip {}, agent {})\n", rows.value(0, 1),
             rows.value(0, 0), rows.value(0, 2), rows.value(0, 3));
}

}  // namespace

int main() {
  try {
    std::unique_ptr<pgorm::testing::server> throwaway;
    std::string conninfo;
    if (const char* url = std::getenv("DATABASE_URL"); url != nullptr && *url != '\0') {
      conninfo = url;
    } else {
      fmt::print("DATABASE_URL is not set: starting a throwaway PostgreSQL server\n");
      throwaway = std::make_unique<pgorm::testing::server>();
      conninfo = throwaway->conninfo();
    }
    pgorm::connection db{conninfo, {.connect_timeout = std::chrono::seconds(5)}};
    run(db);
    fmt::print("demo finished\n");
    return EXIT_SUCCESS;
  } catch (const std::exception& e) {
    fmt::print(stderr, "demo failed: {}\n", e.what());
    return EXIT_FAILURE;
  }
}
