// SPDX-License-Identifier: MIT
// The code blocks of docs/async.md's "Example: an HTTP service" section, compiled (never run):
// condensed from examples/auth_service (app.cpp, main.cpp), on the users_sessions schema.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <tuple>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <pgorm/async.hpp>

#include "../users_sessions/schema.hpp"
#include "../users_sessions/seed.hpp"

namespace docs::async_service {

namespace asio = boost::asio;
namespace pa = pgorm::async;
using asio::use_awaitable;
using auth::Account;
using auth::Session;
using auth::User;
using auth::Waitlist;
using pgorm::col;
using seed::utc_now;

std::string random_id();  // 32 letters and digits from a CSPRNG (auth_service/secrets.hpp)

// doc-begin(service_pool)
int serve(const std::string& conninfo) {
  asio::io_context io;  // one thread serves every client and drives every statement
  // The seed's settings: at most 10 connections, idle ones closed after 30 s, 5 s to connect
  // and to wait for a connection (pool_timeout after that: the service answers 503).
  pgorm::pool_options options = seed::pool_options();
  options.connection.settings = {{"search_path", "auth_service"}};
  pa::pool db(io, conninfo, options);  // opens nothing yet
  // ... the listener co_spawns one coroutine per HTTP connection, each using `db` ...
  io.run();
  return 0;
}
// doc-end(service_pool)

// doc-begin(service_signup)
// POST /signup: the user and its credential account in one transaction; nullopt (409) when
// the e-mail is taken.
asio::awaitable<std::optional<User>> sign_up(pa::pool& db, User user, std::string hash) {
  const auto insert_user = pgorm::insert(user);
  const auto insert_account = pgorm::insert(Account{.id = random_id(),
                                                    .account_id = user.id,
                                                    .provider_id = "credential",
                                                    .user_id = user.id,
                                                    .access_token = std::nullopt,
                                                    .refresh_token = std::nullopt,
                                                    .id_token = std::nullopt,
                                                    .access_token_expires_at = std::nullopt,
                                                    .refresh_token_expires_at = std::nullopt,
                                                    .scope = std::nullopt,
                                                    .password = std::move(hash),
                                                    .created_at = user.created_at,
                                                    .updated_at = user.updated_at});
  try {
    // One pool connection for BEGIN, both INSERTs and COMMIT; ROLLBACK when fn throws.
    co_await pa::run_transaction(
        db,
        [&](pa::transaction& tx) -> asio::awaitable<void> {
          co_await pa::exec(tx, insert_user, use_awaitable);
          co_await pa::exec(tx, insert_account, use_awaitable);
        },
        use_awaitable);
  } catch (const pgorm::unique_violation& e) {  // SQLSTATE 23505
    if (e.constraint() != "user_email_key") throw;
    co_return std::nullopt;
  }
  co_return user;
}
// doc-end(service_signup)

// doc-begin(service_me)
// GET /me: the session of the token and its user, or nullopt (401); a session last extended
// more than a day ago is extended by 7 days.
asio::awaitable<std::optional<std::tuple<Session, User>>> current_session(pa::pool& db,
                                                                          std::string token) {
  const auto lookup =
      pgorm::select<Session, User>()
          .join<User>(col<&Session::user_id> == col<&User::id>)
          .where(col<&Session::token> == token && col<&Session::expires_at> > utc_now());
  auto found = co_await pa::first(db, lookup, use_awaitable);
  if (!found) co_return std::nullopt;
  Session& session = std::get<0>(*found);
  if (utc_now() - session.updated_at > seed::session_update_age) {
    const auto now = utc_now();
    const auto extend = pgorm::update<Session>()
                            .set(col<& Session::expires_at> = now + seed::session_lifetime,
                                 col<& Session::updated_at> = now)
                            .where(col<&Session::id> == session.id)
                            .returning_all();
    session = co_await pa::one(db, extend, use_awaitable);
  }
  co_return found;
}
// doc-end(service_me)

// doc-begin(service_waitlist)
// POST /waitlist: 201, or 409 for an e-mail already there. A plain INSERT: the duplicate is
// the server's unique violation, named by the constraint; any other failure stays an error.
asio::awaitable<int> join_waitlist(pa::pool& db, Waitlist entry) {
  const auto join = pgorm::insert(std::move(entry));
  try {
    co_await pa::exec(db, join, use_awaitable);
  } catch (const pgorm::unique_violation& e) {
    if (e.constraint() != "waitlist_email_key") throw;
    co_return 409;
  }
  co_return 201;
}
// doc-end(service_waitlist)

}  // namespace docs::async_service
