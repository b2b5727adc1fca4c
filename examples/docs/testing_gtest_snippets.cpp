// SPDX-License-Identifier: MIT
// The GoogleTest code blocks of docs/testing.md, compiled (never run) when pgorm's tests are
// built (they need tests/support and GoogleTest). Each region between `doc-begin(name)` and
// `doc-end(name)` appears verbatim (dedented) in the page; check with tools/check_docs.py.

// doc-begin(db_test)
#include "support/db_test.hpp"

class users_test : public pgorm::test::db_test {};

TEST_F(users_test, insert_returns_the_identity) {
  conn().exec("create table users (id int generated always as identity, email text)");
  auto r = conn().exec("insert into users (email) values ('a@b.c') returning id");
  EXPECT_EQ(r.value(0, 0), "1");
  pgorm::connection second{conninfo()};  // same server, same schema
}
// doc-end(db_test)

// doc-begin(own_tests)
#include <gtest/gtest.h>
#include <pgorm/connection.hpp>
#include <pgorm/testing/server.hpp>

// One server for the whole binary; started on first use, stopped at exit.
pgorm::testing::server& test_server() {
  static pgorm::testing::server pg{{.settings = {{"max_connections", "50"}}}};
  return pg;
}

TEST(orders, totals_are_summed) {
  pgorm::connection db{test_server().conninfo()};
  db.exec("create temporary table orders (total numeric)");
  db.exec("insert into orders values (1.5), (2.5)");
  EXPECT_EQ(db.exec("select sum(total) from orders").value(0, 0), "4.0");
}
// doc-end(own_tests)
