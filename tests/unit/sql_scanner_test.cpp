// SPDX-License-Identifier: MIT
// pgorm's one SQL scanner (pgorm/detail/sql_scanner.hpp): tokens, statements (E'\'' strings,
// BEGIN ATOMIC bodies, nested comments), and the places that use it: sql_literal::scan (at
// compile time too), migrate::split_statements, the observer's table_of / operation_of. Also
// runs the sql_split fuzzer's check on its seeds and regressions (fuzz/checks.hpp).
#include "pgorm/detail/sql_scanner.hpp"

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include "../../fuzz/checks.hpp"
#include "pgorm/migrate.hpp"
#include "pgorm/observer.hpp"
#include "pgorm/sql_text.hpp"

namespace {

namespace sql = pgorm::detail::sql;
using sql::token_kind;

// The tokens that are not white space, as text.
std::vector<std::string> solid(std::string_view text) {
  std::vector<std::string> out;
  sql::scanner scanner(text);
  sql::token t;
  while (scanner.next(t)) {
    if (t.kind != token_kind::space) out.emplace_back(t.text(text));
  }
  return out;
}

token_kind kind_of(std::string_view one_token) {
  sql::scanner scanner(one_token);
  sql::token t;
  EXPECT_TRUE(scanner.next(t));
  EXPECT_EQ(t.end, one_token.size()) << "not one token: " << one_token;
  return t.kind;
}

TEST(sql_scanner, strings_of_every_form_are_one_token) {
  EXPECT_EQ(kind_of("'it''s'"), token_kind::string);
  EXPECT_EQ(kind_of(R"(E'it\'s')"), token_kind::string);  // the issue's E'\''
  EXPECT_EQ(kind_of(R"(e'\\')"), token_kind::string);     // an escaped backslash
  EXPECT_EQ(kind_of(R"(E'\'')"), token_kind::string);
  EXPECT_EQ(kind_of(R"(E'a''b\'c')"), token_kind::string);  // both escapes
  EXPECT_EQ(kind_of("B'1010'"), token_kind::string);
  EXPECT_EQ(kind_of("x'ff'"), token_kind::string);
  EXPECT_EQ(kind_of("N'national'"), token_kind::string);
  EXPECT_EQ(kind_of(R"(U&'d\0061t''a')"), token_kind::string);
  EXPECT_EQ(kind_of(R"(U&"d\0061t""a")"), token_kind::quoted_identifier);
  EXPECT_EQ(kind_of(R"("a""b")"), token_kind::quoted_identifier);
  EXPECT_EQ(kind_of("$$a ' \" -- $$"), token_kind::dollar_string);
  EXPECT_EQ(kind_of("$tag$ $x$ $ta $tag$"), token_kind::dollar_string);
  EXPECT_EQ(kind_of("$_1$body$_1$"), token_kind::dollar_string);
  EXPECT_EQ(kind_of("/* a /* nested */ still */"), token_kind::block_comment);
  EXPECT_EQ(kind_of("-- to the end"), token_kind::line_comment);
  EXPECT_EQ(kind_of("$12"), token_kind::parameter);
  EXPECT_EQ(kind_of("a$1"), token_kind::word);  // $ inside an identifier
  EXPECT_EQ(kind_of("Zoë_9$"), token_kind::word);
  EXPECT_EQ(kind_of("1.5e-3"), token_kind::number);
  EXPECT_EQ(kind_of(".5"), token_kind::number);
}

TEST(sql_scanner, backslashes_count_only_in_e_strings) {
  // standard_conforming_strings: in '...' a backslash is an ordinary character.
  EXPECT_EQ(solid(R"('a\' 'b')"), (std::vector<std::string>{R"('a\')", "'b'"}));
  // In E'...' it escapes the quote, so the string runs on.
  EXPECT_EQ(solid(R"(E'a\' b' c)"), (std::vector<std::string>{R"(E'a\' b')", "c"}));
  // A word that merely ends in e is not a prefix.
  EXPECT_EQ(solid(R"(some'a\' x)"), (std::vector<std::string>{"some", R"('a\')", "x"}));
  // 1e'x' is the number 1 and the string e'x' (PostgreSQL reads it so).
  EXPECT_EQ(solid(R"(1e'\'')"), (std::vector<std::string>{"1", R"(e'\'')"}));
}

TEST(sql_scanner, comments_and_operators) {
  EXPECT_EQ(solid("a<--b\nc"), (std::vector<std::string>{"a", "<", "--b", "c"}));
  EXPECT_EQ(solid("a*/*x*/b"), (std::vector<std::string>{"a", "*", "/*x*/", "b"}));
  EXPECT_EQ(solid("--a\rb"), (std::vector<std::string>{"--a", "b"}));
  EXPECT_EQ(solid("1..10"), (std::vector<std::string>{"1", ".", ".10"}));
  EXPECT_EQ(solid("$ x $1a"), (std::vector<std::string>{"$", "x", "$1", "a"}));
}

TEST(sql_scanner, text_ending_inside_a_token_gives_one_unterminated_last_token) {
  for (const std::string_view text :
       {"select 'abc", "select E'abc\\'", "select \"abc", "select $$abc", "select /* /* */",
        "select $t$ $x$", "select U&'x"}) {
    sql::scanner scanner(text);
    sql::token t;
    sql::token last;
    int count = 0;
    while (scanner.next(t)) {
      last = t;
      ++count;
    }
    EXPECT_EQ(last.end, text.size()) << text;
    EXPECT_FALSE(last.terminated) << text;
    EXPECT_EQ(count, 3) << text;
  }
}

std::vector<std::string> statements(std::string_view text) {
  return pgorm::migrate::split_statements(text);
}

TEST(sql_statements, e_strings_do_not_end_a_statement) {
  EXPECT_EQ(statements(R"(insert into t values (E'it\'s; here'); select 1)"),
            (std::vector<std::string>{R"(insert into t values (E'it\'s; here'))", " select 1"}));
  EXPECT_EQ(statements(R"(select E'\\'; select 2)"),
            (std::vector<std::string>{R"(select E'\\')", " select 2"}));
}

TEST(sql_statements, begin_atomic_bodies_are_one_statement) {
  const std::string function =
      "create function add(a int, b int) returns int language sql\n"
      "begin atomic\n"
      "  select case when a is null then 0 else a end + b;\n"
      "  select 1;\n"
      "end";
  EXPECT_EQ(statements(function + ";\nselect add(1, 2);"),
            (std::vector<std::string>{function, "\nselect add(1, 2)"}));
  const std::string procedure =
      "CREATE OR REPLACE PROCEDURE p() LANGUAGE SQL BEGIN ATOMIC insert into t values (1); "
      "insert into t values (2); END";
  EXPECT_EQ(statements(procedure + "; call p()"),
            (std::vector<std::string>{procedure, " call p()"}));
  // BEGIN elsewhere is a statement of its own, and so is a CREATE that is not a routine.
  EXPECT_EQ(statements("begin; create table begin_end (id int); commit;"),
            (std::vector<std::string>{"begin", " create table begin_end (id int)", " commit"}));
  // A routine without BEGIN ATOMIC ends at its ';' (its body is a dollar-quoted string).
  EXPECT_EQ(statements("create function f() returns int as $$ begin return 1; end $$ language "
                       "plpgsql; select f()"),
            (std::vector<std::string>{
                "create function f() returns int as $$ begin return 1; end $$ language plpgsql",
                " select f()"}));
  // A parameter named begin is inside parentheses: no block.
  EXPECT_EQ(
      statements("create function g(begin int) returns int return 1; select 1"),
      (std::vector<std::string>{"create function g(begin int) returns int return 1", " select 1"}));
}

TEST(sql_statements, keep_their_exact_text_and_drop_empty_ones) {
  const auto parts = statements(
      "create table t (a text default ';'); -- a comment; with ;\n"
      "/* block ; */ create function f() returns int as $body$ select 1; $body$ language sql;\n"
      "select \"a;b\" from t;;  \n -- the end");
  ASSERT_EQ(parts.size(), 3U);
  EXPECT_EQ(parts[0], "create table t (a text default ';')");
  EXPECT_EQ(parts[1],
            " -- a comment; with ;\n/* block ; */ create function f() returns int as $body$ "
            "select 1; $body$ language sql");
  EXPECT_EQ(parts[2], "\nselect \"a;b\" from t");
  // Semicolons inside parentheses do not split (psql's rule).
  EXPECT_EQ(statements("select (1;2); select 3").size(), 2U);
  EXPECT_TRUE(statements(" ; -- nothing\n;/* */").empty());
}

TEST(sql_statements, report_where_each_starts) {
  const std::string_view text = "-- lead\nselect 1;\n\n  select 2";
  sql::statement_splitter splitter(text);
  sql::statement st;
  ASSERT_TRUE(splitter.next(st));
  EXPECT_EQ(st.begin, 0U);
  EXPECT_EQ(text.substr(st.first_token, 8), "select 1");
  ASSERT_TRUE(splitter.next(st));
  EXPECT_EQ(text.substr(st.first_token), "select 2");
  EXPECT_TRUE(st.has_content);
  EXPECT_FALSE(splitter.next(st));
}

// The old scanners read these wrongly: E'\'' ended at the escaped quote, a$1 counted as a
// parameter, and nested comments ended at the first */.
static_assert(pgorm::sql_literal::scan(R"(select E'\'$5', $1)") == 1);
static_assert(pgorm::sql_literal::scan("select a$1, $2 from t$3") == 2);
static_assert(pgorm::sql_literal::scan("select /* /* $4 */ $3 */ $1") == 1);
static_assert(pgorm::sql_literal::scan("select $tag$ $7 $tag$, $$ $6 $$, $2") == 2);
static_assert(pgorm::sql_literal::scan("select $99999") == pgorm::sql_literal::too_large);

TEST(sql_scanner, observer_table_and_operation_use_it) {
  char buffer[16];
  EXPECT_EQ(pgorm::detail::operation_of("/* app: x */ (select 1)", buffer), "SELECT");
  EXPECT_EQ(pgorm::detail::operation_of("-- hi\ninsert into t values (1)", buffer), "INSERT");
  EXPECT_EQ(pgorm::detail::table_of(R"(select E'\' from x' as a from t)"), "t");
  EXPECT_EQ(pgorm::detail::table_of("select 1 /* from y */ from \"S\".\"T\" where a"),
            R"("S"."T")");
  EXPECT_EQ(pgorm::detail::table_of("select $$ from y $$ from z"), "z");
  EXPECT_EQ(pgorm::detail::table_of("delete from -- x\n  auth.session where id = $1"),
            "auth.session");
  EXPECT_EQ(pgorm::detail::table_of("select 1"), "");
}

// ---- the sql_split fuzzer's property, on its seeds and on inputs written for the fixes -----

std::filesystem::path fuzz_dir() {
  return std::filesystem::path(__FILE__).parent_path().parent_path().parent_path() / "fuzz";
}

TEST(sql_scanner, fuzz_seeds_and_regressions_pass_the_check) {
  int count = 0;
  for (const char* sub : {"corpus/sql_split", "corpus/sql_scan", "regressions/sql_split"}) {
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator(fuzz_dir() / sub, ec)) {
      std::ifstream in(entry.path(), std::ios::binary);
      const std::string input{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
      EXPECT_NO_THROW(pgorm::fuzz::check_sql_split(input)) << entry.path();
      ++count;
    }
  }
  EXPECT_GE(count, 15);
  for (const std::string_view input : {"",
                                       ";",
                                       "'",
                                       "E'\\",
                                       "$",
                                       "$$",
                                       "$a",
                                       "$1",
                                       "U&",
                                       "U&'",
                                       "u&\"",
                                       "/*",
                                       "/*/",
                                       "--",
                                       "create function f() begin atomic ; end ; ;",
                                       "create or replace procedure begin case ;",
                                       "create function f() begin atomic end end; x",
                                       "((;",
                                       "))); ;",
                                       "1e",
                                       "1e+",
                                       ".",
                                       "e'"}) {
    EXPECT_NO_THROW(pgorm::fuzz::check_sql_split(input)) << input;
  }
}

}  // namespace
