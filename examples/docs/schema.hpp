// SPDX-License-Identifier: MIT
#pragma once

/// \file
/// The users/sessions/accounts schema the docs' snippets use (docs/queries.md). It is the schema
/// of tests/support/schema.hpp, so the SQL quoted in the docs is the SQL the golden tests check.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "pgorm/table.hpp"
#include "pgorm/types.hpp"

namespace app {

// doc-begin(schema_structs)
struct User {
  std::int64_t id;
  std::string email;
  std::optional<std::string> name;
  std::int32_t age;
  bool is_email_verified;
  pgorm::defaulted<pgorm::timestamptz> created_at;  // DEFAULT now() unless set
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
// doc-end(schema_structs)

/// A partial struct: some of User's fields, read by name with select<UserSummary>().from<User>().
struct UserSummary {
  std::int64_t id;
  std::string email;
};

/// Stands for whatever the application does with a value (render it, send it, ...).
template <class... T>
void use(const T&... /*values*/) {}

}  // namespace app

// doc-begin(schema_traits)
template <>
struct pgorm::table_traits<app::User> {
  static constexpr std::string_view name = "user";
  static constexpr auto primary_key = pgorm::identity(&app::User::id);
  static constexpr auto renames = pgorm::rename(&app::User::is_email_verified, "isEmailVerified");
  static constexpr auto defaults =
      pgorm::defaults(pgorm::default_sql(&app::User::created_at, "now()"),
                      pgorm::default_value(&app::User::is_email_verified, false));
};

template <>
struct pgorm::table_traits<app::Session> {
  static constexpr auto primary_key = pgorm::identity(&app::Session::id);
};

template <>
struct pgorm::table_traits<app::Account> {
  static constexpr auto primary_key = pgorm::identity(&app::Account::id);
};
// doc-end(schema_traits)
