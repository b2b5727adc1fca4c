// SPDX-License-Identifier: MIT
#pragma once

/// \file
/// The users/sessions/accounts schema the query tests share: structs, their table_traits, and
/// the hand-written DDL that matches them.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "pgorm/table.hpp"
#include "pgorm/types.hpp"

namespace qt {

struct User {
  std::int64_t id;
  std::string email;
  std::optional<std::string> name;
  std::int32_t age;
  bool is_email_verified;
  pgorm::timestamptz created_at;
};

struct Session {
  std::int64_t id;
  std::int64_t user_id;
  std::string token;
  pgorm::timestamptz expires_at;
  std::optional<std::string> ip_address;
};

struct Account {
  std::int64_t id;
  std::int64_t user_id;
  std::string provider;
  std::string provider_account_id;
  std::optional<std::int64_t> balance;
};

/// A partial struct: a subset of User's fields, selected by name.
struct UserSummary {
  std::int64_t id;
  std::string email;
};

/// The DDL for the structs above (what schema generation will produce).
inline constexpr std::string_view ddl = R"(
  create table "user" (
    id bigint generated always as identity primary key,
    email text not null unique,
    name text,
    age integer not null,
    "isEmailVerified" boolean not null default false,
    created_at timestamptz not null default now()
  );
  create table session (
    id bigint generated always as identity primary key,
    user_id bigint not null references "user"(id) on delete cascade,
    token text not null unique,
    expires_at timestamptz not null,
    ip_address text
  );
  create table account (
    id bigint generated always as identity primary key,
    user_id bigint not null references "user"(id) on delete cascade,
    provider text not null,
    provider_account_id text not null,
    balance bigint,
    unique (provider, provider_account_id)
  );
)";

}  // namespace qt

template <>
struct pgorm::table_traits<qt::User> {
  static constexpr std::string_view name = "user";
  static constexpr auto primary_key = pgorm::identity(&qt::User::id);
  static constexpr auto renames = pgorm::rename(&qt::User::is_email_verified, "isEmailVerified");
  static constexpr auto defaults =
      pgorm::defaults(pgorm::default_sql(&qt::User::created_at, "now()"),
                      pgorm::default_value(&qt::User::is_email_verified, false));
};

template <>
struct pgorm::table_traits<qt::Session> {
  static constexpr auto primary_key = pgorm::identity(&qt::Session::id);
};

template <>
struct pgorm::table_traits<qt::Account> {
  static constexpr auto primary_key = pgorm::identity(&qt::Account::id);
};
