// SPDX-License-Identifier: MIT
#include <atomic>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "pgorm/connection.hpp"
#include "pgorm/query.hpp"
#include "support/db_test.hpp"

namespace {

using pgorm::param;

class errors_test : public pgorm::test::db_test {
 protected:
  void SetUp() override {
    db_test::SetUp();
    conn().exec(R"(
      create table account (
        id int primary key,
        email text not null unique,
        balance int not null default 0 constraint balance_not_negative check (balance >= 0)
      );
      create table entry (
        id int primary key,
        account_id int not null references account(id)
      );
      insert into account (id, email) values (1, 'a@example.com'), (2, 'b@example.com'))");
  }
};

TEST_F(errors_test, unique_violation_carries_constraint_table_and_schema) {
  try {
    conn().exec("insert into account (id, email) values ($1, $2)",
                {param::text("3"), param::text("a@example.com")});
    FAIL() << "duplicate accepted";
  } catch (const pgorm::unique_violation& e) {
    EXPECT_EQ(e.sqlstate(), "23505");
    EXPECT_EQ(e.constraint(), "account_email_key");
    EXPECT_EQ(e.table(), "account");
    EXPECT_EQ(e.schema(), schema());
    EXPECT_EQ(e.severity(), "ERROR");
    EXPECT_NE(e.detail().find("a@example.com"), std::string::npos) << e.detail();
    // what() names the constraint and the table, never the duplicate value.
    const std::string what = e.what();
    EXPECT_NE(what.find("account_email_key"), std::string::npos) << what;
    EXPECT_NE(what.find("account"), std::string::npos) << what;
    EXPECT_EQ(what.find("a@example.com"), std::string::npos) << what;
    EXPECT_FALSE(e.poisons_connection());
  }
}

TEST_F(errors_test, foreign_key_violation) {
  try {
    conn().exec("insert into entry values (1, 99)");
    FAIL();
  } catch (const pgorm::foreign_key_violation& e) {
    EXPECT_EQ(e.sqlstate(), "23503");
    EXPECT_EQ(e.constraint(), "entry_account_id_fkey");
    EXPECT_EQ(e.table(), "entry");
  }
}

// With parameters, the server confirms the INSERT before the implicit COMMIT at Sync; a deferred
// foreign key fails at that commit, in a second result. Before the fix it was dropped and the
// rolled-back insert reported as done (found by the failover test: acknowledged rows lost).
TEST_F(errors_test, a_failed_implicit_commit_is_the_outcome_of_the_statement) {
  conn().exec(R"(
    create table deferred_entry (
      account_id int references account(id) deferrable initially deferred))");
  EXPECT_THROW(conn().exec("insert into deferred_entry values ($1::int)", {param::text("99")}),
               pgorm::foreign_key_violation);
  // Through the statement cache (prepared, as the builders' statements are) too.
  EXPECT_THROW(pgorm::query<void>("insert into deferred_entry values ($1)", 98).exec(conn()),
               pgorm::foreign_key_violation);
  // Nothing was written, the connection is idle and usable, and a valid row commits.
  EXPECT_EQ(conn().status(), pgorm::transaction_status::idle);
  EXPECT_EQ(conn()
                .exec("insert into deferred_entry values ($1::int)", {param::text("1")})
                .affected_rows(),
            1);
  EXPECT_EQ(conn().exec("select count(*) from deferred_entry").value(0, 0), "1");
}

TEST_F(errors_test, not_null_violation_names_the_column) {
  try {
    conn().exec("insert into account (id, email) values (5, $1)", {param::null()});
    FAIL();
  } catch (const pgorm::not_null_violation& e) {
    EXPECT_EQ(e.sqlstate(), "23502");
    EXPECT_EQ(e.column(), "email");
    EXPECT_EQ(e.table(), "account");
    EXPECT_NE(std::string(e.what()).find("email"), std::string::npos);
  }
}

TEST_F(errors_test, check_violation) {
  try {
    conn().exec("update account set balance = -5 where id = 1");
    FAIL();
  } catch (const pgorm::check_violation& e) {
    EXPECT_EQ(e.sqlstate(), "23514");
    EXPECT_EQ(e.constraint(), "balance_not_negative");
  }
}

TEST_F(errors_test, serialization_failure) {
  pgorm::connection other{conninfo()};
  conn().exec("begin isolation level repeatable read");
  conn().exec("select balance from account where id = 1");
  other.exec("update account set balance = balance + 1 where id = 1");
  try {
    conn().exec("update account set balance = balance + 1 where id = 1");
    FAIL();
  } catch (const pgorm::serialization_failure& e) {
    EXPECT_EQ(e.sqlstate(), "40001");
  }
  conn().exec("rollback");
}

TEST_F(errors_test, deadlock_detected) {
  pgorm::connection other{conninfo()};
  for (auto* c : {&conn(), &other}) c->exec("set deadlock_timeout = '100ms'");
  conn().exec("begin; update account set balance = 1 where id = 1");
  other.exec("begin; update account set balance = 1 where id = 2");
  std::atomic<int> deadlocks{0};
  std::thread t([&] {
    try {
      other.exec("update account set balance = 2 where id = 1");
    } catch (const pgorm::deadlock_detected&) {
      ++deadlocks;
    }
  });
  try {
    conn().exec("update account set balance = 2 where id = 2");
  } catch (const pgorm::deadlock_detected& e) {
    EXPECT_EQ(e.sqlstate(), "40P01");
    ++deadlocks;
  }
  // Exactly one side is chosen as the victim; roll it back so the other can finish.
  conn().exec("rollback");
  t.join();
  other.exec("rollback");
  EXPECT_EQ(deadlocks.load(), 1);
}

TEST_F(errors_test, query_canceled_by_statement_timeout) {
  conn().exec("set statement_timeout = '50ms'");
  try {
    conn().exec("select pg_sleep(5)");
    FAIL();
  } catch (const pgorm::query_canceled& e) {
    EXPECT_EQ(e.sqlstate(), "57014");
    EXPECT_FALSE(e.poisons_connection());
  }
  conn().exec("reset statement_timeout");
  EXPECT_TRUE(conn().is_open());
}

TEST_F(errors_test, other_states_are_plain_sql_errors_with_position) {
  try {
    conn().exec("selec 1");
    FAIL();
  } catch (const pgorm::sql_error& e) {
    EXPECT_EQ(e.sqlstate(), "42601");
    EXPECT_EQ(e.position(), 1);
    EXPECT_EQ(e.statement(), "selec 1");
  }
  try {
    conn().exec("select * from no_such_table");
    FAIL();
  } catch (const pgorm::sql_error& e) {
    EXPECT_EQ(e.sqlstate(), "42P01");
    EXPECT_EQ(e.position(), 15);
  }
}

TEST_F(errors_test, what_never_contains_parameter_values) {
  try {
    conn().exec("select $1::int", {param::text("my-secret-value")});
    FAIL();
  } catch (const pgorm::sql_error& e) {
    EXPECT_EQ(e.sqlstate(), "22P02");
    EXPECT_EQ(std::string(e.what()).find("my-secret-value"), std::string::npos) << e.what();
    // The raw server message keeps it, for whoever explicitly asks.
    EXPECT_NE(e.message().find("my-secret-value"), std::string::npos);
  }
}

TEST_F(errors_test, hint_is_reported) {
  try {
    conn().exec("select lenght('x')");
    FAIL();
  } catch (const pgorm::sql_error& e) {
    EXPECT_EQ(e.sqlstate(), "42883");
    EXPECT_FALSE(e.hint().empty());
  }
}

TEST_F(errors_test, exceptions_copy_cheaply_and_keep_their_fields) {
  try {
    conn().exec("insert into entry values (1, 99)");
  } catch (const pgorm::sql_error& e) {
    const pgorm::sql_error copy = e;  // NOLINT(performance-unnecessary-copy-initialization)
    EXPECT_EQ(copy.constraint(), e.constraint());
    EXPECT_STREQ(copy.what(), e.what());
  }
}

}  // namespace
