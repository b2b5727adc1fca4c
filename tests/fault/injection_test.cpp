// SPDX-License-Identifier: MIT
// Injection is impossible by construction (docs/reliability.md, "Injection"): identifiers are
// validated and quoted, values always travel as $n parameters (LIKE patterns escaped with
// escape_like/contains), and raw SQL needs a literal or an explicit unsafe_sql(); a run-time
// string does not compile (tests/compile_fail/raw_sql_runtime_string.cpp). Ends with the leak
// check.

#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "fault/support/leak_check.hpp"
#include "pgorm/detail/identifier.hpp"
#include "pgorm/error.hpp"
#include "pgorm/query.hpp"
#include "pgorm/sql_text.hpp"

namespace injection {

struct User {
  std::int64_t id;
  std::string name;
};

}  // namespace injection

template <>
struct pgorm::table_traits<injection::User> {
  static constexpr std::string_view name = "users";
  static constexpr auto primary_key = pgorm::identity(&injection::User::id);
};

namespace {

using injection::User;
using pgorm::col;
using pgorm::detail::quote_identifier;
using ::testing::HasSubstr;

// Raw SQL accepts literals only: a std::string (built at run time) does not convert; it needs
// pgorm::unsafe_sql(). The compile error itself is tests/compile_fail/raw_sql_runtime_string.cpp.
static_assert(!std::is_convertible_v<std::string, pgorm::sql_literal>);
static_assert(!std::is_convertible_v<std::string_view, pgorm::sql_literal>);
static_assert(!std::is_convertible_v<std::string, pgorm::unsafe_sql_text>);

const std::vector<std::string> hostile = {
    "'; drop table users; --",
    "x' or '1'='1",
    "\"; drop table users; --",
    "$1",
    "50%_off\\",
    "robert'); delete from users where ('1'='1",
};

class injection_test : public pgorm::fault::fault_test {
 protected:
  void SetUp() override {
    fault_test::SetUp();
    conn().exec(
        "create table users (id bigint generated always as identity primary key, "
        "name text not null)");
    conn().exec("insert into users (name) values ('alice'), ('bob'), ('50%_off\\')");
  }
  int users() {
    return std::stoi(std::string(conn().exec("select count(*) from users").value(0, 0)));
  }
};

TEST_F(injection_test, hostile_filter_values_are_parameters_and_leave_the_table_intact) {
  for (const std::string& input : hostile) {
    SCOPED_TRACE(input);
    const auto q = conn().select<User>().where(col<&User::name> == input);
    const auto s = q.to_sql();
    if (input != "$1") {
      EXPECT_EQ(s.sql.find(input), std::string::npos) << s.sql;
    }
    EXPECT_THAT(s.sql, HasSubstr("$1"));
    const auto rows = q.all();
    EXPECT_EQ(rows.size(), input == "50%_off\\" ? 1U : 0U);
    EXPECT_EQ(conn()
                  .update<User>()
                  .set(col<& User::name> = std::string("x"))
                  .where(col<&User::name> == input)
                  .exec(),
              input == "50%_off\\" ? 1 : 0);
    conn().exec("update users set name = '50%_off\\' where name = 'x'");
  }
  EXPECT_EQ(users(), 3);
}

TEST_F(injection_test, hostile_like_input_matches_literally) {
  EXPECT_EQ(conn().select<User>().where(col<&User::name>.like(pgorm::contains("%"))).all().size(),
            1U);
  EXPECT_EQ(conn().select<User>().where(col<&User::name>.like(pgorm::contains("_"))).all().size(),
            1U);
  EXPECT_EQ(conn().select<User>().where(col<&User::name>.like(pgorm::contains("\\"))).all().size(),
            1U);
  EXPECT_EQ(
      conn().select<User>().where(col<&User::name>.ilike(pgorm::starts_with("AL"))).all().size(),
      1U);
  for (const std::string& input : hostile) {
    SCOPED_TRACE(input);
    const auto q = conn().select<User>().where(col<&User::name>.like(pgorm::contains(input)));
    if (input != "$1") {
      EXPECT_EQ(q.to_sql().sql.find(input), std::string::npos);
    }
    EXPECT_EQ(q.all().size(), input == "50%_off\\" ? 1U : 0U);
  }
  EXPECT_EQ(users(), 3);
}

TEST_F(injection_test, ordering_is_chosen_from_columns_never_from_input) {
  // order_by() takes columns and expressions only, so user input can pick a column from a fixed
  // set but never reach the SQL text; hostile input in the same query stays a parameter.
  const std::string input = "name; drop table users; --";
  const bool by_name = input.starts_with("name");
  const auto q = conn()
                     .select<User>()
                     .where(col<&User::name> != input)
                     .order_by(col<&User::name>.desc(), col<&User::id>);
  EXPECT_EQ(q.to_sql().sql.find("drop"), std::string::npos);
  const auto rows = by_name ? q.all() : std::vector<User>{};
  ASSERT_EQ(rows.size(), 3U);
  EXPECT_EQ(rows[0].name, "bob");
  EXPECT_EQ(users(), 3);
}

TEST_F(injection_test, raw_sql_takes_values_as_parameters) {
  for (const std::string& input : hostile) {
    SCOPED_TRACE(input);
    const auto rows = conn().query<User>("select id, name from users where name = $1", input).all();
    EXPECT_EQ(rows.size(), input == "50%_off\\" ? 1U : 0U);
  }
  EXPECT_EQ(users(), 3);
}

TEST_F(injection_test, identifiers_are_quoted_and_validated) {
  EXPECT_EQ(quote_identifier("users"), "users");
  EXPECT_EQ(quote_identifier("user"), "\"user\"");
  EXPECT_EQ(quote_identifier("a\"b"), "\"a\"\"b\"");
  const std::string evil = "evil\"; drop table users; --";
  conn().exec("create table " + quote_identifier(evil) + " (v int)");
  conn().exec("insert into " + quote_identifier(evil) + " values (1)");
  EXPECT_EQ(conn().exec("select count(*) from " + quote_identifier(evil)).value(0, 0), "1");
  EXPECT_EQ(users(), 3);
  EXPECT_THROW((void)quote_identifier(std::string("a\0b", 3)), pgorm::usage_error);
  EXPECT_THROW((void)quote_identifier(std::string(64, 'a')), pgorm::usage_error);
  EXPECT_THROW((void)quote_identifier(""), pgorm::usage_error);
  EXPECT_EQ(quote_identifier(std::string(63, 'a')), std::string(63, 'a'));
  try {
    (void)quote_identifier(std::string(64, 'a'));
  } catch (const pgorm::usage_error& e) {
    EXPECT_THAT(e.what(), HasSubstr("63"));
  }
  // At compile time, an invalid name is a compile error (check_identifier's static_assert).
  static_assert(pgorm::detail::quoted_identifier_v<"user"> == "\"user\"");
  static_assert(!pgorm::detail::is_valid_identifier(
      "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"));  // 64 bytes
}

}  // namespace
