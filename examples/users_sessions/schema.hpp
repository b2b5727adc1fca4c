// SPDX-License-Identifier: MIT
#pragma once

// The seed app's schema (seed 004) as plain structs: Better Auth's core tables (user, session,
// account, verification) with their quoted camelCase columns and text ids, and the app's own
// waitlist. The fields are snake_case C++; one naming policy (pgorm::naming::camel_case) maps
// them to the columns, e.g. email_verified -> "emailVerified", with no rename per column.
//
// migrations/0001_auth_schema.sql was written from these structs by
//   users_sessions migrate generate auth_schema
// (pgorm::migrate::main<...>, see main.cpp), and the demo checks that the migrated database and
// the structs agree (pgorm::schema::diff). What was assumed where the seed's files were not at
// hand is listed in README.md.

#include <optional>
#include <string>
#include <string_view>

#include <pgorm/pgorm.hpp>

namespace auth {

// Better Auth's core schema. Better Auth writes createdAt/updatedAt itself (no column
// defaults) and its PostgreSQL schema uses `timestamp` (without time zone): the app stores UTC.

struct User {
  std::string id;
  std::string name;
  std::string email;
  bool email_verified = false;
  std::optional<std::string> image{};
  pgorm::timestamp created_at{};
  pgorm::timestamp updated_at{};
};

struct Session {
  std::string id;
  pgorm::timestamp expires_at{};
  std::string token;
  pgorm::timestamp created_at{};
  pgorm::timestamp updated_at{};
  std::optional<std::string> ip_address{};
  std::optional<std::string> user_agent{};
  std::string user_id;
};

struct Account {
  std::string id;
  std::string account_id;   // the provider's id of the user; the user's id for "credential"
  std::string provider_id;  // "credential" (e-mail and password), "github", "google", ...
  std::string user_id;
  std::optional<std::string> access_token{};
  std::optional<std::string> refresh_token{};
  std::optional<std::string> id_token{};
  std::optional<pgorm::timestamp> access_token_expires_at{};
  std::optional<pgorm::timestamp> refresh_token_expires_at{};
  std::optional<std::string> scope{};
  std::optional<std::string> password{};  // a password hash, for providerId "credential"
  pgorm::timestamp created_at{};
  pgorm::timestamp updated_at{};
};

struct Verification {
  std::string id;
  std::string identifier;
  std::string value;
  pgorm::timestamp expires_at{};
  pgorm::timestamp created_at{};
  pgorm::timestamp updated_at{};
};

// The app's waitlist: a text id, an e-mail unique under the name waitlist_email_key (the name
// the app matches when the duplicate answers 409), and two indexes.
struct Waitlist {
  std::string id;
  std::string email;
  std::optional<std::string> name{};
  std::optional<std::string> source{};  // where the sign-up came from ("landing", "blog", ...)
  pgorm::defaulted<pgorm::timestamp> created_at{};
};

// The profile the app shows: only these three columns are selected (a partial select).
struct Profile {
  std::string id;
  std::string name;
  std::string email;
};

// Every table of the app uses Better Auth's column naming.
struct camel_case_columns {
  using naming = pgorm::naming::camel_case;
};

}  // namespace auth

template <>
struct pgorm::table_traits<auth::User> : auth::camel_case_columns {
  static constexpr std::string_view name = "user";
  static constexpr auto primary_key = pgorm::key(&auth::User::id);
  static constexpr auto unique = pgorm::columns(&auth::User::email);
};

template <>
struct pgorm::table_traits<auth::Session> : auth::camel_case_columns {
  static constexpr auto primary_key = pgorm::key(&auth::Session::id);
  static constexpr auto unique = pgorm::columns(&auth::Session::token);
  static constexpr auto foreign_keys = pgorm::foreign_key(&auth::Session::user_id, &auth::User::id)
                                           .on_delete(pgorm::fk_action::cascade);
};

template <>
struct pgorm::table_traits<auth::Account> : auth::camel_case_columns {
  static constexpr auto primary_key = pgorm::key(&auth::Account::id);
  static constexpr auto foreign_keys = pgorm::foreign_key(&auth::Account::user_id, &auth::User::id)
                                           .on_delete(pgorm::fk_action::cascade);
};

template <>
struct pgorm::table_traits<auth::Verification> : auth::camel_case_columns {
  static constexpr auto primary_key = pgorm::key(&auth::Verification::id);
};

template <>
struct pgorm::table_traits<auth::Waitlist> : auth::camel_case_columns {
  static constexpr auto primary_key = pgorm::key(&auth::Waitlist::id);
  static constexpr auto unique = pgorm::columns(&auth::Waitlist::email).named("waitlist_email_key");
  static constexpr auto indexes =
      pgorm::indexes(pgorm::index(&auth::Waitlist::created_at).named("waitlist_created_at_idx"),
                     pgorm::index(&auth::Waitlist::source).named("waitlist_source_idx"));
  static constexpr auto defaults =
      pgorm::default_sql(&auth::Waitlist::created_at, "CURRENT_TIMESTAMP");
};
