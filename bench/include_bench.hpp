// SPDX-License-Identifier: MIT
#pragma once

/// \file
/// The `include` workload (docs/performance.md): 1,000 users with 0-20 sessions each, every
/// user with its sessions, loaded four ways: pgorm's include() (one statement), pgorm one
/// select per user (N+1), pgorm's flat left join folded by hand, and hand-written libpq running
/// pgorm's statement and decoding its arrays of records by hand. Like bench.hpp, nothing here
/// includes pgorm or libpq.

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "bench.hpp"

namespace pgorm_bench {

/// A row of inc_users (the fields of User, in a table of its own).
struct IncUser {
  std::int64_t id = 0;
  std::string email;
  std::optional<std::string> name;
  std::int32_t age = 0;
  bool is_email_verified = false;
  timestamptz created_at{};
  friend bool operator==(const IncUser&, const IncUser&) = default;
};

/// A row of inc_sessions.
struct IncSession {
  std::int64_t id = 0;
  std::int64_t user_id = 0;
  std::string token;
  timestamptz expires_at{};
  std::optional<std::string> ip_address;
  friend bool operator==(const IncSession&, const IncSession&) = default;
};

/// One user with its sessions, in id order: what every contender builds.
struct IncUserSessions {
  IncUser user;
  std::vector<IncSession> sessions;
  friend bool operator==(const IncUserSessions&, const IncUserSessions&) = default;
};

/// One contender of the workload: op() loads every user with its sessions and returns the rows
/// it decoded (users + sessions).
struct include_contender {
  std::string name;
  std::function<std::int64_t()> op;
  /// The same load, returning what it built (untimed: to check the contenders agree).
  std::function<std::vector<IncUserSessions>()> load;
  /// The process id of the server backend that op() runs its statements on.
  int backend_pid = 0;
};

/// Where the workload's tables live and how inc_sessions is indexed: the workload runs against
/// two schemas side by side (docs/performance.md, "include"). Every contender of one schema
/// sets its connection's search_path to it.
struct include_schema {
  std::string workload;       ///< the workload's name in the output: "include", ...
  std::string name;           ///< the PostgreSQL schema holding inc_users and inc_sessions
  std::string session_index;  ///< the columns of inc_sessions' index: "user_id", ...
};

/// The two schemas: "include" (inc_sessions indexed on its foreign key, as an application
/// indexes it, e.g. Prisma's @@index([userId])) and "include_fk_id_index" (on the foreign
/// key and the relation's order key, (user_id, id)).
std::vector<include_schema> include_schemas();

/// Creates and fills inc_users and inc_sessions in `schema` (idempotent), and connects the
/// pgorm contenders: "pgorm" (include), "pgorm_n_plus_1", "pgorm_join_fold".
std::vector<include_contender> make_include_pgorm_contenders(const std::string& conninfo,
                                                             const include_schema& schema);

/// The statement pgorm's include() renders for the workload: what the libpq peer runs.
std::string_view include_pgorm_sql();

/// Hand-written libpq: pgorm's statement, prepared, binary results decoded by hand.
include_contender make_include_libpq_contender(const std::string& conninfo,
                                               const include_schema& schema);

/// Every contender against `schema`, pgorm first; checks once that all of them load the same
/// data.
std::vector<include_contender> make_include_contenders(const std::string& conninfo,
                                                       const include_schema& schema);

/// The CPU time of one load by one contender (median over the loads measured).
struct include_cpu {
  std::string name;
  double client_ms = 0;   ///< the calling thread's: the client, libpq and its system calls
  double backend_ms = 0;  ///< the server backend's (backend_pid)
};

/// Runs `loads` loads of every contender, interleaved, reading the CPU time of the calling
/// thread and of each contender's backend around each load (/proc/.../schedstat, Linux).
/// Empty when that cannot be read: not Linux, or a server on another host.
std::vector<include_cpu> measure_include_cpu(const std::vector<include_contender>& contenders,
                                             int loads);

}  // namespace pgorm_bench
