// SPDX-License-Identifier: MIT
#include "pgorm/connection.hpp"

#include <array>
#include <chrono>
#include <cstring>
#include <string>
#include <thread>

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "pgorm/testing/server.hpp"
#include "support/db_test.hpp"
#include "support/silent_listener.hpp"

namespace {

using namespace std::chrono_literals;
using pgorm::param;
using pgorm::test::silent_listener;

class connection_test : public pgorm::test::db_test {};

// A port on 127.0.0.1 where nothing listens: bind, read the port, close.
int closed_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

TEST_F(connection_test, connects_and_reports_server_facts) {
  EXPECT_TRUE(conn().is_open());
  EXPECT_GE(conn().server_version(), 100000);
  EXPECT_GT(conn().backend_pid(), 0);
  EXPECT_EQ(conn().status(), pgorm::transaction_status::idle);
  const auto r = conn().exec("select pg_backend_pid()::text");
  EXPECT_EQ(r.value(0, 0), std::to_string(conn().backend_pid()));
}

TEST_F(connection_test, connects_from_url_and_key_value_forms) {
  pgorm::testing::server pg{{.tcp = true}};
  pgorm::connection by_url{pg.url()};
  pgorm::connection by_kv{pg.conninfo()};
  EXPECT_EQ(by_url.exec("select current_user").value(0, 0), "postgres");
  EXPECT_EQ(by_kv.exec("select inet_server_port()::text").value(0, 0), std::to_string(pg.port()));
}

TEST_F(connection_test, honours_libpq_environment_variables) {
  pgorm::testing::server pg{{.tcp = true}};
  ::setenv("PGHOST", "127.0.0.1", 1);
  ::setenv("PGPORT", std::to_string(pg.port()).c_str(), 1);
  ::setenv("PGUSER", "postgres", 1);
  ::setenv("PGDATABASE", "postgres", 1);
  pgorm::connection c{""};
  ::unsetenv("PGHOST");
  ::unsetenv("PGPORT");
  ::unsetenv("PGUSER");
  ::unsetenv("PGDATABASE");
  EXPECT_EQ(c.exec("select inet_server_port()::text").value(0, 0), std::to_string(pg.port()));
}

TEST_F(connection_test, transaction_status_follows_the_session) {
  conn().exec("begin");
  EXPECT_EQ(conn().status(), pgorm::transaction_status::in_transaction);
  EXPECT_THROW(conn().exec("select 1/0"), pgorm::sql_error);
  EXPECT_EQ(conn().status(), pgorm::transaction_status::in_error);
  conn().exec("rollback");
  EXPECT_EQ(conn().status(), pgorm::transaction_status::idle);
}

TEST_F(connection_test, text_and_binary_parameters_and_results) {
  const auto text =
      conn().exec("select $1::int4 + 1, $2::text", {param::text("41"), param::text("x")});
  EXPECT_EQ(text.value(0, 0), "42");
  EXPECT_EQ(text.column_format(0), pgorm::data_format::text);

  // int4 42 in the binary wire format: 4 bytes, big-endian.
  const std::array<std::byte, 4> forty_two{std::byte{0}, std::byte{0}, std::byte{0}, std::byte{42}};
  const auto bin = conn().exec("select $1::int4 * 2", {param::binary(forty_two, 23)},
                               pgorm::data_format::binary);
  EXPECT_EQ(bin.column_format(0), pgorm::data_format::binary);
  EXPECT_EQ(bin.column_type(0), 23U);
  const std::string_view bytes = bin.value(0, 0);
  ASSERT_EQ(bytes.size(), 4U);
  EXPECT_EQ(static_cast<unsigned char>(bytes[3]), 84);
}

TEST_F(connection_test, results_expose_rows_columns_tags_and_counts) {
  conn().exec("create table item (id int primary key, label text)");
  const auto inserted = conn().exec("insert into item values (1, 'a'), (2, 'b'), (3, null)");
  EXPECT_EQ(inserted.command_tag(), "INSERT 0 3");
  EXPECT_EQ(inserted.affected_rows(), 3);
  EXPECT_EQ(inserted.rows(), 0);

  const auto updated =
      conn().exec("update item set label = 'z' where id >= $1", {param::text("2")});
  EXPECT_EQ(updated.affected_rows(), 2);
  EXPECT_EQ(updated.command_tag(), "UPDATE 2");

  const auto r = conn().exec("select id, label as \"Label\" from item order by id");
  EXPECT_EQ(r.rows(), 3);
  EXPECT_EQ(r.columns(), 2);
  EXPECT_EQ(r.column_name(1), "Label");
  EXPECT_EQ(r.column_index("Label"), 1);
  EXPECT_EQ(r.column_index("label"), std::nullopt);
  EXPECT_EQ(r.column_type(0), 23U);
  EXPECT_NE(r.column_table(0), 0U);
  EXPECT_EQ(r.affected_rows(), 3);
  EXPECT_EQ(r.value(2, 0), "3");
  EXPECT_THROW((void)r.value(3, 0), pgorm::usage_error);
  EXPECT_THROW((void)r.value(0, 2), pgorm::usage_error);
  EXPECT_THROW((void)r.column_name(5), pgorm::usage_error);
}

TEST_F(connection_test, affected_rows_reads_every_tag_that_carries_a_count) {
  conn().exec("create table n (v int)");
  EXPECT_EQ(conn().exec("create table m (v int)").affected_rows(), 0);  // "CREATE TABLE"
  EXPECT_EQ(conn().exec("insert into n select generate_series(1, 12)").affected_rows(), 12);
  EXPECT_EQ(conn().exec("update n set v = v + 1 where v > 2").affected_rows(), 10);
  EXPECT_EQ(conn().exec("delete from n where v > 10").affected_rows(), 3);
  EXPECT_EQ(conn().exec("select * from n").affected_rows(), 9);
  EXPECT_EQ(conn()
                .exec("merge into n using (select 1 as v) s on n.v = s.v "
                      "when matched then update set v = 100")
                .affected_rows(),
            1);
  EXPECT_EQ(conn().exec("create table n2 as select * from n").affected_rows(), 9);  // "SELECT 9"
  conn().exec("begin");
  conn().exec("declare c cursor for select * from n order by v");
  EXPECT_EQ(conn().exec("move 2 in c").affected_rows(), 2);
  EXPECT_EQ(conn().exec("fetch 4 from c").affected_rows(), 4);
  EXPECT_EQ(conn().exec("commit").affected_rows(), 0);                // "COMMIT"
  EXPECT_EQ(conn().exec("set work_mem = '8MB'").affected_rows(), 0);  // "SET"
  EXPECT_EQ(conn().exec("discard all").affected_rows(), 0);           // "DISCARD ALL"
  EXPECT_EQ(pgorm::result{}.affected_rows(), 0);
}

TEST_F(connection_test, discard_all_with_a_deadline_resets_the_session) {
  conn().exec("set work_mem = '7MB'");
  conn().exec("create temp table scratch (v int)");
  (void)conn().exec("select $1::int", {param::text("1")});
  ASSERT_GT(conn().prepared_statements(), 0U);
  conn().discard_all(std::chrono::seconds(2));
  EXPECT_EQ(conn().prepared_statements(), 0U);
  EXPECT_EQ(conn().exec("show work_mem").value(0, 0), "4MB");
  EXPECT_EQ(conn().exec("select to_regclass('pg_temp.scratch') is null").value(0, 0), "t");
  EXPECT_EQ(conn().exec("select $1::int", {param::text("2")}).value(0, 0), "2");  // prepared anew

  // Inside a transaction block the server refuses (25001); the connection stays usable.
  // The statements stay prepared (and cached) then.
  conn().exec("begin");
  const std::size_t cached = conn().prepared_statements();
  EXPECT_THROW(conn().discard_all(std::chrono::seconds(2)), pgorm::sql_error);
  conn().exec("rollback");
  EXPECT_EQ(conn().prepared_statements(), cached);
  EXPECT_EQ(conn().exec("select $1::int", {param::text("3")}).value(0, 0), "3");
  EXPECT_EQ(conn().exec("select count(*) from pg_prepared_statements").value(0, 0),
            std::to_string(cached));
}

TEST_F(connection_test, nulls_travel_both_ways_and_differ_from_empty_text) {
  const auto r = conn().exec("select $1::text, $2::text, $1::text is null, $2::text is null",
                             {param::null(), param::text("")});
  EXPECT_TRUE(r.is_null(0, 0));
  EXPECT_EQ(r.get(0, 0), std::nullopt);
  EXPECT_FALSE(r.is_null(0, 1));
  EXPECT_EQ(r.get(0, 1), std::optional<std::string_view>(""));
  EXPECT_EQ(r.value(0, 2), "t");
  EXPECT_EQ(r.value(0, 3), "f");
}

TEST_F(connection_test, one_megabyte_of_text_round_trips) {
  std::string big(1 << 20, 'x');
  for (std::size_t i = 0; i < big.size(); i += 7) big[i] = static_cast<char>('a' + i % 26);
  const auto r = conn().exec("select $1::text, length($1::text)", {param::text(big)});
  EXPECT_EQ(r.value(0, 0), big);
  EXPECT_EQ(r.value(0, 1), std::to_string(big.size()));
}

TEST_F(connection_test, embedded_nul_in_text_parameter_is_refused_not_truncated) {
  const std::string with_nul("ab\0cd", 5);
  try {
    conn().exec("select $1::text, $2::text", {param::text("fine"), param::text(with_nul)});
    FAIL() << "a text parameter with NUL was accepted";
  } catch (const pgorm::conversion_error& e) {
    EXPECT_EQ(e.column(), "$2");
    EXPECT_NE(std::string(e.what()).find("NUL"), std::string::npos) << e.what();
  }
  // As binary text, the server refuses it itself (22021); nothing is truncated either way.
  const std::string_view bytes = with_nul;
  try {
    conn().exec("select $1::text", {param::binary(std::as_bytes(std::span(bytes)), 25)});
    FAIL() << "the server accepted NUL in text";
  } catch (const pgorm::sql_error& e) {
    EXPECT_EQ(e.sqlstate(), "22021");
  }
  EXPECT_EQ(conn().exec("select 'still usable'").value(0, 0), "still usable");
}

TEST_F(connection_test, invalid_utf8_is_a_sql_error_22021) {
  for (const std::string& bad : {std::string("\xff"), std::string("a\xc3("),
                                 std::string("\xe2\x28\xa1"), std::string("\xf0\x90\x28\xbc")}) {
    try {
      conn().exec("select $1::text", {param::text(bad)});
      FAIL() << "invalid UTF-8 was accepted";
    } catch (const pgorm::sql_error& e) {
      EXPECT_EQ(e.sqlstate(), "22021") << e.what();
    }
  }
  EXPECT_TRUE(conn().is_open());
}

TEST_F(connection_test, malformed_conninfo_is_a_connection_error) {
  EXPECT_THROW(pgorm::connection{"host=localhost no_such_option=1"}, pgorm::connection_error);
  EXPECT_THROW(pgorm::connection{"host='unterminated"}, pgorm::connection_error);
  EXPECT_THROW(pgorm::connection{"postgresql://host:notaport/db"}, pgorm::connection_error);
  try {
    pgorm::connection c{"host=localhost no_such_option=1 password=hunter2"};
  } catch (const pgorm::connection_error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("no_such_option"), std::string::npos) << what;
    EXPECT_EQ(what.find("hunter2"), std::string::npos) << what;
  }
}

