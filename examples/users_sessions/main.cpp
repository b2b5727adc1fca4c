// SPDX-License-Identifier: MIT
// The users/sessions demo that `./dev demo` runs: the seed app (seed 004: Better Auth's tables
// and a waitlist, used from Prisma and Drizzle) done with pgorm, step by step. Each step of the
// transcript names what it mirrors: a step of the seed app ("seed:"), a Better Auth flow the
// seed relies on ("Better Auth:"), or something pgorm adds ("pgorm:"). README.md maps them.
//
//   users_sessions                 run the demo: on $DATABASE_URL (in its own schema,
//                                  pgorm_demo, recreated each run) or on a throwaway server
//   users_sessions migrate VERB    the app's migrations CLI over its structs
//                                  (pgorm::migrate::main): generate, apply, status, check, ...
//
// The migrations are compiled into the program (pgorm_embed_migrations in CMake), so the
// binary needs no migrations directory. Any failure exits non-zero. The output is the same on
// every run (ids and tokens come from a fixed seed, no clock time is printed), apart from the
// server version and the COPY's duration.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <exception>
#include <memory>
#include <optional>
#include <random>
#include <stdexcept>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include <fmt/format.h>

#include "pgorm/migrate_cli.hpp"
#include "pgorm/pgorm.hpp"
#include "pgorm/testing/server.hpp"
#include "schema.hpp"
#include "seed.hpp"
#include "users_sessions_migrations.hpp"  // generated: users_sessions::migrations()

