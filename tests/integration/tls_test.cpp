// SPDX-License-Identifier: MIT
// TLS end to end: a throwaway server with a generated CA and certificate (support/tls.hpp).
// sslmode semantics are libpq's (PostgreSQL docs 34.19 "SSL Support", table 34.1); these tests
// check that pgorm passes them through untouched, on first connect, on reconnect, for cancel,
// and that its errors never show a password or a key passphrase. Label: fault.
#include "support/tls.hpp"

#include <chrono>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "pgorm/connection.hpp"
#include "pgorm/error.hpp"
#include "pgorm/pool.hpp"
#include "pgorm/testing/server.hpp"
#include "support/db_test.hpp"

namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

constexpr std::string_view server_password = "pgorm-tls-server-pw-7c2e";
constexpr std::string_view select_ssl = "select ssl from pg_stat_ssl where pid = pg_backend_pid()";

class tls_test : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    files_ = std::make_unique<pgorm::test::tls_files>();
    pgorm::testing::server_options options;
    options.tcp = true;
    options.host_auth = "scram-sha-256";
    options.password = std::string(server_password);
    options.settings = files_->server_settings();
    tls_server_ = std::make_unique<pgorm::testing::server>(std::move(options));
  }
  static void TearDownTestSuite() {
    plain_server_.reset();
    tls_server_.reset();
    files_.reset();
  }

  /// The same server without TLS (ssl = off), started on first use.
  static const pgorm::testing::server& plain_server() {
    if (!plain_server_) {
      plain_server_ = std::make_unique<pgorm::testing::server>(
          pgorm::testing::server_options{.tcp = true, .settings = {{"ssl", "off"}}});
    }
    return *plain_server_;
  }

  /// key=value conninfo for the TLS server at `host`, with `sslmode` and the CA `root`.
  static std::string conninfo(std::string_view host, std::string_view sslmode, const fs::path& root,
                              std::string_view extra = {}) {
    return fmt::format(
        "host={} port={} user=postgres dbname=postgres password={} sslmode={} sslrootcert={} "
        "connect_timeout=10 {}",
        host, tls_server_->port(), server_password, sslmode, root.string(), extra);
  }
  static std::string verify_full() { return conninfo("localhost", "verify-full", ca()); }
  static fs::path ca() { return files_->ca_cert(); }

  static bool encrypted(pgorm::connection& conn) {
    return conn.exec(select_ssl).value(0, 0) == "t";
  }

  static std::unique_ptr<pgorm::test::tls_files> files_;
  static std::unique_ptr<pgorm::testing::server> tls_server_;
  static std::unique_ptr<pgorm::testing::server> plain_server_;
};

std::unique_ptr<pgorm::test::tls_files> tls_test::files_;
std::unique_ptr<pgorm::testing::server> tls_test::tls_server_;
std::unique_ptr<pgorm::testing::server> tls_test::plain_server_;

/// what() of the connection_error that connecting with `info` throws ("" when it connects).
std::string connect_error(const std::string& info) {
  try {
    pgorm::connection conn{info, {.connect_timeout = 10s}};
  } catch (const pgorm::connection_error& e) {
    return e.what();
  }
  return {};
}

// ---- verification ------------------------------------------------------------------------

TEST_F(tls_test, verify_full_with_the_right_ca_and_host_name_connects_encrypted) {
  pgorm::connection conn{verify_full()};
  EXPECT_TRUE(encrypted(conn));
  const auto r = conn.exec("select version from pg_stat_ssl where pid = pg_backend_pid()");
  EXPECT_TRUE(std::string_view(r.value(0, 0)).starts_with("TLSv1.")) << r.value(0, 0);
}

TEST_F(tls_test, verify_full_matches_an_ip_address_host_against_the_certificate) {
  // The certificate's subjectAltName has IP:127.0.0.1 (libpq 14+ matches IP SANs).
  pgorm::connection conn{conninfo("127.0.0.1", "verify-full", ca())};
  EXPECT_TRUE(encrypted(conn));
}

TEST_F(tls_test, verify_full_fails_with_a_ca_that_did_not_sign_the_server_certificate) {
  const auto what = connect_error(conninfo("localhost", "verify-full", files_->other_ca_cert()));
  ASSERT_FALSE(what.empty()) << "connected although the CA is wrong";
  EXPECT_NE(what.find("certificate verify failed"), std::string::npos) << what;
}

TEST_F(tls_test, verify_ca_also_fails_with_the_wrong_ca) {
  const auto what = connect_error(conninfo("localhost", "verify-ca", files_->other_ca_cert()));
  EXPECT_FALSE(what.empty()) << "connected although the CA is wrong";
}

