// SPDX-License-Identifier: MIT
// The code blocks of docs/copy.md, compiled (never run). Each region between `doc-begin(name)`
// and `doc-end(name)` appears verbatim (dedented) in the page; check with tools/check_docs.py.
// User is the schema of docs/queries.md (schema.hpp).

#include <cstdint>
#include <vector>

#include "pgorm/pgorm.hpp"
#include "schema.hpp"

namespace docs::copy {

using app::use;
using app::User;

// Stand-in for the application's CSV writer.
struct {
  void write(const User& /*row*/) {}
} csv;

void examples(pgorm::connection& conn, std::vector<User> users) {
  // doc-begin(examples)
  std::int64_t written = pgorm::copy_in(conn, users);  // users: std::vector<User>

  std::vector<User> back;
  pgorm::copy_out<User>(conn, [&](const User& u) { back.push_back(u); });

  pgorm::copy_out(
      conn,
      pgorm::select<User>().where(pgorm::col<&User::age> > 18).order_by(pgorm::col<&User::id>),
      [&](const User& u) { csv.write(u); });

  // Large ranges through insert() use COPY by themselves:
  pgorm::insert(users).exec(conn);                           // 100,000 rows: one COPY
  pgorm::insert(users).copy_threshold(SIZE_MAX).exec(conn);  // force INSERT
  // doc-end(examples)
  use(written);
}

}  // namespace docs::copy
