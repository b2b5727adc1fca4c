// SPDX-License-Identifier: MIT
// The code blocks of docs/migrations.md, compiled (never run). Each region between
// `doc-begin(name)` and `doc-end(name)` appears verbatim (dedented) in the page; check with
// tools/check_docs.py. User and Session are the schema of docs/queries.md (schema.hpp).

#include <filesystem>
#include <vector>

#include "pgorm/pgorm.hpp"
#include "schema.hpp"

namespace docs::migrations {

using app::Session;
using app::use;
using app::User;

int generate(pgorm::connection& conn) {
  // doc-begin(generate)
  auto d = pgorm::schema::diff<User, Session>(conn);                  // docs/schema.md
  if (!d.in_sync()) d.write_migration("migrations", "add sessions");  // next NNNN_add_sessions.sql
  // CI: return pgorm::schema::check<User, Session>(conn) ? 0 : 1;
  // doc-end(generate)
  return pgorm::schema::check<User, Session>(conn) ? 0 : 1;
}

void run(pgorm::connection& conn) {
  // doc-begin(apply)
  // What `pgorm migrate apply` and `pgorm migrate status` do, from a program:
  const std::vector<pgorm::migrate::applied_migration> done =
      pgorm::migrate::apply(conn, "migrations");
  for (const pgorm::migrate::migration_status& s : pgorm::migrate::status(conn, "migrations")) {
    if (s.state != pgorm::migrate::state::applied) use(s.file);
  }
  // doc-end(apply)
  use(done);
}

}  // namespace docs::migrations
