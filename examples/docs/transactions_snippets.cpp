// SPDX-License-Identifier: MIT
// The code blocks of docs/transactions.md, compiled (never run). Each region between
// `doc-begin(name)` and `doc-end(name)` appears verbatim (dedented) in the page; check with
// tools/check_docs.py. User, Session and Account are the schema of docs/queries.md
// (schema.hpp); the regions are at global scope because counter's table_traits must be.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "schema.hpp"

using app::Account;
using app::Session;
using app::User;

// doc-begin(intro)
#include <pgorm/pgorm.hpp>

void transfer(pgorm::connection& conn, std::int64_t from, std::int64_t to) {
  // clang-format off
  conn.transaction([&](pgorm::transaction& tx) {
    tx.update<Account>()
        .set(pgorm::col<&Account::balance> = pgorm::col<&Account::balance> - 10)
        .where(pgorm::col<&Account::id> == from)
        .exec();
    tx.update<Account>()
        .set(pgorm::col<&Account::balance> = pgorm::col<&Account::balance> + 10)
        .where(pgorm::col<&Account::id> == to)
        .exec();
  });  // COMMIT here; an exception from the lambda rolls back and propagates unchanged
  // clang-format on
}
// doc-end(intro)

/// Stand-in: makes a session token.
std::string make_token();

// doc-begin(value)
std::int64_t sign_up(pgorm::connection& conn, pgorm::timestamptz expires_at) {
  return conn.transaction([&](pgorm::transaction& tx) {
    const User ada{0, "ada@example.com", "Ada", 36, false, {}};  // id, created_at: from the server
    const auto [id] = tx.insert(ada).returning(pgorm::col<&User::id>).one();
    tx.insert(Session{0, id, make_token(), expires_at, std::nullopt}).exec();
    return id;
  });
}
// doc-end(value)

// doc-begin(retry)
struct counter {
  std::int64_t id;
  std::int64_t n;
};
template <>
struct pgorm::table_traits<counter> {
  static constexpr auto primary_key = pgorm::key(&counter::id);
};

void increment(pgorm::connection& conn) {
  // clang-format off
  conn.transaction([&](pgorm::transaction& tx) {
    const counter c = tx.find<counter>(1).value();
    tx.update<counter>()
        .set(pgorm::col<&counter::n> = c.n + 1)
        .where(pgorm::col<&counter::id> == 1)
        .exec();
  }, {.isolation = pgorm::isolation_level::serializable, .retry = {.max_attempts = 10}});
  // clang-format on
}
// doc-end(retry)

// doc-begin(savepoint)
void record(pgorm::connection& conn, const User& maybe_duplicate, const Account& audit_row) {
  conn.transaction([&](pgorm::transaction& tx) {
    try {
      tx.savepoint([&](pgorm::transaction& inner) { inner.insert(maybe_duplicate).exec(); });
    } catch (const pgorm::unique_violation&) {
      // rolled back to the savepoint; the outer transaction goes on
    }
    tx.insert(audit_row).exec();
  });
}
// doc-end(savepoint)

// clang-format off
// doc-begin(timeout)
bool pay(pgorm::connection& conn, std::int64_t account) {
  using namespace std::chrono_literals;
  try {
    conn.transaction(
        [&](pgorm::transaction& tx) {
          tx.update<Account>()
              .set(pgorm::col<&Account::balance> = pgorm::col<&Account::balance> - 10)
              .where(pgorm::col<&Account::id> == account)
              .exec();
          tx.exec("select pg_notify('payments', 'paid')", 100ms);  // its own, shorter deadline
        },
        {.retry = {.max_attempts = 5}, .timeout = 500ms});  // one budget for all of it
    return true;
  } catch (const pgorm::commit_outcome_unknown&) {
    throw;  // the link broke during COMMIT: check before paying again
  } catch (const pgorm::query_canceled&) {
    return false;  // the 500 ms ran out: rolled back, nothing paid
  }
}
// doc-end(timeout)
// clang-format on