TEST_F(tls_test, verify_full_fails_when_the_host_name_is_not_in_the_certificate) {
  // host= is the name verify-full checks; hostaddr= is where libpq actually connects.
  const auto what =
      connect_error(conninfo("not-in-the-cert.invalid", "verify-full", ca(), "hostaddr=127.0.0.1"));
  ASSERT_FALSE(what.empty()) << "connected although the host name does not match";
  EXPECT_NE(what.find("not-in-the-cert.invalid"), std::string::npos) << what;
}

TEST_F(tls_test, verify_ca_does_not_check_the_host_name) {
  // The contrast to the test above: the same wrong name is fine when only the CA is checked,
  // so that test failed because of the name and nothing else.
  pgorm::connection conn{
      conninfo("not-in-the-cert.invalid", "verify-ca", ca(), "hostaddr=127.0.0.1")};
  EXPECT_TRUE(encrypted(conn));
}

TEST_F(tls_test, sslmode_disable_is_plaintext_so_the_encryption_check_can_fail) {
  pgorm::connection conn{conninfo("localhost", "disable", ca())};
  EXPECT_FALSE(encrypted(conn));
}

// ---- no fallback to plaintext ------------------------------------------------------------

TEST_F(tls_test, require_and_verify_modes_never_fall_back_to_plaintext) {
  const auto& plain = plain_server();
  for (const auto* mode : {"require", "verify-ca", "verify-full"}) {
    const auto info = fmt::format(
        "host=localhost port={} user=postgres dbname=postgres sslmode={} sslrootcert={}",
        plain.port(), mode, ca().string());
    const auto what = connect_error(info);
    EXPECT_FALSE(what.empty()) << "sslmode=" << mode << " connected to a server without TLS";
    EXPECT_NE(what.find("does not support SSL"), std::string::npos) << what;
  }
}

TEST_F(tls_test, prefer_falls_back_to_plaintext_on_a_server_without_tls) {
  // What require forbids: prefer (libpq's default) silently connects in plaintext.
  pgorm::connection conn{
      fmt::format("host=localhost port={} user=postgres dbname=postgres "
                  "sslmode=prefer",
                  plain_server().port())};
  EXPECT_FALSE(encrypted(conn));
}

TEST_F(tls_test, url_with_sslmode_verify_full_never_falls_back) {
  const auto url = fmt::format(
      "postgresql://postgres@localhost:{}/postgres?sslmode=verify-full&"
      "sslrootcert={}",
      plain_server().port(), ca().string());
  EXPECT_FALSE(connect_error(url).empty());
}

// ---- reconnect and cancel keep TLS -------------------------------------------------------

TEST_F(tls_test, a_second_connection_from_the_same_conninfo_is_tls_again) {
  const auto info = verify_full();
  int first_pid = 0;
  {
    pgorm::connection first{info};
    ASSERT_TRUE(encrypted(first));
    first_pid = first.backend_pid();
  }
  pgorm::connection second{info};
  EXPECT_NE(second.backend_pid(), first_pid);
  EXPECT_TRUE(encrypted(second));
}

TEST_F(tls_test, the_url_form_keeps_tls_settings_too) {
  const auto url = fmt::format(
      "postgresql://postgres:{}@localhost:{}/postgres?sslmode=verify-full&sslrootcert={}",
      server_password, tls_server_->port(), ca().string());
  pgorm::connection a{url};
  pgorm::connection b{url};
  EXPECT_TRUE(encrypted(a));
  EXPECT_TRUE(encrypted(b));
}

TEST_F(tls_test, cancel_from_another_thread_works_over_tls) {
  pgorm::connection conn{verify_full(), pgorm::test::test_options()};
  ASSERT_TRUE(encrypted(conn));
  std::jthread canceller([&conn] {
    std::this_thread::sleep_for(300ms);
    conn.cancel();
  });
  const auto start = std::chrono::steady_clock::now();
  EXPECT_THROW(conn.exec("select pg_sleep(30)"), pgorm::query_canceled);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 20s);
  canceller.join();
  // The connection survives the cancel, still encrypted.
  EXPECT_TRUE(encrypted(conn));
}

TEST_F(tls_test, exec_timeout_cancels_over_tls) {
  pgorm::connection conn{verify_full(), pgorm::test::test_options()};
  EXPECT_THROW(conn.exec("select pg_sleep(30)", {}, pgorm::data_format::text, 300ms),
               pgorm::query_canceled);
  EXPECT_TRUE(encrypted(conn));
}

