// SPDX-License-Identifier: MIT
#pragma once

// The authentication schema of the seed apps (Prisma, Drizzle, Better Auth), as plain structs.
// The migration in migrations/0001_auth_schema.sql creates exactly these tables; the demo checks
// that with pgorm::schema::diff. Every field is written by insert() as it is; the
// pgorm::defaulted ones take their column's DEFAULT unless the row sets them.

#include <cstdint>
#include <optional>
#include <string>

#include <pgorm/pgorm.hpp>

namespace auth {

struct User {
  std::string id;
  std::string email;
  std::optional<std::string> name{};
  bool email_verified = false;
  pgorm::defaulted<pgorm::timestamptz> created_at{};
  pgorm::defaulted<pgorm::timestamptz> updated_at{};
};

struct Session {
  std::string id;
  std::string user_id;
  std::string token;
  pgorm::timestamptz expires_at{};
  std::optional<std::string> ip_address{};
  std::optional<std::string> user_agent{};
  pgorm::defaulted<pgorm::timestamptz> created_at{};
  pgorm::defaulted<pgorm::timestamptz> updated_at{};
};

struct Account {
  std::string id;
  std::string user_id;
  std::string provider;
  std::string provider_account_id;
  std::optional<std::string> access_token{};
  std::optional<pgorm::timestamptz> access_token_expires_at{};
  pgorm::defaulted<pgorm::timestamptz> created_at{};
};

struct Verification {
  std::string id;
  std::string identifier;
  std::string value;
  pgorm::timestamptz expires_at{};
  pgorm::defaulted<pgorm::timestamptz> created_at{};
};

struct Waitlist {
  std::int64_t id = 0;
  std::string email;
  pgorm::defaulted<std::string> role{};
  pgorm::defaulted<pgorm::timestamptz> created_at{};
};

}  // namespace auth

template <>
struct pgorm::table_traits<auth::User> {
  static constexpr std::string_view name = "user";
  static constexpr auto primary_key = pgorm::key(&auth::User::id);
  static constexpr auto unique = pgorm::columns(&auth::User::email);
  static constexpr auto defaults =
      pgorm::defaults(pgorm::default_value(&auth::User::email_verified, false),
                      pgorm::default_sql(&auth::User::created_at, "now()"),
                      pgorm::default_sql(&auth::User::updated_at, "now()"));
};

template <>
struct pgorm::table_traits<auth::Session> {
  static constexpr auto primary_key = pgorm::key(&auth::Session::id);
  static constexpr auto unique = pgorm::columns(&auth::Session::token);
  static constexpr auto foreign_keys = pgorm::foreign_key(&auth::Session::user_id, &auth::User::id)
                                           .on_delete(pgorm::fk_action::cascade);
  static constexpr auto indexes = pgorm::index(&auth::Session::user_id, &auth::Session::expires_at);
  static constexpr auto defaults =
      pgorm::defaults(pgorm::default_sql(&auth::Session::created_at, "now()"),
                      pgorm::default_sql(&auth::Session::updated_at, "now()"));
};

template <>
struct pgorm::table_traits<auth::Account> {
  static constexpr auto primary_key = pgorm::key(&auth::Account::id);
  static constexpr auto unique =
      pgorm::columns(&auth::Account::provider, &auth::Account::provider_account_id);
  static constexpr auto foreign_keys = pgorm::foreign_key(&auth::Account::user_id, &auth::User::id)
                                           .on_delete(pgorm::fk_action::cascade);
  static constexpr auto defaults = pgorm::default_sql(&auth::Account::created_at, "now()");
};

template <>
struct pgorm::table_traits<auth::Verification> {
  static constexpr auto primary_key = pgorm::key(&auth::Verification::id);
  static constexpr auto indexes = pgorm::index(&auth::Verification::identifier);
  static constexpr auto defaults = pgorm::default_sql(&auth::Verification::created_at, "now()");
};

template <>
struct pgorm::table_traits<auth::Waitlist> {
  static constexpr auto primary_key = pgorm::identity(&auth::Waitlist::id);
  static constexpr auto unique = pgorm::columns(&auth::Waitlist::email);
  static constexpr auto defaults =
      pgorm::defaults(pgorm::default_value(&auth::Waitlist::role, "member"),
                      pgorm::default_sql(&auth::Waitlist::created_at, "now()"));
};