TEST_F(connection_test, wrong_password_never_shows_a_password) {
  pgorm::testing::server pg{{.tcp = true, .host_auth = "scram-sha-256", .password = "right-pw"}};
  const std::string host = "127.0.0.1";
  const std::string port = std::to_string(pg.port());
  // Every spelling of a (wrong) password, plus sslpassword.
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"host=" + host + " port=" + port + " user=postgres password=wr0ng-pw", "wr0ng-pw"},
      {"host=" + host + " port=" + port + " user=postgres password='wr0ng pw'", "wr0ng pw"},
      {"postgresql://postgres:wr0ngpw@" + host + ":" + port + "/postgres", "wr0ngpw"},
      {"postgresql://postgres@" + host + ":" + port + "/postgres?password=wr0ngpw", "wr0ngpw"},
      {"postgresql://postgres:wr%40ng%20pw@" + host + ":" + port + "/postgres", "wr@ng pw"},
      {"host=" + host + " port=" + port + " user=postgres password=wr0ng sslpassword=keyp4ss",
       "keyp4ss"},
  };
  for (const auto& [info, secret] : cases) {
    try {
      pgorm::connection c{info, {.connect_timeout = 5s}};
      FAIL() << "connected with a wrong password";
    } catch (const pgorm::connection_error& e) {
      const std::string what = e.what();
      EXPECT_NE(what.find("password authentication failed"), std::string::npos) << what;
      EXPECT_EQ(what.find(secret), std::string::npos) << what;
      EXPECT_EQ(what.find("wr0ng"), std::string::npos) << what;
      EXPECT_EQ(what.find("wr%40ng"), std::string::npos) << what;
      EXPECT_EQ(what.find("right-pw"), std::string::npos) << what;
    }
  }
  pgorm::connection ok{"host=" + host + " port=" + port + " user=postgres password=right-pw"};
  EXPECT_TRUE(ok.is_open());
  EXPECT_EQ(ok.description().find("right-pw"), std::string::npos) << ok.description();
}

