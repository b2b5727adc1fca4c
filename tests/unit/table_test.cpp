// SPDX-License-Identifier: MIT
// table<T>: column descriptors, every table_traits option, identifier quoting, defaults, renames.

#include "pgorm/table.hpp"

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include <gtest/gtest.h>

#include "pgorm/types.hpp"

namespace shop {

struct User {
  std::int64_t id;
  std::string email;
  std::optional<std::string> name;
  bool is_email_verified = false;
  std::int32_t age;
  std::string role;
  pgorm::timestamptz created_at;
};

struct Session {
  std::int64_t id;
  std::int64_t user_id;
  std::string token;
  pgorm::timestamptz expires_at;
};

struct Membership {
  std::int64_t org_id;
  std::int64_t user_id;
  std::string handle;
};

struct Invite {
  std::int64_t id;
  std::optional<std::int64_t> org_id;
  std::optional<std::int64_t> user_id;
};

struct Category {
  std::int32_t id;
  std::optional<std::int32_t> parent_id;
  std::string title;
};

struct UserProfile {
  std::int64_t user;
  std::string order;
  std::vector<std::string> tags;
};

struct Event {
  std::int64_t key;
  std::int64_t seq;
};

}  // namespace shop

template <>
struct pgorm::table_traits<shop::User> {
  static constexpr std::string_view name = "users";
  static constexpr auto primary_key = pgorm::identity(&shop::User::id);
  static constexpr auto unique = pgorm::columns(&shop::User::email);
  static constexpr auto renames =
      pgorm::renames(pgorm::rename(&shop::User::is_email_verified, "isEmailVerified"));
  static constexpr auto defaults = pgorm::defaults(
      pgorm::default_sql(&shop::User::created_at, "now()"),
      pgorm::default_value(&shop::User::age, 0), pgorm::default_value(&shop::User::role, "member"),
      pgorm::default_value(&shop::User::is_email_verified, false));
  static constexpr auto checks = pgorm::checks(pgorm::check("age_positive", "age >= 0"),
                                               pgorm::check("position('@' in email) > 1"));
};

template <>
struct pgorm::table_traits<shop::Session> {
  static constexpr std::string_view schema = "auth";
  static constexpr auto primary_key =
      pgorm::identity(&shop::Session::id, pgorm::identity_kind::by_default);
  static constexpr auto foreign_keys =
      pgorm::foreign_keys(pgorm::foreign_key(&shop::Session::user_id, &shop::User::id)
                              .on_delete(pgorm::fk_action::cascade)
                              .named("sessions_user_fk"));
  static constexpr auto indexes = pgorm::indexes(
      pgorm::index(&shop::Session::user_id, &shop::Session::expires_at).where("expires_at > now()"),
      pgorm::index(&shop::Session::token).unique().named("sessions_token_idx"),
      pgorm::index(&shop::Session::expires_at).using_method("brin"));
};

template <>
struct pgorm::table_traits<shop::Membership> {
  static constexpr std::string_view name = "Memberships";
  static constexpr std::string_view schema = "Org Data";
  static constexpr auto primary_key =
      pgorm::columns(&shop::Membership::org_id, &shop::Membership::user_id).named("membership_pk");
  static constexpr auto unique = pgorm::uniques(
      pgorm::columns(&shop::Membership::org_id, &shop::Membership::handle).named("handle_key"),
      pgorm::columns(&shop::Membership::handle));
  static constexpr auto foreign_keys =
      pgorm::foreign_keys(pgorm::foreign_key(&shop::Membership::user_id, &shop::User::id)
                              .on_delete(pgorm::fk_action::restrict)
                              .on_update(pgorm::fk_action::no_action));
};

