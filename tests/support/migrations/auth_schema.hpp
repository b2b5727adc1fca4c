// SPDX-License-Identifier: MIT
#pragma once

/// \file
/// An auth schema (users, sessions, accounts, verification, waitlist) whose table_traits use
/// every DDL option: quoted camelCase columns, identity ALWAYS and BY DEFAULT (as primary key
/// and as a separate option), defaults (now(), literals), named and composite uniques, ON
/// DELETE CASCADE / SET NULL, ON UPDATE, named and unnamed checks, partial, unique and hash
/// indexes. auth_schema.sql beside it is the same schema written by hand.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "pgorm/table.hpp"
#include "pgorm/types.hpp"
#include "pgorm/uuid.hpp"

namespace auth {

struct User {
  std::int64_t id;
  std::string email;
  std::optional<std::string> name;
  bool email_verified;
  std::optional<std::string> image;
  std::string role;
  pgorm::timestamptz created_at;
  pgorm::timestamptz updated_at;
};

struct Session {
  std::int64_t id;
  std::int64_t user_id;
  std::string token;
  pgorm::timestamptz expires_at;
  std::optional<std::string> ip_address;
  std::optional<std::string> user_agent;
  pgorm::timestamptz created_at;
  std::optional<pgorm::timestamptz> revoked_at;
};

struct Account {
  std::int64_t id;
  std::int64_t user_id;
  std::string provider_id;
  std::string account_id;
  std::optional<std::string> access_token;
  std::optional<std::string> scope;
  pgorm::timestamptz created_at;
};

struct Verification {
  pgorm::uuid id;
  std::string identifier;
  std::string value;
  pgorm::timestamptz expires_at;
  pgorm::timestamptz created_at;
};

struct Waitlist {
  std::string email;
  std::int32_t position;
  std::optional<std::int64_t> referred_by;
  std::int32_t score;
  std::optional<pgorm::timestamptz> invited_at;
};

}  // namespace auth

template <>
struct pgorm::table_traits<auth::User> {
  static constexpr std::string_view name = "users";
  static constexpr auto primary_key = pgorm::identity(&auth::User::id);
  static constexpr auto renames =
      pgorm::renames(pgorm::rename(&auth::User::email_verified, "emailVerified"),
                     pgorm::rename(&auth::User::created_at, "createdAt"),
                     pgorm::rename(&auth::User::updated_at, "updatedAt"));
  static constexpr auto defaults =
      pgorm::defaults(pgorm::default_value(&auth::User::email_verified, false),
                      pgorm::default_value(&auth::User::role, "member"),
                      pgorm::default_sql(&auth::User::created_at, "now()"),
                      pgorm::default_sql(&auth::User::updated_at, "now()"));
  static constexpr auto unique = pgorm::columns(&auth::User::email);
  static constexpr auto checks =
      pgorm::checks(pgorm::check("users_role_check", "role IN ('member', 'admin')"));
};

template <>
struct pgorm::table_traits<auth::Session> {
  static constexpr std::string_view name = "sessions";
  static constexpr auto primary_key = pgorm::identity(&auth::Session::id);
  static constexpr auto defaults =
      pgorm::defaults(pgorm::default_sql(&auth::Session::created_at, "now()"));
  static constexpr auto unique =
      pgorm::columns(&auth::Session::token).named("sessions_token_unique");
  static constexpr auto foreign_keys =
      pgorm::foreign_keys(pgorm::foreign_key(&auth::Session::user_id, &auth::User::id)
                              .on_delete(pgorm::fk_action::cascade));
  static constexpr auto indexes = pgorm::indexes(
      pgorm::index(&auth::Session::user_id, &auth::Session::expires_at).where("revoked_at IS NULL"),
      pgorm::index(&auth::Session::expires_at).named("sessions_expires_at_idx"));
};

template <>
struct pgorm::table_traits<auth::Account> {
  static constexpr std::string_view name = "accounts";
  static constexpr auto primary_key =
      pgorm::identity(&auth::Account::id, pgorm::identity_kind::by_default);
  static constexpr auto renames =
      pgorm::renames(pgorm::rename(&auth::Account::user_id, "userId"),
                     pgorm::rename(&auth::Account::provider_id, "providerId"),
                     pgorm::rename(&auth::Account::account_id, "accountId"));
  static constexpr auto defaults =
      pgorm::defaults(pgorm::default_sql(&auth::Account::created_at, "now()"));
  static constexpr auto unique =
      pgorm::uniques(pgorm::columns(&auth::Account::provider_id, &auth::Account::account_id));
  static constexpr auto foreign_keys =
      pgorm::foreign_keys(pgorm::foreign_key(&auth::Account::user_id, &auth::User::id)
                              .on_delete(pgorm::fk_action::cascade)
                              .on_update(pgorm::fk_action::cascade)
                              .named("accounts_user_fk"));
  static constexpr auto indexes =
      pgorm::indexes(pgorm::index(&auth::Account::user_id).using_method("hash"));
};

template <>
struct pgorm::table_traits<auth::Verification> {
  static constexpr std::string_view name = "verification";
  static constexpr auto primary_key = pgorm::key(&auth::Verification::id).named("verification_pk");
  static constexpr auto defaults =
      pgorm::defaults(pgorm::default_sql(&auth::Verification::id, "gen_random_uuid()"),
                      pgorm::default_sql(&auth::Verification::created_at, "now()"));
  static constexpr auto indexes = pgorm::indexes(
      pgorm::index(&auth::Verification::identifier, &auth::Verification::value).unique());
};

template <>
struct pgorm::table_traits<auth::Waitlist> {
  static constexpr std::string_view name = "waitlist";
  static constexpr auto primary_key = pgorm::key(&auth::Waitlist::email);
  static constexpr auto identity =
      pgorm::identity(&auth::Waitlist::position, pgorm::identity_kind::by_default);
  static constexpr auto defaults = pgorm::defaults(pgorm::default_value(&auth::Waitlist::score, 0));
  static constexpr auto foreign_keys =
      pgorm::foreign_keys(pgorm::foreign_key(&auth::Waitlist::referred_by, &auth::User::id)
                              .on_delete(pgorm::fk_action::set_null));
  static constexpr auto checks = pgorm::checks(pgorm::check("score >= 0"));
  static constexpr auto indexes =
      pgorm::indexes(pgorm::index(&auth::Waitlist::referred_by).where("referred_by IS NOT NULL"));
};