TEST_F(connection_test, connect_timeout_below_libpq_granularity_is_honoured) {
  silent_listener blackhole;
  const std::string info =
      "host=127.0.0.1 port=" + std::to_string(blackhole.port()) + " user=x dbname=x";
  const auto start = std::chrono::steady_clock::now();
  EXPECT_THROW(pgorm::connection(info, {.connect_timeout = 300ms}), pgorm::connection_error);
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_GE(took, 290ms);
  // Generous (a busy machine); ./dev reliability reports the precise overshoot.
  EXPECT_LE(took, 3300ms) << std::chrono::duration_cast<std::chrono::milliseconds>(took).count();
}

TEST_F(connection_test, refused_connection_fails_fast) {
  const auto start = std::chrono::steady_clock::now();
  EXPECT_THROW(pgorm::connection("host=127.0.0.1 port=" + std::to_string(closed_port()),
                                 {.connect_timeout = 5s}),
               pgorm::connection_error);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 3s);  // at once, not after the 5 s timeout
}

TEST_F(connection_test, close_is_idempotent_and_later_use_throws) {
  pgorm::connection c{conninfo()};
  c.close();
  c.close();
  EXPECT_FALSE(c.is_open());
  EXPECT_THROW(c.exec("select 1"), pgorm::connection_error);
}

TEST_F(connection_test, moves_transfer_the_connection) {
  pgorm::connection a{conninfo()};
  const int pid = a.backend_pid();
  pgorm::connection b{std::move(a)};
  EXPECT_EQ(b.backend_pid(), pid);
  pgorm::connection c{conninfo()};
  c = std::move(b);
  EXPECT_EQ(c.backend_pid(), pid);
  EXPECT_EQ(c.exec("select 1").value(0, 0), "1");
}

TEST_F(connection_test, a_terminated_backend_gives_a_poisoning_connection_error) {
  pgorm::connection victim{conninfo()};
  conn().exec("select pg_terminate_backend($1::int)",
              {param::text(std::to_string(victim.backend_pid()))});
  try {
    victim.exec("select 1");
    FAIL() << "a terminated backend still answered";
  } catch (const pgorm::connection_error& e) {
    EXPECT_TRUE(e.poisons_connection());
  }
  EXPECT_FALSE(victim.is_open());
}

TEST_F(connection_test, too_many_parameters_are_refused_before_sending) {
  std::vector<param> params(65536, param::text("1"));
  EXPECT_THROW(conn().exec("select 1", params), pgorm::usage_error);
  EXPECT_TRUE(conn().is_open());
}

}  // namespace
