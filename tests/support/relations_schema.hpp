// SPDX-License-Identifier: MIT
#pragma once

/// \file
/// The chat schema of the include() tests: users with sessions (1-n), conversations of a user
/// with messages (nested 1-n), a message's sender and an optional reply-to user (two foreign
/// keys to the same table: n-1, one of them nullable), a tag table that relates to nothing,
/// employees with their manager (a table's relation to itself), and many-to-many relations
/// through join tables: users in groups (memberships), users following users (follows).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "pgorm/table.hpp"
#include "pgorm/types.hpp"

namespace rt {

struct User {
  std::int64_t id;
  std::string email;
  std::optional<std::string> name;

  friend bool operator==(const User&, const User&) = default;
};

struct Session {
  std::int64_t id;
  std::int64_t user_id;
  std::string token;
  std::int32_t hits;

  friend bool operator==(const Session&, const Session&) = default;
};

struct Conversation {
  std::int64_t id;
  std::int64_t user_id;
  std::string title;

  friend bool operator==(const Conversation&, const Conversation&) = default;
};

struct Message {
  std::int64_t id;
  std::int64_t conversation_id;
  std::int64_t sender_id;
  std::optional<std::int64_t> reply_to_id;
  std::string body;
  std::optional<std::int32_t> score;

  friend bool operator==(const Message&, const Message&) = default;
};

struct Tag {
  std::int64_t id;
  std::string label;

  friend bool operator==(const Tag&, const Tag&) = default;
};

/// An employee and their manager, another employee (NULL at the top).
struct Employee {
  std::int64_t id;
  std::optional<std::int64_t> manager_id;
  std::string name;

  friend bool operator==(const Employee&, const Employee&) = default;
};

struct Group {
  std::int64_t id;
  std::string name;

  friend bool operator==(const Group&, const Group&) = default;
};

/// The join table of users and groups, with a column of its own.
struct Membership {
  std::int64_t user_id;
  std::int64_t group_id;
  std::string role;

  friend bool operator==(const Membership&, const Membership&) = default;
};

/// The join table of users and the users they follow (a table related to itself through it).
struct Follow {
  std::int64_t follower_id;
  std::int64_t followee_id;

  friend bool operator==(const Follow&, const Follow&) = default;
};

/// A partial struct of Session, selected by field name.
struct SessionToken {
  std::int64_t id;
  std::string token;

  friend bool operator==(const SessionToken&, const SessionToken&) = default;
};

inline constexpr std::string_view ddl = R"(
  create table rt_user (id bigint primary key, email text not null, name text);
  create table rt_session (
    id bigint primary key,
    user_id bigint not null references rt_user(id),
    token text not null,
    hits integer not null);
  create table rt_conversation (
    id bigint primary key,
    user_id bigint not null references rt_user(id),
    title text not null);
  create table rt_message (
    id bigint primary key,
    conversation_id bigint not null references rt_conversation(id),
    sender_id bigint not null references rt_user(id),
    reply_to_id bigint references rt_user(id),
    body text not null,
    score integer);
  create table rt_tag (id bigint primary key, label text not null);
  create table rt_employee (
    id bigint primary key,
    manager_id bigint references rt_employee(id),
    name text not null);
  create table rt_group (id bigint primary key, name text not null);
  create table rt_membership (
    user_id bigint not null references rt_user(id),
    group_id bigint not null references rt_group(id),
    role text not null,
    primary key (user_id, group_id));
  create table rt_follow (
    follower_id bigint not null references rt_user(id),
    followee_id bigint not null references rt_user(id),
    primary key (follower_id, followee_id));
)";

}  // namespace rt

template <>
struct pgorm::table_traits<rt::User> {
  static constexpr std::string_view name = "rt_user";
  static constexpr auto primary_key = pgorm::key(&rt::User::id);
};

template <>
struct pgorm::table_traits<rt::Session> {
  static constexpr std::string_view name = "rt_session";
  static constexpr auto primary_key = pgorm::key(&rt::Session::id);
  static constexpr auto foreign_keys =
      pgorm::foreign_keys(pgorm::foreign_key(&rt::Session::user_id, &rt::User::id));
};

template <>
struct pgorm::table_traits<rt::Conversation> {
  static constexpr std::string_view name = "rt_conversation";
  static constexpr auto primary_key = pgorm::key(&rt::Conversation::id);
  static constexpr auto foreign_keys =
      pgorm::foreign_keys(pgorm::foreign_key(&rt::Conversation::user_id, &rt::User::id));
};

template <>
struct pgorm::table_traits<rt::Message> {
  static constexpr std::string_view name = "rt_message";
  static constexpr auto primary_key = pgorm::key(&rt::Message::id);
  static constexpr auto foreign_keys =
      pgorm::foreign_keys(pgorm::foreign_key(&rt::Message::conversation_id, &rt::Conversation::id),
                          pgorm::foreign_key(&rt::Message::sender_id, &rt::User::id),
                          pgorm::foreign_key(&rt::Message::reply_to_id, &rt::User::id));
};

template <>
struct pgorm::table_traits<rt::Tag> {
  static constexpr std::string_view name = "rt_tag";
  static constexpr auto primary_key = pgorm::key(&rt::Tag::id);
};

template <>
struct pgorm::table_traits<rt::Employee> {
  static constexpr std::string_view name = "rt_employee";
  static constexpr auto primary_key = pgorm::key(&rt::Employee::id);
  static constexpr auto foreign_keys =
      pgorm::foreign_keys(pgorm::foreign_key(&rt::Employee::manager_id, &rt::Employee::id));
};

template <>
struct pgorm::table_traits<rt::Group> {
  static constexpr std::string_view name = "rt_group";
  static constexpr auto primary_key = pgorm::key(&rt::Group::id);
};

template <>
struct pgorm::table_traits<rt::Membership> {
  static constexpr std::string_view name = "rt_membership";
  static constexpr auto primary_key =
      pgorm::key(&rt::Membership::user_id, &rt::Membership::group_id);
  static constexpr auto foreign_keys =
      pgorm::foreign_keys(pgorm::foreign_key(&rt::Membership::user_id, &rt::User::id),
                          pgorm::foreign_key(&rt::Membership::group_id, &rt::Group::id));
};

template <>
struct pgorm::table_traits<rt::Follow> {
  static constexpr std::string_view name = "rt_follow";
  static constexpr auto primary_key =
      pgorm::key(&rt::Follow::follower_id, &rt::Follow::followee_id);
  static constexpr auto foreign_keys =
      pgorm::foreign_keys(pgorm::foreign_key(&rt::Follow::follower_id, &rt::User::id),
                          pgorm::foreign_key(&rt::Follow::followee_id, &rt::User::id));
};
