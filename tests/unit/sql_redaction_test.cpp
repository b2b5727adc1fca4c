// SPDX-License-Identifier: MIT
// Secrets written into SQL text (PASSWORD '...', connection strings in literals) are masked
// before the text reaches an observer or an error; everything else is left as written, and an
// error's position still points at the same place.

#include "pgorm/detail/sql_redaction.hpp"

#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

namespace {

namespace sql = pgorm::detail::sql;

TEST(sql_redaction, a_password_literal_is_masked_in_every_spelling) {
  EXPECT_EQ(sql::redact_secrets("CREATE ROLE app LOGIN PASSWORD 'hunter2'"),
            "CREATE ROLE app LOGIN PASSWORD '***'");
  EXPECT_EQ(sql::redact_secrets("alter user app with encrypted password E'hun\\'ter2'"),
            "alter user app with encrypted password '***'");
  EXPECT_EQ(sql::redact_secrets("ALTER ROLE app PASSWORD $q$hunter2$q$ VALID UNTIL 'infinity'"),
            "ALTER ROLE app PASSWORD '***' VALID UNTIL 'infinity'");
  EXPECT_EQ(sql::redact_secrets("alter role app Password /* new */ 'a''b'"),
            "alter role app Password /* new */ '***'");
  EXPECT_EQ(sql::redact_secrets("alter role app password 'hun'\n'ter2'"),
            "alter role app password '***'\n'***'");
  EXPECT_EQ(sql::redact_secrets("CREATE USER MAPPING FOR app SERVER s OPTIONS (user 'app', "
                                "password 'hunter2')"),
            "CREATE USER MAPPING FOR app SERVER s OPTIONS (user 'app', password '***')");
  // Text that ends inside the literal: the rest is masked.
  EXPECT_EQ(sql::redact_secrets("alter role app password 'hunter2"),
            "alter role app password '***'");
}

// Found by the sql_split fuzzer: E'a'x'b' is two strings (the second an X'' string); written
// as '***''***' they would read as one string holding a quote.
TEST(sql_redaction, a_mask_never_touches_a_quote) {
  const std::string once = sql::redact_secrets("alter role a password E'p\\'w'x'; x' $$y$$'z'");
  EXPECT_EQ(once, "alter role a password '***' '***' '***' '***'");
  EXPECT_EQ(sql::redact_secrets(once), once);
}

TEST(sql_redaction, a_connection_string_literal_is_masked) {
  EXPECT_EQ(sql::redact_secrets("CREATE SUBSCRIPTION s CONNECTION 'host=h password=hunter2' "
                                "PUBLICATION p"),
            "CREATE SUBSCRIPTION s CONNECTION '***' PUBLICATION p");
  EXPECT_EQ(sql::redact_secrets("select dblink_connect('postgresql://app:hunter2@db/app')"),
            "select dblink_connect('***')");
}

TEST(sql_redaction, other_text_is_left_as_written) {
  for (const std::string_view text :
       {"select * from users where password_hash = $1", "select 'https://example.org/x'",
        "select \"password\" from accounts where id = $1", "alter role app password null",
        "select 1 -- password 'x' in a comment is not executed",
        "comment on column t.password "
        "is 'the hash'"}) {
    EXPECT_EQ(sql::redact_secrets(text), text);
  }
  EXPECT_FALSE(sql::may_hold_secret("select id, name from users where id = $1"));
  EXPECT_TRUE(sql::may_hold_secret("ALTER ROLE a PASSWORD 'x'"));
  EXPECT_EQ(sql::redacted("select 1"), "select 1");
}

TEST(sql_redaction, an_error_position_keeps_pointing_at_the_same_text) {
  const std::string_view text = "alter role app password 'hunter2' bogus";
  int position = static_cast<int>(text.find("bogus")) + 1;
  const std::string out = sql::redact_secrets(text, &position);
  ASSERT_GT(position, 0);
  EXPECT_EQ(out.substr(static_cast<std::size_t>(position) - 1), "bogus");

  // Into the masked literal: onto its quote.
  position = static_cast<int>(text.find("ter2")) + 1;
  EXPECT_EQ(sql::redact_secrets(text, &position), out);
  EXPECT_EQ(out[static_cast<std::size_t>(position) - 1], '\'');
  EXPECT_EQ(static_cast<std::size_t>(position) - 1, out.find("'***'"));

  // Positions count characters, not bytes.
  const std::string_view wide = "select 'é', 'password=é€' , bogus";
  position = 29;  // 'b' of bogus, in characters (33 in bytes)
  ASSERT_EQ(sql::character_count(wide.substr(0, wide.find("bogus"))) + 1, 29U);
  const std::string wide_out = sql::redact_secrets(wide, &position);
  EXPECT_EQ(wide_out, "select 'é', '***' , bogus");
  EXPECT_EQ(sql::character_count(wide_out.substr(0, wide_out.find("bogus"))) + 1,
            static_cast<std::size_t>(position));

  // No position, and a position before any literal, stay as they are.
  position = 0;
  sql::redact_secrets(text, &position);
  EXPECT_EQ(position, 0);
  position = 3;
  sql::redact_secrets(text, &position);
  EXPECT_EQ(position, 3);
}

TEST(sql_redaction, the_masked_bodies_are_returned_for_scrubbing_messages) {
  std::vector<std::string> masked;
  sql::redact_secrets(
      "alter role a password 'hunter2'; create subscription s connection "
      "'password=swordfish' publication p; alter role b password $t$x'y$t$",
      nullptr, &masked);
  EXPECT_EQ(masked, (std::vector<std::string>{"hunter2", "password=swordfish", "x'y"}));
}

}  // namespace
