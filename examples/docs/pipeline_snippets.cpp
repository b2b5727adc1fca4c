// SPDX-License-Identifier: MIT
// The code blocks of docs/pipeline.md, compiled (never run). Each region between
// `doc-begin(name)` and `doc-end(name)` appears verbatim (dedented) in the page; check with
// tools/check_docs.py. User and Session are the schema of docs/queries.md (schema.hpp).

#include <cstdint>
#include <tuple>
#include <vector>

#include "pgorm/pgorm.hpp"
#include "schema.hpp"

namespace docs::pipeline {

using app::Session;
using app::use;
using app::User;

void mixed(pgorm::connection& conn, const User& u, pgorm::timestamptz now) {
  // doc-begin(mixed)
  pgorm::pipeline p{conn};
  auto a = p.add(pgorm::select<User>().where(pgorm::col<&User::id> == 1));
  auto b = p.add(pgorm::insert(u).returning(pgorm::col<&User::id>));
  auto c = p.add(pgorm::query<std::tuple<int>>("select $1::int", 5));
  auto d = p.add(pgorm::remove<Session>().where(pgorm::col<&Session::expires_at> < now));
  p.run();
  std::vector<User> users = a.all();
  auto [id] = b.one();
  std::int64_t removed = d.exec();
  // doc-end(mixed)
  use(users, id, removed, c);
}

void point_selects(pgorm::connection& conn, const std::vector<std::int64_t>& ids) {
  // doc-begin(add_each)
  pgorm::pipeline p{conn};
  auto found = p.add_each(ids, [](std::int64_t id) {
    return pgorm::select<User>().where(pgorm::col<&User::id> == id);
  });
  p.run();
  for (auto& h : found) {
    if (auto u = h.first()) use(*u);
  }
  // doc-end(add_each)
}

void errors(pgorm::connection& conn, const User& existing_user) {
  // doc-begin(errors)
  pgorm::pipeline p{conn};
  auto ok = p.add(pgorm::query<int>("select 1"));
  auto dup = p.add(pgorm::insert(existing_user));  // 23505
  auto next = p.add(pgorm::select<User>());
  p.run();   // does not throw for SQL errors
  ok.one();  // 1
  try {
    dup.exec();
  } catch (const pgorm::unique_violation& e) {
    use(e.constraint());  // "user_email_key"
  }
  try {
    next.all();
  } catch (const pgorm::pipeline_aborted& e) {
    // e.what(): "pgorm: pipeline statement 2 was skipped by the server because statement 1 of
    // its batch failed earlier: ..."; e.index() == 2, e.failed_index() == 1
  }
  conn.exec("select 1");  // the connection is usable
  // doc-end(errors)
}

}  // namespace docs::pipeline
