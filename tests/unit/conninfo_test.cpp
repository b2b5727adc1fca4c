// SPDX-License-Identifier: MIT
#include <string>
#include <string_view>

#include <gtest/gtest.h>

#include "pgorm/connection.hpp"
#include "pgorm/observer.hpp"

namespace {

using pgorm::detail::conninfo_secrets;
using pgorm::detail::redact_conninfo;
using pgorm::detail::scrub_secrets;

// A redacted conninfo must not contain any part of the secret, and must keep the rest; a message
// that quotes the whole secret (as written in the conninfo) loses it when scrubbed.
void expect_redacted(std::string_view conninfo, std::string_view secret, std::string_view must_keep,
                     std::string_view whole_secret = {}) {
  const std::string redacted = redact_conninfo(conninfo);
  EXPECT_EQ(redacted.find(secret), std::string::npos) << redacted;
  EXPECT_NE(redacted.find(must_keep), std::string::npos) << redacted;
  if (whole_secret.empty()) whole_secret = secret;
  const std::string message = "failed near \"" + std::string(whole_secret) + "\" in the string";
  EXPECT_EQ(scrub_secrets(message, conninfo_secrets(conninfo)).find(secret), std::string::npos);
}

TEST(conninfo_redaction, key_value_password) {
  expect_redacted("host=db port=5432 user=app password=hunter2 dbname=app", "hunter2",
                  "dbname=app");
  EXPECT_EQ(redact_conninfo("host=db password=hunter2 dbname=app"),
            "host=db password=*** dbname=app");
}

TEST(conninfo_redaction, key_value_quoted_password_with_spaces) {
  expect_redacted("host=db password='a b c' user=app", "a b", "user=app", "a b c");
  EXPECT_EQ(redact_conninfo("host=db password='a b c' user=app"), "host=db password=*** user=app");
}

TEST(conninfo_redaction, key_value_escaped_quote_and_spaces_around_equals) {
  const std::string_view info = R"(host=db password = 'it\'s secret' user=app)";
  expect_redacted(info, "secret", "user=app", "it's secret");
  const auto secrets = conninfo_secrets(info);
  EXPECT_NE(std::find(secrets.begin(), secrets.end(), "it's secret"), secrets.end());
}

TEST(conninfo_redaction, uri_userinfo_password) {
  expect_redacted("postgresql://app:s3cret@db.example:5432/app", "s3cret", "app@db.example");
  EXPECT_EQ(redact_conninfo("postgresql://app:s3cret@db:5432/app"), "postgresql://app@db:5432/app");
  expect_redacted("postgres://app:s3cret@db/app", "s3cret", "postgres://app@db/app");
}

TEST(conninfo_redaction, uri_query_password) {
  expect_redacted("postgresql://db/app?user=app&password=s3cret&sslmode=require", "s3cret",
                  "sslmode=require");
  EXPECT_EQ(redact_conninfo("postgresql://db/app?password=s3cret&sslmode=require"),
            "postgresql://db/app?password=***&sslmode=require");
}

TEST(conninfo_redaction, uri_percent_encoded_password) {
  // "p@ss w0rd" percent-encoded: neither the encoded nor the decoded spelling may survive.
  const std::string_view info = "postgresql://app:p%40ss%20w0rd@db/app";
  expect_redacted(info, "p%40ss%20w0rd", "app@db/app");
  const auto secrets = conninfo_secrets(info);
  EXPECT_NE(std::find(secrets.begin(), secrets.end(), "p@ss w0rd"), secrets.end());
  EXPECT_EQ(scrub_secrets("auth failed for p@ss w0rd", secrets).find("p@ss"), std::string::npos);
  expect_redacted("postgresql://db/app?password=p%40ss", "p%40ss", "postgresql://db/app");
}

TEST(conninfo_redaction, sslpassword) {
  expect_redacted("host=db sslpassword=keypass sslkey=/k.pem", "keypass", "sslkey=/k.pem");
  expect_redacted("postgresql://db/app?sslpassword=keypass&sslmode=verify-full", "keypass",
                  "sslmode=verify-full");
}

TEST(conninfo_redaction, leaves_conninfo_without_secret_alone) {
  EXPECT_EQ(redact_conninfo("host=/tmp port=5432 dbname=app"), "host=/tmp port=5432 dbname=app");
  EXPECT_EQ(redact_conninfo("postgresql://app@db/app"), "postgresql://app@db/app");
  EXPECT_TRUE(conninfo_secrets("host=/tmp dbname=app").empty());
}

TEST(conninfo_redaction, malformed_input_still_masks) {
  // An unterminated quote: libpq rejects it, and the message must not echo the password.
  expect_redacted("host=db password='unterminated user=app", "unterminated", "host=db",
                  "'unterminated user=app");
  expect_redacted("postgresql://app:s3cret%zz@db/app", "s3cret", "@db/app", "s3cret%zz");
}

TEST(conninfo_redaction, scrub_replaces_every_occurrence) {
  EXPECT_EQ(scrub_secrets("pw pw pw", {"pw"}), "*** *** ***");
  EXPECT_EQ(scrub_secrets("nothing here", {""}), "nothing here");
}

}  // namespace

namespace {

TEST(observer_fields, operation_and_table_of_statements) {
  char buffer[16];
  EXPECT_EQ(pgorm::detail::operation_of("  select 1", buffer), "SELECT");
  EXPECT_EQ(pgorm::detail::table_of(R"(SELECT id, email FROM "user" WHERE id = $1)"), R"("user")");
  EXPECT_EQ(pgorm::detail::table_of("select x from auth.session s join t on true"), "auth.session");
  EXPECT_EQ(pgorm::detail::table_of("SELECT (SELECT max(a) FROM inner_t) FROM outer_t"), "outer_t");
  EXPECT_EQ(pgorm::detail::table_of("INSERT INTO waitlist (email) VALUES ($1)"), "waitlist");
  EXPECT_EQ(pgorm::detail::table_of("UPDATE account SET balance = 1"), "account");
  EXPECT_EQ(pgorm::detail::table_of("DELETE FROM session WHERE token = $1"), "session");
  EXPECT_EQ(pgorm::detail::table_of("select 'from x' as from_text"), "");
  EXPECT_EQ(pgorm::detail::table_of("BEGIN"), "");
}

}  // namespace
