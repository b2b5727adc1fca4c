// SPDX-License-Identifier: MIT
// A secret written into SQL text (ALTER ROLE ... PASSWORD '...', a connection string in a
// literal) reaches neither an observer, nor stderr_logger, nor an error, on the synchronous and
// the asynchronous connection, against a real server: statements that succeed, that the
// server rejects, and whose error message quotes the literal back.

#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <gtest/gtest.h>

#include "pgorm/async.hpp"
#include "pgorm/connection.hpp"
#include "pgorm/error.hpp"
#include "pgorm/observer.hpp"
#include "support/async_test.hpp"
#include "support/db_test.hpp"

namespace {

namespace asio = boost::asio;
using asio::awaitable;
using asio::use_awaitable;

constexpr std::string_view secret = "hunter2";

// Everything an observer is told, and what stderr_logger prints of it.
struct recorder : pgorm::observer {
  std::mutex mu;
  std::vector<std::string> sql;
  std::string text;
  pgorm::stderr_logger log;
  void on_query_start(const pgorm::query_event& q) override {
    const std::lock_guard lock(mu);
    text += std::string(q.sql) + "\n" + std::string(q.table) + "\n";
  }
  void on_query_end(const pgorm::query_event& q, const pgorm::query_outcome& o) override {
    {
      const std::lock_guard lock(mu);
      sql.emplace_back(q.sql);
      text += std::string(q.sql) + "\n" + std::string(o.error) + "\n";
    }
    log.on_query_end(q, o);
  }
};

// The statements, what each must fail with ("" for none), and where its position must point.
struct statement {
  std::string_view sql;
  std::string_view sqlstate;
  std::string_view at;  // the statement() text at the error's position
};
constexpr statement statements[] = {
    {"select length('host=db password=hunter2-ok')", "", ""},
    {"alter role pgorm_no_such_role password 'hunter2-nope'", "42704", ""},
    {"alter role pgorm_no_such_role password 'hunter2-syntax' bogus", "42601", "bogus"},
    {"select 'password=hunter2-quoted'::int", "22P02", "'***'"},
};

// The error of one statement: nothing of the secret in what(), statement(), message(),
// detail(), hint(); the position moved onto the same text in the masked statement.
void expect_clean(const pgorm::sql_error& e, const statement& s) {
  EXPECT_EQ(e.sqlstate(), s.sqlstate) << e.what();
  for (const std::string& field :
       {std::string(e.what()), e.statement(), e.message(), e.detail(), e.hint()}) {
    EXPECT_EQ(field.find(secret), std::string::npos) << field;
  }
  EXPECT_NE(e.statement().find("'***'"), std::string::npos) << e.statement();
  if (!s.at.empty()) {
    ASSERT_GT(e.position(), 0) << e.what();
    EXPECT_EQ(e.statement().substr(static_cast<std::size_t>(e.position()) - 1, s.at.size()), s.at)
        << e.statement() << " at " << e.position();
  }
}

void expect_observed_clean(recorder& rec, const std::string& err) {
  ASSERT_EQ(rec.sql.size(), std::size(statements));
  for (const std::string& sql : rec.sql) {
    EXPECT_NE(sql.find("'***'"), std::string::npos) << sql;
  }
  EXPECT_EQ(rec.text.find(secret), std::string::npos) << rec.text;
  EXPECT_NE(err.find("'***'"), std::string::npos) << err;
  EXPECT_EQ(err.find(secret), std::string::npos) << err;
}

class sql_secrets_test : public pgorm::test::async_db_test {};

TEST_F(sql_secrets_test, a_password_literal_is_masked_for_the_observer_and_in_errors) {
  auto rec = std::make_shared<recorder>();
  pgorm::connect_options o = pgorm::test::test_options();
  o.events = rec;
  pgorm::connection c(conninfo(), o);
  ::testing::internal::CaptureStderr();
  for (const statement& s : statements) {
    try {
      c.exec(std::string(s.sql));
      EXPECT_EQ(s.sqlstate, "") << s.sql;
    } catch (const pgorm::sql_error& e) {
      expect_clean(e, s);
    }
  }
  const std::string err = ::testing::internal::GetCapturedStderr();
  expect_observed_clean(*rec, err);
}

TEST_F(sql_secrets_test, the_async_connection_masks_them_too) {
  auto rec = std::make_shared<recorder>();
  pgorm::connect_options o = pgorm::test::test_options();
  o.events = rec;
  ::testing::internal::CaptureStderr();
  pgorm::test::run_coro([&](asio::io_context& io) -> awaitable<void> {
    auto c = co_await open(io, o);
    for (const statement& s : statements) {
      try {
        co_await c.async_exec(std::string(s.sql), use_awaitable);
        EXPECT_EQ(s.sqlstate, "") << s.sql;
      } catch (const pgorm::sql_error& e) {
        expect_clean(e, s);
      }
    }
  });
  const std::string err = ::testing::internal::GetCapturedStderr();
  expect_observed_clean(*rec, err);
}

}  // namespace