template <>
struct pgorm::table_traits<shop::Invite> {
  static constexpr auto primary_key = pgorm::key(&shop::Invite::id);
  static constexpr auto foreign_keys = pgorm::foreign_keys(
      pgorm::foreign_key(pgorm::columns(&shop::Invite::org_id, &shop::Invite::user_id),
                         pgorm::columns(&shop::Membership::org_id, &shop::Membership::user_id))
          .on_delete(pgorm::fk_action::set_null)
          .on_update(pgorm::fk_action::cascade),
      pgorm::foreign_key(&shop::Invite::user_id, &shop::User::id)
          .on_delete(pgorm::fk_action::set_default));
};

template <>
struct pgorm::table_traits<shop::Category> {
  static constexpr auto primary_key = pgorm::key(&shop::Category::id);
  // A foreign key to its own table.
  static constexpr auto foreign_keys =
      pgorm::foreign_key(&shop::Category::parent_id, &shop::Category::id);
  static constexpr auto renames = pgorm::rename(&shop::Category::title, "Title \"quoted\"");
};

template <>
struct pgorm::table_traits<shop::Event> {
  static constexpr auto primary_key = pgorm::key(&shop::Event::key);
  static constexpr auto identity = pgorm::identity(&shop::Event::seq);
};

namespace {

using users = pgorm::table<shop::User>;
using sessions = pgorm::table<shop::Session>;
using memberships = pgorm::table<shop::Membership>;
using invites = pgorm::table<shop::Invite>;
using categories = pgorm::table<shop::Category>;
using profiles = pgorm::table<shop::UserProfile>;
using events = pgorm::table<shop::Event>;

// Everything below is computed during compilation; the static_asserts are the proof.
static_assert(users::select_list == R"(id, email, name, "isEmailVerified", age, role, created_at)");
static_assert(users::qualified_name == "users");
static_assert(users::column_count == 7);
static_assert(users::column_of<&shop::User::is_email_verified>().sql_name ==
              R"("isEmailVerified")");
static_assert(users::column_index<&shop::User::created_at>() == 6);
static_assert(sessions::qualified_name == "auth.session");
static_assert(memberships::qualified_name == R"("Org Data"."Memberships")");
static_assert(profiles::select_list == R"("user", "order", tags)");
static_assert(profiles::qualified_name == "user_profile");
static_assert(categories::select_list == R"(id, parent_id, "Title ""quoted""")");

TEST(table_columns, descriptor_fields) {
  const pgorm::column_info& id = users::columns[0];
  EXPECT_EQ(id.name, "id");
  EXPECT_EQ(id.sql_name, "id");
  EXPECT_EQ(id.field_name, "id");
  EXPECT_EQ(id.sql_type, "bigint");
  EXPECT_EQ(id.type_oid, 20U);
  EXPECT_FALSE(id.nullable);
  EXPECT_EQ(id.index, 0U);
  EXPECT_TRUE(id.primary_key);
  EXPECT_EQ(id.identity, pgorm::identity_kind::always);
  EXPECT_TRUE(id.is_identity());
  EXPECT_FALSE(id.has_default());

  const pgorm::column_info& name = users::columns[2];
  EXPECT_EQ(name.sql_type, "text");
  EXPECT_EQ(name.type_oid, 25U);
  EXPECT_TRUE(name.nullable);
  EXPECT_FALSE(name.primary_key);
  EXPECT_EQ(name.identity, pgorm::identity_kind::none);

  EXPECT_EQ(users::columns[3].sql_type, "boolean");
  EXPECT_EQ(users::columns[4].sql_type, "integer");
  EXPECT_EQ(users::columns[6].sql_type, "timestamptz");
  EXPECT_EQ(profiles::columns[2].sql_type, "text[]");
}

TEST(table_columns, column_type_alias) {
  EXPECT_TRUE((std::is_same_v<users::column_type<2>, std::optional<std::string>>));
  EXPECT_TRUE((std::is_same_v<users::type, shop::User>));
}

TEST(table_columns, lookup_by_member_pointer) {
  EXPECT_EQ(users::column_index<&shop::User::email>(), 1U);
  EXPECT_EQ(users::column_of<&shop::User::email>().name, "email");
  EXPECT_EQ(users::column_of<&shop::User::is_email_verified>().name, "isEmailVerified");
  EXPECT_EQ(users::column_of<&shop::User::is_email_verified>().field_name, "is_email_verified");
}

TEST(table_columns, lookup_by_name_at_run_time) {
  std::string wanted = "isEmailVerified";
  const pgorm::column_info* c = users::find(wanted);
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->index, 3U);
  EXPECT_EQ(users::find("is_email_verified"), nullptr);
  ASSERT_NE(users::find_field("is_email_verified"), nullptr);
  EXPECT_EQ(users::find_field("is_email_verified")->sql_name, R"("isEmailVerified")");
  EXPECT_EQ(users::find("nope"), nullptr);
  static_assert(users::find("email")->index == 1);
}

TEST(table_names, default_is_snake_case_of_type_name) {
  EXPECT_EQ(profiles::name, "user_profile");
  EXPECT_EQ(events::name, "event");
  EXPECT_EQ(sessions::name, "session");
  EXPECT_EQ(sessions::schema, "auth");
  EXPECT_EQ(users::schema, "");
}

TEST(table_names, explicit_name_and_schema_are_quoted_when_needed) {
  EXPECT_EQ(memberships::name, "Memberships");
  EXPECT_EQ(memberships::schema, "Org Data");
  EXPECT_EQ(memberships::qualified_name, R"("Org Data"."Memberships")");
}

TEST(table_renames, rename_changes_sql_name_only) {
  EXPECT_EQ(users::columns[3].name, "isEmailVerified");
  EXPECT_EQ(users::columns[3].sql_name, "\"isEmailVerified\"");
  EXPECT_EQ(categories::columns[2].name, "Title \"quoted\"");
  EXPECT_EQ(categories::columns[2].sql_name, "\"Title \"\"quoted\"\"\"");
}

TEST(table_keys, single_identity_primary_key) {
  ASSERT_EQ(users::primary_key.size(), 1U);
  EXPECT_EQ(users::primary_key[0], 0U);
  EXPECT_EQ(users::primary_key_columns, "id");
  EXPECT_EQ(users::primary_key_name, "");
}

TEST(table_keys, identity_by_default) {
  EXPECT_EQ(sessions::columns[0].identity, pgorm::identity_kind::by_default);
  EXPECT_EQ(pgorm::to_sql(sessions::columns[0].identity), "GENERATED BY DEFAULT AS IDENTITY");
  EXPECT_EQ(pgorm::to_sql(users::columns[0].identity), "GENERATED ALWAYS AS IDENTITY");
  EXPECT_EQ(pgorm::to_sql(pgorm::identity_kind::none), "");
}

TEST(table_keys, composite_named_primary_key) {
  ASSERT_EQ(memberships::primary_key.size(), 2U);
  EXPECT_EQ(memberships::primary_key[0], 0U);
  EXPECT_EQ(memberships::primary_key[1], 1U);
  EXPECT_EQ(memberships::primary_key_columns, "org_id, user_id");
  EXPECT_EQ(memberships::primary_key_name, "membership_pk");
  EXPECT_TRUE(memberships::columns[0].primary_key);
  EXPECT_TRUE(memberships::columns[1].primary_key);
  EXPECT_FALSE(memberships::columns[2].primary_key);
  EXPECT_FALSE(memberships::columns[0].is_identity());
}

TEST(table_keys, identity_column_outside_the_key) {
  EXPECT_TRUE(events::columns[0].primary_key);
  EXPECT_FALSE(events::columns[0].is_identity());
  EXPECT_FALSE(events::columns[1].primary_key);
  EXPECT_EQ(events::columns[1].identity, pgorm::identity_kind::always);
}

TEST(table_keys, no_primary_key) {
  EXPECT_EQ(profiles::primary_key.size(), 0U);
  EXPECT_EQ(profiles::primary_key_columns, "");
}

TEST(table_defaults, sql_and_values) {
  EXPECT_EQ(users::column_of<&shop::User::created_at>().default_sql, "now()");
  EXPECT_EQ(users::column_of<&shop::User::age>().default_sql, "0");
  EXPECT_EQ(users::column_of<&shop::User::role>().default_sql, "'member'");
  EXPECT_EQ(users::column_of<&shop::User::is_email_verified>().default_sql, "false");
  EXPECT_TRUE(users::column_of<&shop::User::role>().has_default());
  EXPECT_FALSE(users::column_of<&shop::User::email>().has_default());
}

TEST(table_defaults, value_rendering) {
  struct probe {
    std::int64_t n;
  };
  static_assert(pgorm::default_value(&probe::n, -9223372036854775807LL - 1).text() ==
                "-9223372036854775808");
  static_assert(pgorm::default_value(&probe::n, 42U).text() == "42");
  static_assert(pgorm::default_value(&probe::n, true).text() == "true");
  static_assert(pgorm::default_value(&probe::n, "it's").text() == "'it''s'");
  static_assert(pgorm::default_sql(&probe::n, "gen_random_uuid()").text() == "gen_random_uuid()");
}

TEST(table_constraints, unique) {
  ASSERT_EQ(users::uniques.size(), 1U);
  EXPECT_EQ(users::uniques[0].columns, "email");
  EXPECT_EQ(users::uniques[0].name, "");
  EXPECT_EQ(users::uniques[0].sql_name, "");
  ASSERT_EQ(users::uniques[0].column_indices.size(), 1U);
  EXPECT_EQ(users::uniques[0].column_indices[0], 1U);

  ASSERT_EQ(memberships::uniques.size(), 2U);
  EXPECT_EQ(memberships::uniques[0].name, "handle_key");
  EXPECT_EQ(memberships::uniques[0].columns, "org_id, handle");
  EXPECT_EQ(memberships::uniques[0].column_indices[1], 2U);
  EXPECT_EQ(memberships::uniques[1].columns, "handle");
}

TEST(table_constraints, checks) {
  ASSERT_EQ(users::checks.size(), 2U);
  EXPECT_EQ(users::checks[0].name, "age_positive");
  EXPECT_EQ(users::checks[0].sql_name, "age_positive");
  EXPECT_EQ(users::checks[0].expression, "age >= 0");
  EXPECT_EQ(users::checks[1].name, "");
  EXPECT_EQ(users::checks[1].expression, "position('@' in email) > 1");
}

TEST(table_constraints, foreign_keys) {
  ASSERT_EQ(sessions::foreign_keys.size(), 1U);
  const pgorm::foreign_key_info& fk = sessions::foreign_keys[0];
  EXPECT_EQ(fk.name, "sessions_user_fk");
  EXPECT_EQ(fk.columns, "user_id");
  EXPECT_EQ(fk.column_indices[0], 1U);
  EXPECT_EQ(fk.references_table, "users");
  EXPECT_EQ(fk.references_columns, "id");
  EXPECT_EQ(fk.on_delete, pgorm::fk_action::cascade);
  EXPECT_EQ(fk.on_update, pgorm::fk_action::no_action);

  EXPECT_EQ(memberships::foreign_keys[0].on_delete, pgorm::fk_action::restrict);

  ASSERT_EQ(invites::foreign_keys.size(), 2U);
  EXPECT_EQ(invites::foreign_keys[0].columns, "org_id, user_id");
  EXPECT_EQ(invites::foreign_keys[0].references_table, R"("Org Data"."Memberships")");
  EXPECT_EQ(invites::foreign_keys[0].references_columns, "org_id, user_id");
  EXPECT_EQ(invites::foreign_keys[0].on_delete, pgorm::fk_action::set_null);
  EXPECT_EQ(invites::foreign_keys[0].on_update, pgorm::fk_action::cascade);
  EXPECT_EQ(invites::foreign_keys[1].on_delete, pgorm::fk_action::set_default);

  EXPECT_EQ(categories::foreign_keys[0].references_table, "category");
  EXPECT_EQ(categories::foreign_keys[0].columns, "parent_id");
}

TEST(table_constraints, fk_action_sql) {
  EXPECT_EQ(pgorm::to_sql(pgorm::fk_action::no_action), "NO ACTION");
  EXPECT_EQ(pgorm::to_sql(pgorm::fk_action::restrict), "RESTRICT");
  EXPECT_EQ(pgorm::to_sql(pgorm::fk_action::cascade), "CASCADE");
  EXPECT_EQ(pgorm::to_sql(pgorm::fk_action::set_null), "SET NULL");
  EXPECT_EQ(pgorm::to_sql(pgorm::fk_action::set_default), "SET DEFAULT");
}

TEST(table_indexes, multi_column_partial_unique_named_method) {
  ASSERT_EQ(sessions::indexes.size(), 3U);
  EXPECT_EQ(sessions::indexes[0].columns, "user_id, expires_at");
  EXPECT_EQ(sessions::indexes[0].where, "expires_at > now()");
  EXPECT_FALSE(sessions::indexes[0].unique);
  EXPECT_EQ(sessions::indexes[0].name, "");
  EXPECT_EQ(sessions::indexes[1].columns, "token");
  EXPECT_TRUE(sessions::indexes[1].unique);
  EXPECT_EQ(sessions::indexes[1].name, "sessions_token_idx");
  EXPECT_EQ(sessions::indexes[2].method, "brin");
  EXPECT_EQ(sessions::indexes[2].column_indices[0], 3U);
}

// Each list option may be given as one item or as a list; both read the same.
struct ticket_one {
  std::int64_t id;
  std::int64_t owner_id;
  std::string code;
  std::string state;
};
struct ticket_list {
  std::int64_t id;
  std::int64_t owner_id;
  std::string code;
  std::string state;
};

}  // namespace

template <>
struct pgorm::table_traits<ticket_one> {
  static constexpr auto primary_key = pgorm::identity(&ticket_one::id);
  static constexpr auto renames = pgorm::rename(&ticket_one::state, "State");
  static constexpr auto defaults = pgorm::default_value(&ticket_one::state, "open");
  static constexpr auto unique = pgorm::columns(&ticket_one::code).named("ticket_code_key");
  static constexpr auto indexes = pgorm::index(&ticket_one::owner_id).where("owner_id > 0");
  static constexpr auto foreign_keys = pgorm::foreign_key(&ticket_one::owner_id, &shop::User::id)
                                           .on_delete(pgorm::fk_action::cascade);
  static constexpr auto checks = pgorm::check("code_set", "code <> ''");
};
template <>
struct pgorm::table_traits<ticket_list> {
  static constexpr auto primary_key = pgorm::identity(&ticket_list::id);
  static constexpr auto renames = pgorm::renames(pgorm::rename(&ticket_list::state, "State"));
  static constexpr auto defaults =
      pgorm::defaults(pgorm::default_value(&ticket_list::state, "open"));
  static constexpr auto unique =
      pgorm::uniques(pgorm::columns(&ticket_list::code).named("ticket_code_key"));
  static constexpr auto indexes =
      pgorm::indexes(pgorm::index(&ticket_list::owner_id).where("owner_id > 0"));
  static constexpr auto foreign_keys =
      pgorm::foreign_keys(pgorm::foreign_key(&ticket_list::owner_id, &shop::User::id)
                              .on_delete(pgorm::fk_action::cascade));
  static constexpr auto checks = pgorm::checks(pgorm::check("code_set", "code <> ''"));
};

namespace {

template <class T>
void expect_ticket_options() {
  using t = pgorm::table<T>;
  EXPECT_EQ(t::select_list, R"(id, owner_id, code, "State")");
  EXPECT_EQ(t::columns[3].default_sql, "'open'");
  EXPECT_TRUE(t::columns[0].is_identity());
  ASSERT_EQ(t::uniques.size(), 1U);
  EXPECT_EQ(t::uniques[0].name, "ticket_code_key");
  EXPECT_EQ(t::uniques[0].columns, "code");
  ASSERT_EQ(t::indexes.size(), 1U);
  EXPECT_EQ(t::indexes[0].columns, "owner_id");
  EXPECT_EQ(t::indexes[0].where, "owner_id > 0");
  ASSERT_EQ(t::foreign_keys.size(), 1U);
  EXPECT_EQ(t::foreign_keys[0].columns, "owner_id");
  EXPECT_EQ(t::foreign_keys[0].references_table, "users");
  EXPECT_EQ(t::foreign_keys[0].references_columns, "id");
  EXPECT_EQ(t::foreign_keys[0].on_delete, pgorm::fk_action::cascade);
  ASSERT_EQ(t::checks.size(), 1U);
  EXPECT_EQ(t::checks[0].name, "code_set");
  EXPECT_EQ(t::checks[0].expression, "code <> ''");
}

TEST(table_options, one_item_reads_as_a_list_of_one) {
  expect_ticket_options<ticket_one>();
  expect_ticket_options<ticket_list>();
}

TEST(quote_identifier, plain_names_stay_bare) {
  EXPECT_EQ(pgorm::detail::quote_identifier("email"), "email");
  EXPECT_EQ(pgorm::detail::quote_identifier("_x1$"), "_x1$");
  EXPECT_EQ(pgorm::detail::quote_identifier("id_"), "id_");
  // "non-reserved (cannot be function or type)" keywords are valid column names bare.
  EXPECT_EQ(pgorm::detail::quote_identifier("time"), "time");
  EXPECT_EQ(pgorm::detail::quote_identifier("position"), "position");
  EXPECT_EQ(pgorm::detail::quote_identifier("values"), "values");
  EXPECT_EQ(pgorm::detail::quote_identifier("type"), "type");
}

TEST(quote_identifier, reserved_keywords_are_quoted) {
  for (std::string_view word :
       {"user", "order", "select", "table", "group", "check", "default", "left", "join", "is",
        "like", "verbose", "collation", "all", "with", "system_user"}) {
    EXPECT_EQ(pgorm::detail::quote_identifier(word), "\"" + std::string(word) + "\"") << word;
  }
}

TEST(quote_identifier, upper_case_and_odd_characters_are_quoted) {
  EXPECT_EQ(pgorm::detail::quote_identifier("isActive"), "\"isActive\"");
  EXPECT_EQ(pgorm::detail::quote_identifier("1st"), "\"1st\"");
  EXPECT_EQ(pgorm::detail::quote_identifier("a b"), "\"a b\"");
  EXPECT_EQ(pgorm::detail::quote_identifier("$x"), "\"$x\"");
  EXPECT_EQ(pgorm::detail::quote_identifier("é"), "\"é\"");
  EXPECT_EQ(pgorm::detail::quote_identifier("a\"b"), "\"a\"\"b\"");
}

TEST(quote_identifier, invalid_identifiers_throw_naming_them) {
  const std::string too_long(64, 'a');
  EXPECT_NO_THROW(pgorm::detail::quote_identifier(std::string(63, 'a')));
  try {
    pgorm::detail::quote_identifier(too_long);
    FAIL() << "expected usage_error";
  } catch (const pgorm::usage_error& e) {
    EXPECT_NE(std::string(e.what()).find(too_long), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("63"), std::string::npos) << e.what();
  }
  EXPECT_THROW(pgorm::detail::quote_identifier(std::string_view("a\0b", 3)), pgorm::usage_error);
  EXPECT_THROW(pgorm::detail::quote_identifier(""), pgorm::usage_error);
}

TEST(quote_identifier, compile_time) {
// clang 16 cannot evaluate libstdc++ 12's std::string in a constant expression (its SSO buffer
// is a union member that clang's evaluator refuses to activate): checked at run time there.
#if defined(__clang__) && defined(_GLIBCXX_RELEASE) && _GLIBCXX_RELEASE < 13
  EXPECT_EQ(pgorm::detail::quote_identifier("user"), "\"user\"");
#else
  static_assert(pgorm::detail::quote_identifier("user") == "\"user\"");
#endif
  static_assert(pgorm::detail::quoted_identifier_v<"user"> == "\"user\"");
  static_assert(pgorm::detail::quoted_identifier_v<"email"> == "email");
  static_assert(pgorm::detail::needs_quoting("Email"));
  static_assert(!pgorm::detail::needs_quoting("email"));
  static_assert(pgorm::detail::is_reserved_keyword("order"));
  static_assert(!pgorm::detail::is_reserved_keyword("time"));
  SUCCEED();
}

TEST(quote_identifier, keyword_table_is_sorted) {
  const auto& words = pgorm::detail::reserved_keywords;
  EXPECT_TRUE(std::is_sorted(words.begin(), words.end()));
}

}  // namespace

// ---- naming policies ---------------------------------------------------------------------------

namespace naming_it {
struct CamelRow {
  std::string id;
  std::string user_id;
  bool email_verified;
  std::int32_t line2_total;
  std::int32_t _private_;
  std::optional<std::string> alreadyCamel;
};
struct SnakeRow {
  std::int64_t id;
  std::string emailVerified;
  std::string userID;
  std::string HTTPStatus;
};
struct RenamedRow {
  std::int64_t id;
  std::string created_at;
  std::string provider_id;
};
struct shared_traits {
  using naming = pgorm::naming::camel_case;
};
struct upper {
  template <class Out>
  static constexpr void write(std::string_view field, Out& out) {
    for (char c : field) out.append(c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c);
  }
};
struct UpperRow {
  std::int64_t id;
  std::string full_name;
};
}  // namespace naming_it

template <>
struct pgorm::table_traits<naming_it::CamelRow> {
  using naming = pgorm::naming::camel_case;
};
template <>
struct pgorm::table_traits<naming_it::SnakeRow> {
  using naming = pgorm::naming::snake_case;
};
template <>
struct pgorm::table_traits<naming_it::RenamedRow> : naming_it::shared_traits {
  static constexpr auto renames = pgorm::rename(&naming_it::RenamedRow::provider_id, "provider");
};
template <>
struct pgorm::table_traits<naming_it::UpperRow> {
  using naming = naming_it::upper;
};

namespace {

TEST(table_naming, camel_case_quotes_what_it_capitalizes) {
  using t = pgorm::table<naming_it::CamelRow>;
  EXPECT_EQ(t::columns[1].name, "userId");
  EXPECT_EQ(t::columns[2].name, "emailVerified");
  EXPECT_EQ(t::columns[3].name, "line2Total");
  EXPECT_EQ(t::columns[4].name, "_private_");
  EXPECT_EQ(t::columns[5].name, "alreadyCamel");
  EXPECT_EQ(t::select_list,
            R"(id, "userId", "emailVerified", "line2Total", _private_, "alreadyCamel")");
  // The C++ field names are unchanged: lookups by field still work.
  EXPECT_EQ(t::column_of<&naming_it::CamelRow::email_verified>().sql_name, R"("emailVerified")");
  ASSERT_NE(t::find_field("user_id"), nullptr);
  EXPECT_EQ(t::find_field("user_id")->name, "userId");
}

TEST(table_naming, snake_case_splits_words_and_acronyms) {
  using t = pgorm::table<naming_it::SnakeRow>;
  EXPECT_EQ(t::select_list, "id, email_verified, user_id, http_status");
}

TEST(table_naming, a_rename_wins_and_traits_inherit_the_policy) {
  using t = pgorm::table<naming_it::RenamedRow>;
  EXPECT_EQ(t::select_list, R"(id, "createdAt", provider)");
}

TEST(table_naming, a_policy_of_ones_own) {
  static_assert(pgorm::naming_policy<naming_it::upper>);
  static_assert(!pgorm::naming_policy<int>);
  EXPECT_EQ(pgorm::table<naming_it::UpperRow>::select_list, R"("ID", "FULL_NAME")");
}

}  // namespace
