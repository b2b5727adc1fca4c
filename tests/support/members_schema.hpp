// SPDX-License-Identifier: MIT
#pragma once

/// \file
/// The members table the pipeline tests share: its struct, table_traits, DDL, and a helper that
/// makes a member to insert.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "pgorm/table.hpp"

namespace members_schema {

struct Member {
  std::int64_t id;
  std::string email;
  std::optional<std::string> name;
  std::int32_t age;
};

/// The DDL for Member.
inline constexpr std::string_view ddl = R"(
  create table members (
    id bigint generated always as identity primary key,
    email text not null unique,
    name text,
    age integer not null))";

/// A member to insert (its id is the identity column's).
inline Member member(std::string email, std::int32_t age) {
  Member m{};
  m.email = std::move(email);
  m.age = age;
  return m;
}

}  // namespace members_schema

template <>
struct pgorm::table_traits<members_schema::Member> {
  static constexpr std::string_view name = "members";
  static constexpr auto primary_key = pgorm::identity(&members_schema::Member::id);
  static constexpr auto unique = pgorm::columns(&members_schema::Member::email);
};
