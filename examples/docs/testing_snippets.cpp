// SPDX-License-Identifier: MIT
// The C++ blocks of docs/testing.md that need no GoogleTest, compiled (never run); those that
// need it are in testing_gtest_snippets.cpp. Each region between `doc-begin(name)` and
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

void container_database() {
  // doc-begin(testing_container)
  pgorm::testing::container_server pg{{.version = "15"}};  // ~3 s with the image present
  pgorm::connection conn{pg.conninfo()};  // host=127.0.0.1 port=<free port> user=postgres
  pg.restart();                           // pg_ctl inside the container, which keeps running
  // doc-end(testing_container)
}
