// SPDX-License-Identifier: MIT
// The code blocks of docs/errors.md, compiled (never run). Each region between
// `doc-begin(name)` and `doc-end(name)` appears verbatim (dedented) in the page; check with
// tools/check_docs.py.

#include <cstdint>
#include <string>

#include "pgorm/pgorm.hpp"

namespace docs::errors {

// doc-begin(unique_violation)
enum class signup_result { created, already_registered };

signup_result sign_up(pgorm::connection& conn, const std::string& email) {
  try {
    conn.exec("insert into users (email) values ($1)", {pgorm::param::text(email)});
  } catch (const pgorm::unique_violation& e) {
    if (e.constraint() == "users_email_key") return signup_result::already_registered;
    throw;
  }
  return signup_result::created;
}
// doc-end(unique_violation)

// doc-begin(not_found)
struct Profile {
  std::int64_t id;
  std::string name;
};

// An HTTP handler's status for GET /profiles/{id}: 404 when the row does not exist.
int profile_status(pgorm::connection& conn, std::int64_t id, Profile& out) {
  try {
    out = pgorm::select<Profile>().where(pgorm::col<&Profile::id> == id).one(conn);
    return 200;
  } catch (const pgorm::not_found&) {
    return 404;
  }
}
// doc-end(not_found)

}  // namespace docs::errors
