// SPDX-License-Identifier: MIT
#include "app.hpp"

#include <exception>
#include <utility>

#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "../users_sessions/seed.hpp"

namespace auth_service {

namespace pa = pgorm::async;
using asio::use_awaitable;
using auth::Account;
using auth::Session;
using auth::User;
using auth::Waitlist;
using pgorm::col;
using seed::utc_now;

password_hasher::password_hasher(scrypt_params params, std::size_t threads)
    : params_(params), threads_(threads) {}

namespace {

// Runs job() on `threads`, then resumes the awaiting coroutine on its own executor (rethrowing
// what job() threw). The job stays in the caller's coroutine frame: only pointers are handed
// on, so nothing of it is copied into Asio's coroutine frames.
template <class Job>
asio::awaitable<void> on_threads(asio::thread_pool& threads, Job& job) {
  return asio::async_initiate<const asio::use_awaitable_t<>, void(std::exception_ptr)>(
      [pool = &threads, fn = &job](auto handler) {
        asio::post(*pool, [handler = std::move(handler), fn]() mutable {
          std::exception_ptr error;
          try {
            (*fn)();
          } catch (...) {
            error = std::current_exception();
          }
          const auto home = asio::get_associated_executor(handler);
          asio::post(
              home, [handler = std::move(handler), error]() mutable { std::move(handler)(error); });
        });
      },
      use_awaitable);
}

}  // namespace

asio::awaitable<std::string> password_hasher::hash(std::string password) {
  std::string hashed;
  auto job = [&] { hashed = hash_password(password, params_); };
  co_await on_threads(threads_, job);
  co_return hashed;
}

asio::awaitable<bool> password_hasher::verify(std::string password, std::string stored) {
  bool ok = false;
  auto job = [&] { ok = verify_password(password, stored, params_); };
  co_await on_threads(threads_, job);
  co_return ok;
}

void password_hasher::stop() { threads_.join(); }

// Each statement is built in a named variable before it is co_await-ed: GCC 12 mishandles a
// temporary that holds a short std::string (a builder with a text parameter, a row) inside a
// co_await expression (it frees memory it does not own). See README.md.

asio::awaitable<std::optional<User>> sign_up(pa::pool& db, password_hasher& hasher,
                                             std::string email, std::string name,
                                             std::string password) {
  const std::string hash = co_await hasher.hash(std::move(password));
  const auto now = utc_now();
  const User user{.id = random_id(),
                  .name = std::move(name),
                  .email = std::move(email),
                  .email_verified = false,
                  .image = std::nullopt,
                  .created_at = now,
                  .updated_at = now};
  const Account account{.id = random_id(),
                        .account_id = user.id,
                        .provider_id = "credential",
                        .user_id = user.id,
                        .access_token = std::nullopt,
                        .refresh_token = std::nullopt,
                        .id_token = std::nullopt,
                        .access_token_expires_at = std::nullopt,
                        .refresh_token_expires_at = std::nullopt,
                        .scope = std::nullopt,
                        .password = hash,
                        .created_at = now,
                        .updated_at = now};
  const auto insert_user = pgorm::insert(user);
  const auto insert_account = pgorm::insert(account);
  try {
    // One connection of the pool for the whole transaction: BEGIN, two INSERTs, COMMIT.
    co_await pa::run_transaction(
        db,
        [&](pa::transaction& tx) -> asio::awaitable<void> {
          co_await pa::exec(tx, insert_user, use_awaitable);
          co_await pa::exec(tx, insert_account, use_awaitable);
        },
        use_awaitable);
  } catch (const pgorm::unique_violation& e) {
    if (e.constraint() != "user_email_key") throw;
    co_return std::nullopt;  // 409: the e-mail is taken
  }
  co_return user;
}

asio::awaitable<std::optional<Session>> log_in(pa::pool& db, password_hasher& hasher,
                                               std::string email, std::string password,
                                               std::optional<std::string> ip_address,
                                               std::optional<std::string> user_agent) {
  const auto credentials =
      pgorm::select<User, Account>()
          .join<Account>(col<&Account::user_id> == col<&User::id>)
          .where(col<&User::email> == email && col<&Account::provider_id> == "credential");
  const auto found = co_await pa::first(db, credentials, use_awaitable);
  if (!found || !std::get<1>(*found).password) {
    // As long as a wrong password: scrypt runs either way, so the time taken does not tell
    // whether the e-mail is registered.
    static const std::string dummy(32 + 1 + 128, '0');
    (void)co_await hasher.verify(std::move(password), dummy);
    co_return std::nullopt;
  }
  if (!co_await hasher.verify(std::move(password), *std::get<1>(*found).password)) {
    co_return std::nullopt;
  }
  const auto now = utc_now();
  const auto open_session = pgorm::insert(Session{.id = random_id(),
                                                  .expires_at = now + seed::session_lifetime,
                                                  .token = random_id(),
                                                  .created_at = now,
                                                  .updated_at = now,
                                                  .ip_address = std::move(ip_address),
                                                  .user_agent = std::move(user_agent),
                                                  .user_id = std::get<0>(*found).id})
                                .returning_all();
  co_return co_await pa::one(db, open_session, use_awaitable);
}

asio::awaitable<std::optional<std::tuple<Session, User>>> current_session(pa::pool& db,
                                                                          std::string token) {
  const auto lookup =
      pgorm::select<Session, User>()
          .join<User>(col<&Session::user_id> == col<&User::id>)
          .where(col<&Session::token> == token && col<&Session::expires_at> > utc_now());
  auto found = co_await pa::first(db, lookup, use_awaitable);
  if (!found) co_return std::nullopt;  // 401
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

asio::awaitable<bool> log_out(pa::pool& db, std::string token) {
  const auto end_session = pgorm::remove<Session>().where(col<&Session::token> == token);
  co_return co_await pa::exec(db, end_session, use_awaitable) == 1;
}

asio::awaitable<bool> join_waitlist(pa::pool& db, std::string email,
                                    std::optional<std::string> name,
                                    std::optional<std::string> source) {
  const auto join = pgorm::insert(Waitlist{.id = random_id(),
                                           .email = std::move(email),
                                           .name = std::move(name),
                                           .source = std::move(source),
                                           .created_at = {}});
  try {
    co_await pa::exec(db, join, use_awaitable);
  } catch (const pgorm::unique_violation& e) {
    if (e.constraint() != "waitlist_email_key") throw;
    co_return false;  // 409
  }
  co_return true;
}

}  // namespace auth_service
