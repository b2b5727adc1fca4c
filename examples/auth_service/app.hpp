// SPDX-License-Identifier: MIT
#pragma once

// The service's operations on the seed's schema (examples/users_sessions/schema.hpp), each a
// coroutine over pgorm's async pool: no thread waits for PostgreSQL. The HTTP layer (http.cpp)
// maps their outcomes to status codes.

#include <cstddef>
#include <optional>
#include <string>
#include <tuple>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/thread_pool.hpp>
#include <pgorm/async.hpp>

#include "../users_sessions/schema.hpp"
#include "secrets.hpp"

namespace auth_service {

namespace asio = boost::asio;

// Hashes and checks passwords on threads of its own, so that the I/O thread goes on serving
// while scrypt runs (about 50 ms of CPU per call with Better Auth's parameters).
class password_hasher {
 public:
  password_hasher(scrypt_params params, std::size_t threads);
  // The hash of `password` (secrets.hpp), computed on the hasher's threads.
  asio::awaitable<std::string> hash(std::string password);
  // verify_password(), on the hasher's threads.
  asio::awaitable<bool> verify(std::string password, std::string stored);
  // Waits for the hashes under way, then ends the threads.
  void stop();

 private:
  scrypt_params params_;
  asio::thread_pool threads_;
};

// Better Auth's e-mail and password sign-up: the user and its "credential" account (holding the
// password's hash), in one transaction. nullopt when the e-mail is taken: the server's unique
// violation (SQLSTATE 23505) on "user"'s user_email_key.
asio::awaitable<std::optional<auth::User>> sign_up(pgorm::async::pool& db, password_hasher& hasher,
                                                   std::string email, std::string name,
                                                   std::string password);

// Better Auth's sign-in: checks the password against the credential account and opens a
// session of 7 days. nullopt for an unknown e-mail or a wrong password (which take the same
// time: an unknown e-mail is checked against a dummy hash).
asio::awaitable<std::optional<auth::Session>> log_in(pgorm::async::pool& db,
                                                     password_hasher& hasher, std::string email,
                                                     std::string password,
                                                     std::optional<std::string> ip_address,
                                                     std::optional<std::string> user_agent);

// Better Auth's getSession: the session of `token` and its user when it exists and has not
// expired; a session last extended more than a day ago is extended by 7 days from now.
asio::awaitable<std::optional<std::tuple<auth::Session, auth::User>>> current_session(
    pgorm::async::pool& db, std::string token);

// Better Auth's signOut: deletes the session of `token`; false when there was none.
asio::awaitable<bool> log_out(pgorm::async::pool& db, std::string token);

// The seed's waitlist: false when the e-mail is already on it, the unique violation on
// waitlist_email_key (a plain INSERT, no ON CONFLICT: any other failure stays an error).
asio::awaitable<bool> join_waitlist(pgorm::async::pool& db, std::string email,
                                    std::optional<std::string> name,
                                    std::optional<std::string> source);

}  // namespace auth_service
