// SPDX-License-Identifier: MIT
// The users/sessions demo that `./dev demo` runs: the job the seed apps do with Prisma, Drizzle
// and Better Auth, done with pgorm. It connects to $DATABASE_URL (working in its own schema,
// pgorm_demo, which it recreates) or to a throwaway server it starts, applies the migration,
// and prints a transcript. Any failure exits non-zero.
#include <chrono>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include <fmt/chrono.h>
#include <fmt/format.h>

#include "pgorm/pgorm.hpp"
#include "pgorm/testing/server.hpp"
#include "schema.hpp"

#ifndef PGORM_DEMO_MIGRATIONS
#define PGORM_DEMO_MIGRATIONS "migrations"
#endif

namespace {

using namespace std::chrono_literals;
using auth::Account;
using auth::Session;
using auth::User;
using auth::Verification;
using auth::Waitlist;
using pgorm::col;

constexpr std::string_view demo_schema = "pgorm_demo";
constexpr auto session_lifetime = std::chrono::days(7);
constexpr auto session_update_age = std::chrono::days(1);  // Better Auth's updateAge

void step(std::string_view title) { fmt::print("\n== {}\n", title); }

[[noreturn]] void fail(const std::string& why) { throw std::runtime_error("demo: " + why); }

std::string random_token() {
  static std::mt19937_64 rng{std::random_device{}()};
  return fmt::format("{:016x}{:016x}", rng(), rng());
}

pgorm::timestamptz now() {
  return std::chrono::time_point_cast<std::chrono::microseconds>(std::chrono::system_clock::now());
}

// conninfo with every session's search_path set to the demo schema.
std::string in_schema(const std::string& conninfo) {
  if (conninfo.starts_with("postgres://") || conninfo.starts_with("postgresql://")) {
    const char sep = conninfo.find('?') == std::string::npos ? '?' : '&';
    return fmt::format("{}{}options=-csearch_path%3D{}", conninfo, sep, demo_schema);
  }
  return fmt::format("{} options='-csearch_path={}'", conninfo, demo_schema);
}

// ---- the application's operations ---------------------------------------------------------------

enum class signup_result { created, already_registered };

signup_result sign_up(pgorm::pool& db, const std::string& email, const std::string& name) {
  try {
    db.insert(User{.id = "usr_" + random_token().substr(0, 12), .email = email, .name = name})
        .exec();
    return signup_result::created;
  } catch (const pgorm::unique_violation& e) {
    if (e.constraint() == "user_email_key") return signup_result::already_registered;
    throw;
  }
}

Session log_in(pgorm::pool& db, const std::string& email, std::string ip, std::string agent) {
  const auto user = db.select<User>().where(col<&User::email> == email).one();
  return db
      .insert(Session{.id = "ses_" + random_token().substr(0, 12),
                      .user_id = user.id,
                      .token = random_token(),
                      .expires_at = now() + session_lifetime,
                      .ip_address = std::move(ip),
                      .user_agent = std::move(agent)})
      .returning_all()
      .one();
}

/// The session and its user, when the token is valid; refreshes expires_at when the session
/// was last refreshed more than a day ago.
std::optional<std::tuple<Session, User>> validate(pgorm::pool& db, const std::string& token) {
  auto found = db.select<Session, User>()
                   .join<User>(col<&Session::user_id> == col<&User::id>)
                   .where(col<&Session::token> == token && col<&Session::expires_at> > pgorm::now())
                   .first();
  if (!found) return std::nullopt;
  auto& [session, user] = *found;
  if (now() - session.updated_at.value() > session_update_age) {
    session = db.update<Session>()
                  .set(col<& Session::expires_at> = now() + session_lifetime,
                       col<& Session::updated_at> = pgorm::now())
                  .where(col<&Session::id> == session.id)
                  .returning_all()
                  .one();
    fmt::print("  refreshed: the session was older than a day, it now expires {:%F %R} UTC\n",
               session.expires_at);
  }
  return found;
}

enum class waitlist_result { joined, conflict };

waitlist_result join_waitlist(pgorm::pool& db, const std::string& email, std::string role) {
  const auto id = db.insert(Waitlist{.email = email, .role = std::move(role)})
                      .on_conflict(col<&Waitlist::email>)
                      .do_nothing()
                      .returning(col<&Waitlist::id>)
                      .first();
  return id ? waitlist_result::joined : waitlist_result::conflict;
}

std::vector<User> find_users(pgorm::pool& db, std::optional<std::string> name_contains,
                             std::optional<bool> verified, std::optional<std::string> domain) {
  pgorm::filter<User> f;
  if (name_contains) f &= col<&User::name>.ilike(pgorm::contains(*name_contains));
  if (verified) f &= col<&User::email_verified> == *verified;
  if (domain) f &= col<&User::email>.like(pgorm::ends_with("@" + *domain));
  return db.select<User>().where(f).order_by(col<&User::email>).all();
}

// ---- the transcript -----------------------------------------------------------------------------

void run(const std::string& conninfo, const std::filesystem::path& migrations) {
  {
    pgorm::connection admin{conninfo, {.connect_timeout = 10s}};
    fmt::print("connected to PostgreSQL {}.{} ({})\n", admin.server_version() / 10000,
               admin.server_version() % 10000, admin.description());
    admin.exec(fmt::format("drop schema if exists {0} cascade; create schema {0}", demo_schema));
  }
  pgorm::pool db{in_schema(conninfo), {.max_size = 4, .acquire_timeout = 10s}};

  step("migrate");
  db.with_connection([&](pgorm::connection& c) {
    for (const auto& m : pgorm::migrate::apply(c, migrations)) {
      fmt::print("  applied {} ({} ms)\n", m.file, m.duration.count());
    }
    const auto drift = pgorm::schema::diff<User, Session, Account, Verification, Waitlist>(c);
    if (!drift.in_sync()) fail("the structs and the migrated schema differ:\n" + drift.report());
    fmt::print("  schema::diff: the structs match the database\n");
  });

  step("sign up");
  for (const auto& [email, name] : {std::pair{"ada@example.com", "Ada Lovelace"},
                                    std::pair{"grace@example.com", "Grace Hopper"},
                                    std::pair{"alan@example.org", "Alan Turing"}}) {
    if (sign_up(db, email, name) != signup_result::created) fail("sign-up failed");
    fmt::print("  {} signed up\n", email);
  }
  if (sign_up(db, "ada@example.com", "Ada again") != signup_result::already_registered) {
    fail("a duplicate e-mail was accepted");
  }
  fmt::print("  ada@example.com again: already registered (unique_violation on user_email_key)\n");
  db.update<User>()
      .set(col<& User::email_verified> = true)
      .where(col<&User::email> == "ada@example.com")
      .exec();

  step("log in");
  const Session s1 = log_in(db, "ada@example.com", "203.0.113.7", "Firefox/129 (Linux)");
  fmt::print("  session {} for {}: token {}..., expires {:%F %R} UTC, ip {}, agent {}\n", s1.id,
             s1.user_id, s1.token.substr(0, 8), s1.expires_at, s1.ip_address.value_or("-"),
             s1.user_agent.value_or("-"));

  step("validate a token");
  const auto valid = validate(db, s1.token);
  if (!valid) fail("a fresh session did not validate");
  fmt::print("  token {}... belongs to {} <{}>\n", s1.token.substr(0, 8),
             std::get<1>(*valid).name.value_or("?"), std::get<1>(*valid).email);
  // A session last refreshed two days ago gets a new expiry when it is used.
  const Session old = log_in(db, "ada@example.com", "198.51.100.4", "Safari/17");
  db.update<Session>()
      .set(col<& Session::updated_at> = now() - std::chrono::days(2),
           col<& Session::expires_at> = now() + std::chrono::days(5))
      .where(col<&Session::id> == old.id)
      .exec();
  const auto refreshed = validate(db, old.token);
  if (!refreshed || std::get<0>(*refreshed).expires_at < now() + std::chrono::days(6)) {
    fail("an old session was not refreshed");
  }
  if (validate(db, "no-such-token")) fail("an unknown token validated");
  fmt::print("  an unknown token: rejected\n");

  step("list Ada's sessions, two per page (keyset pagination)");
  for (int i = 0; i < 3; ++i) log_in(db, "ada@example.com", "192.0.2.1", fmt::format("cli/{}", i));
  const auto ada = db.select<User>().where(col<&User::email> == "ada@example.com").one();
  const auto sessions = db.select<Session>()
                            .where(col<&Session::user_id> == ada.id)
                            .order_by(col<&Session::created_at>.desc(), col<&Session::id>.desc());
  int page_no = 1;
  std::size_t listed = 0;
  auto page = sessions.page(2);
  while (true) {
    for (const Session& s : page.rows) {
      fmt::print("  page {}: {} {}\n", page_no, s.id, s.user_agent.value_or("-"));
      ++listed;
    }
    if (!page.next) break;
    page = sessions.after(*page.next).page(2);
    ++page_no;
  }
  if (listed != 5) fail(fmt::format("expected 5 sessions, listed {}", listed));

  step("revoke a session; delete expired ones");
  const auto revoked = db.remove<Session>().where(col<&Session::token> == s1.token).exec();
  fmt::print("  revoked {} session(s); its token no longer validates: {}\n", revoked,
             validate(db, s1.token) ? "FAIL" : "ok");
  db.update<Session>()
      .set(col<& Session::expires_at> = now() - 1h)
      .where(col<&Session::id> == old.id)
      .exec();
  const auto expired = db.remove<Session>().where(col<&Session::expires_at> <= pgorm::now()).exec();
  fmt::print("  deleted {} expired session(s)\n", expired);
  if (revoked != 1 || expired != 1) fail("revoke/expire removed the wrong sessions");

  step("waitlist");
  for (const auto* email : {"linus@example.net", "margaret@example.net", "linus@example.net"}) {
    const auto r = join_waitlist(db, email, "beta");
    fmt::print("  {}: {}\n", email,
               r == waitlist_result::joined ? "201 Created" : "409 Conflict (already waiting)");
  }

  step("look users up with a dynamic filter");
  for (const auto& u : find_users(db, "a", std::nullopt, "example.com")) {
    fmt::print("  name ~ 'a', @example.com: {} ({})\n", u.email, u.name.value_or("-"));
  }
  const auto verified = find_users(db, std::nullopt, true, std::nullopt);
  fmt::print("  verified: {} user(s)\n", verified.size());
  if (verified.size() != 1) fail("the verified filter is wrong");

  step("import 10,000 users with COPY, in a transaction");
  std::vector<User> imported;
  imported.reserve(10'000);
  for (int i = 0; i < 10'000; ++i) {
    imported.push_back(User{.id = fmt::format("imp_{:05}", i),
                            .email = fmt::format("user{:05}@import.example", i),
                            .name = fmt::format("Imported {}", i),
                            .email_verified = i % 2 == 0,
                            .created_at = now(),
                            .updated_at = now()});
  }
  const auto start = std::chrono::steady_clock::now();
  const auto written =
      db.transaction([&](pgorm::transaction& tx) { return pgorm::copy_in(tx.conn(), imported); });
  const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - start);
  const auto total = std::get<0>(db.select(pgorm::count()).from<User>().one());
  fmt::print("  copied {} rows in {} ms; {} users in all\n", written, took.count(), total);
  if (written != 10'000 || total != 10'003) fail("the import lost rows");

  const auto stats = db.stats();
  fmt::print("\npool: {} connection(s) opened, {} acquires, {} timeouts\n", stats.total_opened,
             stats.total_acquired, stats.total_timeouts);
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const std::filesystem::path migrations = argc > 1 ? argv[1] : PGORM_DEMO_MIGRATIONS;
    std::unique_ptr<pgorm::testing::server> throwaway;
    std::string conninfo;
    if (const char* url = std::getenv("DATABASE_URL"); url != nullptr && *url != '\0') {
      conninfo = url;
      fmt::print("using DATABASE_URL (the demo works in schema {})\n", demo_schema);
    } else {
      fmt::print("DATABASE_URL is not set: starting a throwaway PostgreSQL server\n");
      throwaway = std::make_unique<pgorm::testing::server>();
      conninfo = throwaway->conninfo();
    }
    run(conninfo, migrations);
    fmt::print("\ndemo finished\n");
    return EXIT_SUCCESS;
  } catch (const std::exception& e) {
    fmt::print(stderr, "demo failed: {}\n", e.what());
    return EXIT_FAILURE;
  }
}
