// SPDX-License-Identifier: MIT
// The code blocks of docs/schema.md, compiled (never run). Each region between
// `doc-begin(name)` and `doc-end(name)` appears verbatim (dedented) in the page; check with
// tools/check_docs.py. User, Session and Account are the schema of docs/queries.md
// (schema.hpp); Country is at global scope because its table_traits must be.

#include <iostream>
#include <string>

#include "pgorm/pgorm.hpp"
#include "schema.hpp"

// doc-begin(country)
struct Country {
  std::string code;
};
template <>
struct pgorm::table_traits<Country> {
  static constexpr auto primary_key = pgorm::key(&Country::code);
};
static_assert(pgorm::schema::create_table<Country>() ==
              "CREATE TABLE country (\n  code text NOT NULL,\n  PRIMARY KEY (code)\n);");
// doc-end(country)

namespace docs::schema {

using app::Account;
using app::Session;
using app::User;

void drift(pgorm::connection& conn) {
  // doc-begin(diff)
  auto d = pgorm::schema::diff<User, Session, Account>(conn);
  if (!d.in_sync()) {
    std::cout << d.report();                          // one line per change
    d.write_migration("migrations", "sync structs");  // migrations/0007_sync_structs.sql
  }
  // doc-end(diff)
}

void helpers(pgorm::connection& conn) {
  // doc-begin(helpers)
  pgorm::schema::create<User, Session>(conn);
  pgorm::schema::truncate_all<User, Session>(conn);  // ... RESTART IDENTITY CASCADE
  pgorm::schema::seed<User, Session>(conn, [](pgorm::transaction& tx) {
    tx.insert(User{0, "a@example.com", "A", 30, false, {}}).exec();  // ids start at 1 again
  });
  // doc-end(helpers)
}

}  // namespace docs::schema
