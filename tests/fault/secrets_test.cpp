// SPDX-License-Identifier: MIT
// Secrets (docs/reliability.md, "Secrets"): a password written in any of six spellings never
// shows in what(), in an observer event (pool connect/connect_failed details, query events), in
// stderr_logger output or in connection::description(), whether the password is right or
// wrong, on the synchronous API and on the asynchronous one (pgorm::async: statements,
// pipelines, COPY, transactions, the async pool and async_connect). Against a throwaway server
// with scram-sha-256 on TCP. Ends with the leak check.

#include <memory>
#include <mutex>
#include <ostream>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "../../fuzz/checks.hpp"
#include "fault/support/leak_check.hpp"
#include "pgorm/async.hpp"
#include "pgorm/connection.hpp"
#include "pgorm/copy.hpp"
#include "pgorm/error.hpp"
#include "pgorm/observer.hpp"
#include "pgorm/pipeline.hpp"
#include "pgorm/pool.hpp"
#include "pgorm/query.hpp"
#include "pgorm/testing/server.hpp"
#include "support/async_test.hpp"

namespace {

using namespace std::chrono_literals;
namespace asio = boost::asio;
namespace pa = pgorm::async;
using asio::awaitable;
using asio::use_awaitable;

// A row of one int column, for the async COPY of a raw query.
struct one_int {
  std::int32_t v;
};

constexpr const char* right_pw = "Rt_s3cret-pw";
constexpr const char* wrong_pw = "Wr_s3cret-pw";
constexpr const char* key_pw = "K3y_s3cret-pw";

enum class spelling { key_value, quoted, uri_userinfo, uri_query, percent_encoded, sslpassword };

std::string percent_encode_all(std::string_view s) {
  std::string out;
  for (const char c : s) out += fmt::format("%{:02X}", static_cast<unsigned char>(c));
  return out;
}

std::string conninfo_with(spelling how, std::uint16_t port, std::string_view pw,
                          std::string_view app) {
  const auto kv = fmt::format(
      "host=127.0.0.1 port={} user=postgres dbname=postgres "
      "application_name={}",
      port, app);
  const auto url_tail = fmt::format("127.0.0.1:{}/postgres", port);
  switch (how) {
    case spelling::key_value:
      return fmt::format("{} password={}", kv, pw);
    case spelling::quoted:
      return fmt::format("{} password = '{}'", kv, pw);
    case spelling::uri_userinfo:
      return fmt::format("postgresql://postgres:{}@{}?application_name={}", pw, url_tail, app);
    case spelling::uri_query:
      return fmt::format("postgresql://postgres@{}?password={}&application_name={}", url_tail, pw,
                         app);
    case spelling::percent_encoded:
      return fmt::format("postgresql://postgres:{}@{}?application_name={}", percent_encode_all(pw),
                         url_tail, app);
    case spelling::sslpassword:
      return fmt::format("{} password={} sslpassword={}", kv, pw, key_pw);
  }
  return {};
}

// Everything observable, collected (thread-safe).
struct recorder : pgorm::observer {
  std::mutex mu;
  std::string text;
  void on_query_end(const pgorm::query_event& q, const pgorm::query_outcome& o) override {
    std::lock_guard lock(mu);
    text += fmt::format("{} | {} | {} | {}\n", q.server, q.sql, o.sqlstate, o.error);
  }
  void on_pool_event(const pgorm::pool_event& e) override {
    std::lock_guard lock(mu);
    text += fmt::format("pool {} {}\n", static_cast<int>(e.kind), e.detail);
  }
};

// Fans events out to the recorder and to stderr_logger.
struct both : pgorm::observer {
  std::shared_ptr<recorder> rec = std::make_shared<recorder>();
  pgorm::stderr_logger log;
  void on_query_end(const pgorm::query_event& q, const pgorm::query_outcome& o) override {
    rec->on_query_end(q, o);
    log.on_query_end(q, o);
  }
  void on_pool_event(const pgorm::pool_event& e) override {
    rec->on_pool_event(e);
    log.on_pool_event(e);
  }
};

class secrets_test : public pgorm::fault::fault_test,
                     public ::testing::WithParamInterface<spelling> {
 protected:
  static void SetUpTestSuite() {
    pg_ = std::make_unique<pgorm::testing::any_server>(pgorm::testing::server_options{
        .tcp = true, .host_auth = "scram-sha-256", .password = right_pw});
  }
  static void TearDownTestSuite() { pg_.reset(); }
  static pgorm::testing::any_server& pg() { return *pg_; }

  // No spelling of any of the secrets appears in `text`.
  static void expect_clean(const std::string& text, std::string_view where) {
    for (const std::string& secret :
         {std::string(right_pw), std::string(wrong_pw), std::string(key_pw),
          percent_encode_all(right_pw), percent_encode_all(wrong_pw), std::string("s3cret")}) {
      EXPECT_EQ(text.find(secret), std::string::npos) << where << " shows a secret: " << text;
    }
  }

 private:
  static inline std::unique_ptr<pgorm::testing::any_server> pg_;
};

TEST_P(secrets_test, a_right_password_never_shows) {
  const std::string app_name = app("secret_ok", pg().conninfo());
  const std::string info = conninfo_with(GetParam(), pg().port(), right_pw, app_name);
  auto obs = std::make_shared<both>();
  ::testing::internal::CaptureStderr();
  std::string description;
  {
    {
      pgorm::connection c{info, {.events = obs}};
      description = c.description();
      EXPECT_THROW(c.exec("select * from no_such_table"), pgorm::sql_error);
    }
    ASSERT_TRUE(
        pgorm::fault::eventually([&] { return backends_of(app_name, pg().conninfo()) == 0; }));
    pgorm::pool db{info, {.max_size = 1, .connection = {.events = obs}}};
    EXPECT_EQ(db.exec("select 1", {}).value(0, 0), "1");
    try {
      db.exec("select 1/0", {});
    } catch (const pgorm::error& e) {
      expect_clean(e.what(), "what()");
    }
    expect_pool_matches_backends(db, app_name, pg().conninfo());
  }
  const std::string err = ::testing::internal::GetCapturedStderr();
  expect_clean(description, "description()");
  EXPECT_THAT(description, ::testing::HasSubstr("user=postgres"));
  expect_clean(obs->rec->text, "observer events");
  EXPECT_THAT(obs->rec->text, ::testing::HasSubstr("no_such_table"));
  expect_clean(err, "stderr_logger");
  EXPECT_THAT(err, ::testing::HasSubstr("pgorm: pool connect"));
}

// A failing statement whose error quotes the password back ("invalid input syntax for type
// integer: ...") is scrubbed alike whether it ran through exec, a pipeline or COPY (pipeline.cpp
// and copy.cpp used to raise their errors without the connection's secrets).
TEST_P(secrets_test, pipeline_and_copy_errors_are_scrubbed_like_exec_errors) {
  const std::string app_name = app("secret_pipe", pg().conninfo());
  const std::string info = conninfo_with(GetParam(), pg().port(), right_pw, app_name);
  const std::string sql = fmt::format("select '{}'::int", right_pw);
  {
    pgorm::connection c{info};
    try {
      c.exec(sql);
      ADD_FAILURE() << "the cast succeeded";
    } catch (const pgorm::sql_error& e) {
      EXPECT_THAT(e.what(), ::testing::HasSubstr("invalid input syntax"));
      expect_clean(e.what(), "exec error");
    }
    pgorm::pipeline p{c};
    auto handle = p.add(pgorm::query<std::tuple<int>>(pgorm::unsafe_sql(sql)));
    p.run();
    try {
      (void)handle.all();
      ADD_FAILURE() << "the pipelined cast succeeded";
    } catch (const pgorm::sql_error& e) {
      EXPECT_THAT(e.what(), ::testing::HasSubstr("invalid input syntax"));
      expect_clean(e.what(), "pipeline error");
    }
    try {
      pgorm::detail::copy_out_chunks(c, "copy (" + sql + ") to stdout", [](std::string_view) {});
      ADD_FAILURE() << "the copied cast succeeded";
    } catch (const pgorm::sql_error& e) {
      EXPECT_THAT(e.what(), ::testing::HasSubstr("invalid input syntax"));
      expect_clean(e.what(), "COPY error");
    }
  }
  EXPECT_TRUE(
      pgorm::fault::eventually([&] { return backends_of(app_name, pg().conninfo()) == 0; }));
}

TEST_P(secrets_test, a_wrong_password_never_shows) {
  const std::string app_name = app("secret_bad", pg().conninfo());
  const std::string info = conninfo_with(GetParam(), pg().port(), wrong_pw, app_name);
  auto obs = std::make_shared<both>();
  ::testing::internal::CaptureStderr();
  try {
    pgorm::connection c{info, {.connect_timeout = 5s}};
    ADD_FAILURE() << "connected with a wrong password";
  } catch (const pgorm::connection_error& e) {
    EXPECT_THAT(e.what(), ::testing::HasSubstr("password authentication failed"));
    expect_clean(e.what(), "connection_error::what()");
  }
  try {
    pgorm::pool eager{info, {.connection = {.events = obs}}};
    ADD_FAILURE() << "an eager pool started with a wrong password";
  } catch (const pgorm::error& e) {
    expect_clean(e.what(), "eager pool what()");
  }
  {
    pgorm::pool lazy{info, {.acquire_timeout = 200ms, .lazy = true, .connection = {.events = obs}}};
    try {
      auto l = lazy.acquire();
      ADD_FAILURE() << "acquired with a wrong password";
    } catch (const pgorm::pool_timeout& e) {
      expect_clean(e.what(), "pool_timeout::what()");
      expect_clean(e.last_connect_error(), "last_connect_error()");
      try {
        std::rethrow_if_nested(e);
      } catch (const std::exception& cause) {
        expect_clean(cause.what(), "nested cause");
      }
    } catch (const pgorm::connection_error& e) {
      // A pool that cannot open a connection may report the failed attempt at once.
      EXPECT_THAT(e.what(), ::testing::HasSubstr("password authentication failed"));
      expect_clean(e.what(), "acquire connection_error::what()");
    }
  }
  const std::string err = ::testing::internal::GetCapturedStderr();
  expect_clean(obs->rec->text, "observer events");
  EXPECT_THAT(obs->rec->text, ::testing::HasSubstr("password authentication failed"));
  expect_clean(err, "stderr_logger");
  EXPECT_THAT(err, ::testing::HasSubstr("connect_failed"));
}

// A one-character password (docs/reliability.md, "Secrets"): it is masked wherever it stands
// as a value, and the words around it, full of the same letter, stay readable. (The scrubber
// used to mask every "a" of every message: "p***ssword ***uthentic***tion f***iled".)
TEST_P(secrets_test, a_one_character_password_never_shows_as_a_value) {
  constexpr const char* short_pw = "a";
  const std::string app_name = app("secret_short", pg().conninfo());
  const std::string info = conninfo_with(GetParam(), pg().port(), short_pw, app_name);
  const auto expect_no_value = [](const std::string& text, std::string_view where) {
    EXPECT_FALSE(pgorm::fuzz::detail::shows(text, short_pw))
        << where << " shows the password as a value: " << text;
  };
  auto obs = std::make_shared<both>();
  ::testing::internal::CaptureStderr();
  try {
    pgorm::connection c{info, {.connect_timeout = 5s}};
    ADD_FAILURE() << "connected with a wrong password";
  } catch (const pgorm::connection_error& e) {
    EXPECT_THAT(e.what(), ::testing::HasSubstr("password authentication failed"));
    expect_no_value(e.what(), "connection_error::what()");
  }
  try {
    pgorm::pool eager{info, {.connection = {.events = obs}}};
    ADD_FAILURE() << "an eager pool started with a wrong password";
  } catch (const pgorm::error& e) {
    EXPECT_THAT(e.what(), ::testing::HasSubstr("password authentication failed"));
    expect_no_value(e.what(), "eager pool what()");
  }
  const std::string err = ::testing::internal::GetCapturedStderr();
  EXPECT_THAT(obs->rec->text, ::testing::HasSubstr("password authentication failed"));
  expect_no_value(obs->rec->text, "observer events");
  EXPECT_THAT(err, ::testing::HasSubstr("password authentication failed"));
  expect_no_value(err, "stderr_logger");
}

// The async API's cases: the same server and checks. The spellings all reach both APIs through
// one parser (conninfo_secrets), so three of them (a key, URI percent-encoding, sslpassword)
// keep the suite's time down.
class async_secrets_test : public secrets_test {};

// The async API scrubs its errors as the synchronous one does: a statement whose error message
// or parameter carries the password (async_exec, a builder terminal, a pipeline's handle, COPY,
// a statement in a transaction, the same on an async pool) never shows it, nor do the
// observer's events, stderr_logger or description(). (The statement's text is built so that
// only the server's message holds the password: query events report the SQL as written.)
TEST_P(async_secrets_test, errors_are_scrubbed_like_sync_errors) {
  const std::string app_name = app("secret_async", pg().conninfo());
  const std::string info = conninfo_with(GetParam(), pg().port(), right_pw, app_name);
  const std::string pw = right_pw;
  const std::string sql =
      fmt::format("select ('{}' || '{}')::int as v", pw.substr(0, 4), pw.substr(4));
  const auto raw = [&] { return pgorm::query<one_int>(pgorm::unsafe_sql(sql)); };
  auto obs = std::make_shared<both>();
  std::vector<std::string> errors;  // every what() seen, checked below
  const auto expect_cast_error = [&](std::exception_ptr e, std::string_view where) {
    try {
      std::rethrow_exception(e);
    } catch (const pgorm::sql_error& err) {
      EXPECT_THAT(err.what(), ::testing::HasSubstr("invalid input syntax")) << where;
      errors.emplace_back(fmt::format("{}: {}", where, err.what()));
    } catch (const std::exception& err) {
      ADD_FAILURE() << where << " failed with something else: " << err.what();
    }
  };
  // Runs `a` and hands its error to expect_cast_error (a failure when it succeeds).
  const auto failing = [&](auto a, std::string_view where) -> awaitable<void> {
    std::exception_ptr e;
    try {
      co_await std::move(a);
      ADD_FAILURE() << where << " succeeded";
    } catch (...) {
      e = std::current_exception();
    }
    if (e) expect_cast_error(e, where);
  };
  ::testing::internal::CaptureStderr();
  std::string description;
  pgorm::test::run_coro([&](asio::io_context& io) -> awaitable<void> {
    pgorm::connect_options o;
    o.events = obs;
    pa::connection c = co_await pa::connection::async_connect(io, info, o, use_awaitable);
    description = c.description();
    co_await failing(c.async_exec(sql, use_awaitable), "async_exec");
    const pgorm::param secret_param[] = {pgorm::param::text(right_pw)};
    co_await failing(c.async_exec("select $1::int", secret_param, use_awaitable),
                     "async_exec with the secret as a parameter");
    co_await failing(pa::all(c, raw(), use_awaitable), "async all()");
    pa::pipeline p;
    auto bad = p.add(raw());
    co_await p.async_run(c, use_awaitable);
    try {
      (void)bad.all();
      ADD_FAILURE() << "the pipelined cast succeeded";
    } catch (...) {
      expect_cast_error(std::current_exception(), "async pipeline handle");
    }
    co_await failing(pa::copy_out(
                         c, raw(), [](const one_int&) {}, use_awaitable),
                     "async copy_out");
    co_await failing(pa::run_transaction(
                         c,
                         [&](pa::transaction& tx) -> awaitable<void> {
                           (void)co_await pa::all(tx, raw(), use_awaitable);
                         },
                         use_awaitable),
                     "async transaction");
    c.close();

    pgorm::pool_options po;
    po.max_size = 1;
    po.connection.events = obs;
    pa::pool db(io, info, po);
    co_await failing(pa::all(db, raw(), use_awaitable), "async pool all()");
    pa::pipeline pp;
    auto pooled_bad = pp.add(raw());
    co_await pp.async_run(db, use_awaitable);
    try {
      (void)pooled_bad.all();
      ADD_FAILURE() << "the pooled pipelined cast succeeded";
    } catch (...) {
      expect_cast_error(std::current_exception(), "async pool pipeline handle");
    }
    for (int i = 0; db.stats().in_use > 0 && i < 300; ++i) co_await pgorm::test::sleep_for(10ms);
    db.close();
  });
  const std::string err = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(errors.size(), 8u);
  for (const auto& e : errors) expect_clean(e, "async error");
  expect_clean(description, "async description()");
  EXPECT_THAT(description, ::testing::HasSubstr("user=postgres"));
  expect_clean(obs->rec->text, "observer events");
  EXPECT_THAT(obs->rec->text, ::testing::HasSubstr("invalid input syntax"));
  expect_clean(err, "stderr_logger");
  EXPECT_THAT(err, ::testing::HasSubstr("pgorm: pool connect"));
  EXPECT_TRUE(
      pgorm::fault::eventually([&] { return backends_of(app_name, pg().conninfo()) == 0; }));
}

// A failed async connect (async_connect, and the async pool's acquire) never shows a wrong
// password, in the error, its nested cause, the observer's events or stderr_logger.
TEST_P(async_secrets_test, a_wrong_password_never_shows) {
  const std::string app_name = app("secret_async_bad", pg().conninfo());
  const std::string info = conninfo_with(GetParam(), pg().port(), wrong_pw, app_name);
  auto obs = std::make_shared<both>();
  std::vector<std::string> errors;
  ::testing::internal::CaptureStderr();
  pgorm::test::run_coro([&](asio::io_context& io) -> awaitable<void> {
    pgorm::connect_options o;
    o.connect_timeout = 5s;
    o.events = obs;
    try {
      (void)co_await pa::connection::async_connect(io, info, o, use_awaitable);
      ADD_FAILURE() << "connected with a wrong password";
    } catch (const pgorm::connection_error& e) {
      EXPECT_THAT(e.what(), ::testing::HasSubstr("password authentication failed"));
      errors.emplace_back(e.what());
    }
    pgorm::pool_options po;
    po.acquire_timeout = 2s;
    po.connection = o;
    pa::pool db(io, info, po);
    try {
      (void)co_await pa::all(db, pgorm::query<one_int>("select 1 as v"), use_awaitable);
      ADD_FAILURE() << "an async pool connected with a wrong password";
    } catch (const pgorm::error& e) {
      errors.emplace_back(e.what());
      if (const auto* t = dynamic_cast<const pgorm::pool_timeout*>(&e)) {
        errors.emplace_back(t->last_connect_error());
      }
      try {
        std::rethrow_if_nested(e);
      } catch (const std::exception& cause) {
        EXPECT_THAT(cause.what(), ::testing::HasSubstr("password authentication failed"));
        errors.emplace_back(cause.what());
      }
    }
    db.close();
  });
  const std::string err = ::testing::internal::GetCapturedStderr();
  ASSERT_GE(errors.size(), 2u);
  for (const auto& e : errors) expect_clean(e, "async connect error");
  expect_clean(obs->rec->text, "observer events");
  EXPECT_THAT(obs->rec->text, ::testing::HasSubstr("password authentication failed"));
  expect_clean(err, "stderr_logger");
  EXPECT_THAT(err, ::testing::HasSubstr("connect_failed"));
}

void PrintTo(spelling s, std::ostream* os) { *os << static_cast<int>(s); }

std::string spelling_name(const ::testing::TestParamInfo<spelling>& p) {
  switch (p.param) {
    case spelling::key_value:
      return "key_value";
    case spelling::quoted:
      return "quoted";
    case spelling::uri_userinfo:
      return "uri_userinfo";
    case spelling::uri_query:
      return "uri_query";
    case spelling::percent_encoded:
      return "percent_encoded";
    case spelling::sslpassword:
      return "sslpassword";
  }
  return "unknown";
}

INSTANTIATE_TEST_SUITE_P(spellings, secrets_test,
                         ::testing::Values(spelling::key_value, spelling::quoted,
                                           spelling::uri_userinfo, spelling::uri_query,
                                           spelling::percent_encoded, spelling::sslpassword),
                         spelling_name);
INSTANTIATE_TEST_SUITE_P(spellings, async_secrets_test,
                         ::testing::Values(spelling::key_value, spelling::percent_encoded,
                                           spelling::sslpassword),
                         spelling_name);

}  // namespace
