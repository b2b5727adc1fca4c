// SPDX-License-Identifier: MIT
// conn.transaction(fn) with only connection.hpp included: the first error says which header
// to include.
// expect: pgorm: conn.transaction\(fn\) needs #include "pgorm/transaction.hpp"
#include "pgorm/connection.hpp"

void work(pgorm::connection& conn) {
  conn.transaction([](auto& tx) { (void)tx; });
}