TEST_F(tls_test, pool_reconnects_over_tls_after_pg_terminate_backend) {
  pgorm::pool db{verify_full(), {.max_size = 1, .health_check_after = 0ms}};
  const auto pid = db.with_connection([](pgorm::connection& c) {
    EXPECT_TRUE(encrypted(c));
    return c.backend_pid();
  });
  pgorm::connection killer{verify_full()};
  killer.exec(fmt::format("select pg_terminate_backend({})", pid));
  // The pool finds its idle connection dead and opens a new one from the same conninfo.
  std::optional<int> new_pid;
  for (int attempt = 0; attempt < 3 && !new_pid; ++attempt) {
    try {
      new_pid = db.with_connection([](pgorm::connection& c) {
        EXPECT_TRUE(encrypted(c));
        return c.backend_pid();
      });
    } catch (const pgorm::error& e) {
      ADD_FAILURE() << "the pool handed out the dead connection: " << e.what();
    }
  }
  ASSERT_TRUE(new_pid.has_value());
  EXPECT_NE(*new_pid, pid);
  const auto r = db.exec(select_ssl, std::span<const pgorm::param>{});
  EXPECT_EQ(r.value(0, 0), "t");
}

// ---- client certificates and secrets -----------------------------------------------------

TEST_F(tls_test, client_certificate_with_an_encrypted_key_is_sent_with_sslpassword) {
  pgorm::connection conn{conninfo(
      "localhost", "verify-full", ca(),
      fmt::format("sslcert={} sslkey={} sslpassword={}", files_->client_cert().string(),
                  files_->client_key().string(), pgorm::test::tls_files::client_key_passphrase))};
  const auto r = conn.exec("select client_dn from pg_stat_ssl where pid = pg_backend_pid()");
  EXPECT_EQ(r.value(0, 0), "/CN=postgres");
}

TEST_F(tls_test, connection_errors_never_show_the_password_or_the_sslpassword) {
  constexpr std::string_view wrong_password = "wrong-pw-5b9a1e";
  constexpr std::string_view wrong_passphrase = "wrong-passphrase-0c77d2";
  const std::string right_passphrase = pgorm::test::tls_files::client_key_passphrase;
  const auto client = [&](std::string_view passphrase) {
    return fmt::format("sslcert={} sslkey={} sslpassword={}", files_->client_cert().string(),
                       files_->client_key().string(), passphrase);
  };
  const auto port = tls_server_->port();
  struct scenario {
    std::string name;
    std::string conninfo;
  };
  const scenario scenarios[] = {
      {"wrong password, key=value",
       fmt::format("host=localhost port={} user=postgres dbname=postgres password={} "
                   "sslmode=verify-full sslrootcert={}",
                   port, wrong_password, ca().string())},
      {"wrong password, URL",
       fmt::format("postgresql://postgres:{}@localhost:{}/postgres?sslmode=verify-full&"
                   "sslrootcert={}",
                   wrong_password, port, ca().string())},
      {"wrong key passphrase, key=value",
       conninfo("localhost", "verify-full", ca(), client(wrong_passphrase))},
      {"wrong key passphrase, URL",
       fmt::format("postgresql://postgres@localhost:{}/postgres?sslmode=verify-full&"
                   "sslrootcert={}&sslcert={}&sslkey={}&sslpassword={}",
                   port, ca().string(), files_->client_cert().string(),
                   files_->client_key().string(), wrong_passphrase)},
      {"right passphrase, wrong CA",
       conninfo("localhost", "verify-full", files_->other_ca_cert(), client(right_passphrase))},
      {"right passphrase, wrong host name",
       conninfo("not-in-the-cert.invalid", "verify-full", ca(),
                "hostaddr=127.0.0.1 " + client(right_passphrase))},
      {"right password and passphrase, quoted, server without TLS",
       fmt::format("host=localhost port={} user=postgres password='{}' sslmode=require "
                   "sslpassword='{}'",
                   plain_server().port(), server_password, right_passphrase)},
  };
  for (const auto& s : scenarios) {
    SCOPED_TRACE(s.name);
    const auto what = connect_error(s.conninfo);
    ASSERT_FALSE(what.empty()) << "connected";
    for (const std::string_view secret :
         {wrong_password, wrong_passphrase, std::string_view(right_passphrase), server_password}) {
      EXPECT_EQ(what.find(secret), std::string::npos) << "leaks " << secret << ": " << what;
    }
  }
}

}  // namespace
