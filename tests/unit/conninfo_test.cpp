// SPDX-License-Identifier: MIT
#include <algorithm>
#include <chrono>
#include <string>
#include <string_view>
#include <vector>

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
  EXPECT_EQ(scrub_secrets("nothing here", {}), "nothing here");
}

// A secret shorter than 4 bytes is masked only where it stands as a value: between delimiters
// (white space, quotes, = : @ ? & , ( ) [ ]) or the ends of the text.
TEST(conninfo_redaction, one_character_password_is_masked_as_a_value_not_inside_words) {
  const std::string_view info = "host=db password=a dbname=app";
  const auto secrets = conninfo_secrets(info);
  ASSERT_EQ(secrets, std::vector<std::string>{"a"});
  EXPECT_EQ(scrub_secrets(redact_conninfo(info), secrets), "host=db password=*** dbname=app");
  EXPECT_EQ(scrub_secrets("FATAL: password authentication failed for user \"app\"", secrets),
            "FATAL: password authentication failed for user \"app\"");
  EXPECT_EQ(scrub_secrets("relation \"accounts\" does not exist", secrets),
            "relation \"accounts\" does not exist");
  // As a value: quoted, after '=', in a URL's user-info or query, alone, in a list.
  EXPECT_EQ(scrub_secrets("invalid value: \"a\"", secrets), "invalid value: \"***\"");
  EXPECT_EQ(scrub_secrets("invalid value: 'a'", secrets), "invalid value: '***'");
  EXPECT_EQ(scrub_secrets(std::string(info), secrets), "host=db password=*** dbname=app");
  EXPECT_EQ(scrub_secrets("postgresql://app:a@db/app", secrets), "postgresql://app:***@db/app");
  EXPECT_EQ(scrub_secrets("postgresql://db/app?password=a&sslmode=require", secrets),
            "postgresql://db/app?password=***&sslmode=require");
  EXPECT_EQ(scrub_secrets("a", secrets), "***");
  EXPECT_EQ(scrub_secrets("(a, a)\ta\n", secrets), "(***, ***)\t***\n");
  // Glued to anything else it is part of another word: a.b, a-b, a/b, a_b.
  EXPECT_EQ(scrub_secrets("a.b a-b /a/ a_b *a*", secrets), "a.b a-b /a/ a_b *a*");
  // A 4-byte secret is masked anywhere.
  EXPECT_EQ(scrub_secrets("passwords", {"word"}), "pass***s");
  EXPECT_EQ(scrub_secrets("passwords", {"wor"}), "passwords");
  EXPECT_EQ(scrub_secrets("pass=wor", {"wor"}), "pass=***");
}

TEST(conninfo_redaction, short_secret_next_to_a_mask_is_not_taken_for_a_value) {
  // "ab" is glued to "hunter2" in the text; masking hunter2 must not make it a value, and
  // the scrubbed text shows no "ab" between delimiters.
  EXPECT_EQ(scrub_secrets("x=hunter2ab y", {"hunter2", "ab"}), "x=***ab y");
  EXPECT_EQ(scrub_secrets("x=abhunter2 y", {"hunter2", "ab"}), "x=ab*** y");
  EXPECT_EQ(scrub_secrets("x=ab y=hunter2", {"hunter2", "ab"}), "x=*** y=***");
}

TEST(conninfo_redaction, overlapping_and_nested_secrets_are_hidden_whole) {
  // Overlapping occurrences merge into one mask, so no part of either shows.
  EXPECT_EQ(scrub_secrets("x abcdefgh y", {"abcdef", "cdefgh"}), "x *** y");
  EXPECT_EQ(scrub_secrets("x abcdefgh y", {"cdefgh", "abcdef"}), "x *** y");
  // Nested: the longer one is hidden whole, the shorter one also on its own.
  EXPECT_EQ(scrub_secrets("password1 word swordfish", {"word", "password1"}), "*** *** s***fish");
  // A short secret inside a long one, and prefixes of one another.
  EXPECT_EQ(scrub_secrets("'p@ss w0rd' w0 w0r w0rd", {"p@ss w0rd", "w0", "w0rd"}),
            "'***' *** w0r ***");
  EXPECT_EQ(scrub_secrets("abcd abce abcx bcd", {"abcd", "abce", "bcdx", "bcd"}),
            "*** *** abcx ***");
  // Adjacent occurrences are masked one by one.
  EXPECT_EQ(scrub_secrets("hunter2hunter2", {"hunter2"}), "******");
  // The same secret twice in the list changes nothing.
  EXPECT_EQ(scrub_secrets("k=hunter2", {"hunter2", "hunter2"}), "k=***");
  const auto secrets = conninfo_secrets("password=pw sslpassword=pw");
  EXPECT_EQ(std::count(secrets.begin(), secrets.end(), "pw"), 1);
}

TEST(conninfo_redaction, many_secrets_are_matched_in_one_pass) {
  // 3,000 secrets, many of them prefixes of others ("pw1" of "pw12" of "pw123"), each written
  // once as a value: every one is masked whole, none as its shorter prefix.
  std::vector<std::string> secrets;
  std::string text;
  std::string expected;
  for (int i = 1; i <= 3000; ++i) {
    secrets.push_back("pw" + std::to_string(i));
    text += "k=pw" + std::to_string(i) + " ";
    expected += "k=*** ";
  }
  text += "pw pw0 pw";
  expected += "pw pw0 pw";
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(scrub_secrets(text, secrets), expected);
  // Milliseconds; the old secret-by-secret rescan needed seconds for far fewer.
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  // A text with none of them is returned as it is.
  EXPECT_EQ(scrub_secrets("pgorm: statement timeout", secrets), "pgorm: statement timeout");
}

TEST(conninfo_redaction, masks_are_not_scanned_again) {
  // A secret made of the mask's own characters, or equal to it, is matched in the input only.
  EXPECT_EQ(scrub_secrets("password=a", {"a", "*"}), "password=***");
  EXPECT_EQ(scrub_secrets("x=a y", {"a", "***"}), "x=*** y");
  EXPECT_EQ(scrub_secrets("x=a y=* z=***", {"a", "*"}), "x=*** y=*** z=***");
  EXPECT_EQ(scrub_secrets("pw", {"pw", "***", "**", "*"}), "***");
  // Linear growth at most: each mask stands for at least one byte of the input.
  std::string many;
  for (int i = 0; i < 10000; ++i) many += "a ";
  const std::string scrubbed = scrub_secrets(many, {"a", "*", "**", "***"});
  EXPECT_EQ(scrubbed.size(), 4U * 10000U);
  EXPECT_EQ(scrubbed.find("a"), std::string::npos);
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
