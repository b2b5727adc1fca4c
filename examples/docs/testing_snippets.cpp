// SPDX-License-Identifier: MIT
// The first code block of docs/testing.md, compiled (never run); the blocks that need
// GoogleTest are in testing_gtest_snippets.cpp. Each region between `doc-begin(name)` and
// `doc-end(name)` appears verbatim (dedented) in the page; check with tools/check_docs.py.

// doc-begin(server)
#include <pgorm/connection.hpp>
#include <pgorm/testing/server.hpp>

void scratch_database() {
  pgorm::testing::server pg;              // initdb + start: about 0.7 s
  pgorm::connection conn{pg.conninfo()};  // superuser "postgres", over a private Unix socket
  conn.exec("create table t (id int)");
}  // ~server(): stops the server and deletes its directory
// doc-end(server)