namespace {

using namespace std::chrono_literals;
using auth::Account;
using auth::Profile;
using auth::Session;
using auth::User;
using auth::Verification;
using auth::Waitlist;
using pgorm::col;

constexpr std::string_view demo_schema = "pgorm_demo";
using seed::session_lifetime;
using seed::session_update_age;
using seed::utc_now;
constexpr std::size_t sessions_per_page = 50;  // the seed's page size

void step(std::string_view title, std::string_view mirrors) {
  fmt::print("\n== {}  [{}]\n", title, mirrors);
}

[[noreturn]] void fail(const std::string& why) { throw std::runtime_error("demo: " + why); }

// Ids and tokens as Better Auth makes them (32 letters and digits), from a fixed seed so that
// the transcript is the same on every run; the schema is recreated each run, so they never
// collide with an earlier run's.
std::string random_id() {
  static std::mt19937_64 rng{20261207};
  static constexpr std::string_view alphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  std::string id(32, ' ');
  for (char& c : id) c = alphabet[rng() % alphabet.size()];
  return id;
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

// Better Auth's sign-up with an OAuth provider: the user and its account, in one transaction.
// A taken e-mail is the unique violation of "user"'s user_email_key.
signup_result sign_up(pgorm::pool& db, const std::string& email, const std::string& name,
                      const std::string& github_id) {
  try {
    db.transaction([&](pgorm::transaction& tx) {
      const auto now = utc_now();
      const User user{.id = random_id(),
                      .name = name,
                      .email = email,
                      .email_verified = true,  // GitHub verified it
                      .image = std::nullopt,
                      .created_at = now,
                      .updated_at = now};
      tx.insert(user).exec();
      tx.insert(Account{.id = random_id(),
                        .account_id = github_id,
                        .provider_id = "github",
                        .user_id = user.id,
                        .access_token = "gho_" + random_id(),
                        .refresh_token = std::nullopt,
                        .id_token = std::nullopt,
                        .access_token_expires_at = now + 8h,
                        .refresh_token_expires_at = std::nullopt,
                        .scope = "read:user,user:email",
                        .password = std::nullopt,
                        .created_at = now,
                        .updated_at = now})
          .exec();
    });
    return signup_result::created;
  } catch (const pgorm::unique_violation& e) {
    if (e.constraint() == "user_email_key") return signup_result::already_registered;
    throw;
  }
}

Session sign_in(pgorm::pool& db, const User& user, std::string ip, std::string agent) {
  const auto now = utc_now();
  return db
      .insert(Session{.id = random_id(),
                      .expires_at = now + session_lifetime,
                      .token = random_id(),
                      .created_at = now,
                      .updated_at = now,
                      .ip_address = std::move(ip),
                      .user_agent = std::move(agent),
                      .user_id = user.id})
      .returning_all()
      .one();
}

/// Better Auth's getSession: the session and its user when the token is valid and unexpired;
/// extends the session when it was last extended more than updateAge ago.
std::optional<std::tuple<Session, User>> get_session(pgorm::pool& db, const std::string& token) {
  auto found = db.select<Session, User>()
                   .join<User>(col<&Session::user_id> == col<&User::id>)
                   .where(col<&Session::token> == token && col<&Session::expires_at> > utc_now())
                   .first();
  if (!found) return std::nullopt;
  auto& session = std::get<0>(*found);
  if (utc_now() - session.updated_at > session_update_age) {
    session = db.update<Session>()
                  .set(col<& Session::expires_at> = utc_now() + session_lifetime,
                       col<& Session::updated_at> = utc_now())
                  .where(col<&Session::id> == session.id)
                  .returning_all()
                  .one();
    fmt::print("  extended: last extended over a day ago, it now expires in 7 days\n");
  }
  return found;
}

// The seed's waitlist endpoint: 201 when the e-mail joined, 409 when it was already there. The
// duplicate is the server's unique violation on waitlist_email_key (no ON CONFLICT DO NOTHING),
// matched on the constraint's name, so any other failure stays an error.
int join_waitlist(pgorm::pool& db, const std::string& email, std::string name, std::string source) {
  try {
    db.insert(Waitlist{.id = random_id(),
                       .email = email,
                       .name = std::move(name),
                       .source = std::move(source),
                       .created_at = {}})
        .exec();
    return 201;
  } catch (const pgorm::unique_violation& e) {
    if (e.constraint() == "waitlist_email_key") return 409;
    throw;
  }
}

std::int64_t count_sessions(pgorm::pool& db, const std::string& user_id) {
  return std::get<0>(
      db.select(pgorm::count()).from<Session>().where(col<&Session::user_id> == user_id).one());
}

std::int64_t count_accounts(pgorm::pool& db, const std::string& user_id) {
  return std::get<0>(
      db.select(pgorm::count()).from<Account>().where(col<&Account::user_id> == user_id).one());
}

// ---- the transcript -----------------------------------------------------------------------------

void run(const std::string& conninfo) {
  {
    pgorm::connection admin{conninfo, {.connect_timeout = 10s}};
    fmt::print("connected to PostgreSQL {}.{} ({})\n", admin.server_version() / 10000,
               admin.server_version() % 10000, admin.description());
    admin.exec(fmt::format("drop schema if exists {0} cascade; create schema {0}", demo_schema));
  }

  step("1. the pool", "seed: the database client, max 10, idle 30 s, connect 5 s");
  const pgorm::pool_options pool_options = seed::pool_options();
  pgorm::pool db{in_schema(conninfo), pool_options};
  fmt::print(
      "  pool: max {} connections, idle timeout {} s, connect timeout {} s\n",
      pool_options.max_size,
      std::chrono::duration_cast<std::chrono::seconds>(pool_options.idle_timeout).count(),
      std::chrono::duration_cast<std::chrono::seconds>(pool_options.connection.connect_timeout)
          .count());

  step("2. migrate", "seed: prisma migrate deploy / drizzle-kit migrate");
  db.with_connection([&](pgorm::connection& c) {
    const auto& migrations = users_sessions::migrations();
    for (const auto& m : pgorm::migrate::apply(c, migrations)) {
      fmt::print("  applied {} (embedded in the program)\n", m.file);
    }
    if (!pgorm::migrate::summarize(pgorm::migrate::status(c, migrations)).up_to_date()) {
      fail("migrate status: not up to date after apply");
    }
    fmt::print("  status: up to date\n");
    const auto drift = pgorm::schema::diff<User, Session, Account, Verification, Waitlist>(c);
    if (!drift.in_sync()) fail("the structs and the migrated schema differ:\n" + drift.report());
    fmt::print("  schema::diff: the structs match the database\n");
  });

  step("3. sign up", "Better Auth: sign-up with GitHub, user + account in one transaction");
  for (const auto& [email, name, github] :
       {std::tuple{"ada@example.com", "Ada Lovelace", "1815"},
        std::tuple{"grace@example.com", "Grace Hopper", "1906"},
        std::tuple{"alan@example.org", "Alan Turing", "1912"}}) {
    if (sign_up(db, email, name, github) != signup_result::created) fail("sign-up failed");
    fmt::print("  {} signed up\n", email);
  }
  if (sign_up(db, "ada@example.com", "Ada again", "9999") != signup_result::already_registered) {
    fail("a duplicate e-mail was accepted");
  }
  fmt::print("  ada@example.com again: already registered (unique_violation on user_email_key)\n");

  step("4. e-mail verification", "Better Auth: a verification row, used once");
  const auto alan = db.select<User>().where(col<&User::email> == "alan@example.org").one();
  db.update<User>()
      .set(col<& User::email_verified> = false)
      .where(col<&User::id> == alan.id)
      .exec();
  const std::string code = random_id();
  {
    const auto now = utc_now();
    db.insert(Verification{.id = random_id(),
                           .identifier = "email-verification:" + alan.email,
                           .value = code,
                           .expires_at = now + 1h,
                           .created_at = now,
                           .updated_at = now})
        .exec();
  }
  const auto used =
      db.remove<Verification>()
          .where(col<&Verification::identifier> == "email-verification:" + alan.email &&
                 col<&Verification::value> == code && col<&Verification::expires_at> > utc_now())
          .exec();
  if (used != 1) fail("the verification code was not found");
  db.update<User>()
      .set(col<& User::email_verified> = true, col<& User::updated_at> = utc_now())
      .where(col<&User::id> == alan.id)
      .exec();
  fmt::print("  {} verified its e-mail; the code is gone ({} row deleted)\n", alan.email, used);

  step("5. sign in and get the session", "seed: sign in; Better Auth: getSession");
  const auto ada = db.select<User>().where(col<&User::email> == "ada@example.com").one();
  const Session s1 = sign_in(db, ada, "203.0.113.7", "Firefox/129 (Linux)");
  fmt::print("  {} signed in: a session expiring in 7 days, ip {}, agent {}\n", ada.email,
             s1.ip_address.value_or("-"), s1.user_agent.value_or("-"));
  const auto valid = get_session(db, s1.token);
  if (!valid) fail("a fresh session did not validate");
  fmt::print("  its token belongs to {} <{}>\n", std::get<1>(*valid).name,
             std::get<1>(*valid).email);
  // A session last extended two days ago gets a new expiry when it is used.
  const Session old = sign_in(db, ada, "198.51.100.4", "Safari/17");
  db.update<Session>()
      .set(col<& Session::updated_at> = utc_now() - std::chrono::days(2),
           col<& Session::expires_at> = utc_now() + std::chrono::days(5))
      .where(col<&Session::id> == old.id)
      .exec();
  const auto extended = get_session(db, old.token);
  if (!extended || std::get<0>(*extended).expires_at < utc_now() + std::chrono::days(6)) {
    fail("an old session was not extended");
  }
  if (get_session(db, "no-such-token")) fail("an unknown token validated");
  fmt::print("  an unknown token: rejected\n");

  step("6. the profile", "seed: select only id, name and email");
  const auto profile_query = db.select<Profile>().from<User>().where(col<&User::id> == ada.id);
  const Profile profile = profile_query.one();
  fmt::print("  {}\n", profile_query.to_sql().sql);
  fmt::print("  {{ id: {}, name: {}, email: {} }}\n", profile.id, profile.name, profile.email);

  step("7. list the sessions, 50 per page, newest first", "seed: the sessions page");
  {
    // Ada signed in from 118 more devices, one a minute, over the last two hours.
    const auto now = utc_now();
    std::vector<Session> devices;
    for (int i = 1; i <= 118; ++i) {
      const auto at = now - std::chrono::minutes(i);
      devices.push_back(Session{.id = random_id(),
                                .expires_at = at + session_lifetime,
                                .token = random_id(),
                                .created_at = at,
                                .updated_at = at,
                                .ip_address = "192.0.2.1",
                                .user_agent = fmt::format("device {:03}", i),
                                .user_id = ada.id});
    }
    db.insert(devices).exec();
  }
  const auto total_sessions = count_sessions(db, ada.id);
  const auto sessions = db.select<Session>()
                            .where(col<&Session::user_id> == ada.id)
                            .order_by(col<&Session::created_at>.desc());  // id appended
  int page_no = 1;
  std::int64_t listed = 0;
  std::optional<pgorm::timestamp> previous;
  auto page = sessions.page(sessions_per_page);
  while (true) {
    for (const Session& s : page.rows) {
      if (previous && s.created_at > *previous) fail("the sessions are not newest first");
      previous = s.created_at;
    }
    listed += static_cast<std::int64_t>(page.rows.size());
    fmt::print("  page {}: {} sessions, from \"{}\" to \"{}\"{}\n", page_no, page.rows.size(),
               page.rows.front().user_agent.value_or("-"),
               page.rows.back().user_agent.value_or("-"),
               page.next ? "; next page after the last one's (createdAt, id)" : "; the last page");
    if (!page.next) break;
    page = sessions.after(*page.next).page(sessions_per_page);
    ++page_no;
  }
  if (listed != total_sessions || page_no != 3) {
    fail(fmt::format("expected {} sessions on 3 pages, listed {} on {}", total_sessions, listed,
                     page_no));
  }

  step("8. sign out; delete expired sessions", "Better Auth: signOut, expired-session cleanup");
  const auto revoked = db.remove<Session>().where(col<&Session::token> == s1.token).exec();
  fmt::print("  signed out: {} session deleted; its token no longer validates: {}\n", revoked,
             get_session(db, s1.token) ? "FAIL" : "ok");
  db.update<Session>()
      .set(col<& Session::expires_at> = utc_now() - 1h)
      .where(col<&Session::id> == old.id)
      .exec();
  const auto expired = db.remove<Session>().where(col<&Session::expires_at> <= utc_now()).exec();
  fmt::print("  deleted {} expired session\n", expired);
  if (revoked != 1 || expired != 1) fail("sign-out/expiry removed the wrong sessions");

  step("9. the waitlist", "seed: join the waitlist, 201 or 409");
  for (const auto& [email, name, source] :
       {std::tuple{"linus@example.net", "Linus", "landing"},
        std::tuple{"margaret@example.net", "Margaret", "blog"},
        std::tuple{"linus@example.net", "Linus again", "landing"}}) {
    const int status = join_waitlist(db, email, name, source);
    fmt::print(
        "  {}: {}\n", email,
        status == 201 ? "201 Created" : "409 Conflict (unique_violation on waitlist_email_key)");
  }
  const auto waiting = std::get<0>(db.select(pgorm::count()).from<Waitlist>().one());
  if (waiting != 2) fail("the waitlist should hold 2 e-mails");

  step("10. delete a user: the cascade", "seed: delete the account");
  const auto sessions_before = count_sessions(db, ada.id);
  const auto accounts_before = count_accounts(db, ada.id);
  const auto deleted = db.remove<User>().where(col<&User::id> == ada.id).exec();
  const auto sessions_after = count_sessions(db, ada.id);
  const auto accounts_after = count_accounts(db, ada.id);
  fmt::print(
      "  deleted {} user ({}); with it, ON DELETE CASCADE removed {} sessions and {} account\n",
      deleted, ada.email, sessions_before - sessions_after, accounts_before - accounts_after);
  fmt::print("  left for that user: {} sessions, {} accounts\n", sessions_after, accounts_after);
  if (deleted != 1 || sessions_before != 118 || accounts_before != 1 || sessions_after != 0 ||
      accounts_after != 0) {
    fail("the cascade did not remove the user's sessions and accounts");
  }

  step("11. import 10,000 users with COPY, in a transaction", "pgorm: bulk load, no seed step");
  std::vector<User> imported;
  imported.reserve(10'000);
  const auto now = utc_now();
  for (int i = 0; i < 10'000; ++i) {
    imported.push_back(User{.id = fmt::format("imp_{:05}", i),
                            .name = fmt::format("Imported {}", i),
                            .email = fmt::format("user{:05}@import.example", i),
                            .email_verified = i % 2 == 0,
                            .image = std::nullopt,
                            .created_at = now,
                            .updated_at = now});
  }
  const auto start = std::chrono::steady_clock::now();
  const auto written =
      db.transaction([&](pgorm::transaction& tx) { return pgorm::copy_in(tx.conn(), imported); });
  const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - start);
  const auto total = std::get<0>(db.select(pgorm::count()).from<User>().one());
  fmt::print("  copied {} rows in {} ms; {} users in all\n", written, took.count(), total);
  if (written != 10'000 || total != 10'002) fail("the import lost rows");

  const auto stats = db.stats();
  fmt::print("\npool: {} connection(s) opened, {} timeouts\n", stats.total_opened,
             stats.total_timeouts);
}

// `users_sessions migrate VERB ...`: the migrations CLI over the app's structs, reading the
// migrations compiled into the program (generate writes to the source directory they came from).
int migrate_cli(int argc, char** argv) {
  std::string self = "users_sessions migrate";
  std::vector<char*> args{self.data()};
  for (int i = 2; i < argc; ++i) args.push_back(argv[i]);
  args.push_back(nullptr);
  return pgorm::migrate::main<User, Session, Account, Verification, Waitlist>(
      static_cast<int>(args.size()) - 1, args.data(), users_sessions::migrations());
}

}  // namespace

int main(int argc, char** argv) {
  if (argc > 1 && std::string_view(argv[1]) == "migrate") return migrate_cli(argc, argv);
  try {
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
    run(conninfo);
    fmt::print("\ndemo finished\n");
    return EXIT_SUCCESS;
  } catch (const std::exception& e) {
    fmt::print(stderr, "demo failed: {}\n", e.what());
    return EXIT_FAILURE;
  }
}
