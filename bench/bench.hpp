// SPDX-License-Identifier: MIT
#pragma once

/// \file
/// What the benchmark's peers share: the row structs every client decodes into, the workloads,
/// and the interface each client (pgorm, hand-written libpq, libpqxx, SOCI) implements.
/// Nothing here includes pgorm or libpq, so each peer's translation unit sees only its own
/// library.

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace pgorm_bench {

/// Microseconds since the Unix epoch, UTC: pgorm::timestamptz is this very type.
using timestamptz = std::chrono::sys_time<std::chrono::microseconds>;

/// A row of `users`. Every peer decodes into this struct, so they all do the same work.
struct User {
  std::int64_t id = 0;
  std::string email;
  std::optional<std::string> name;
  std::int32_t age = 0;
  bool is_email_verified = false;
  timestamptz created_at{};
};

/// A row of `sessions`.
struct Session {
  std::int64_t id = 0;
  std::int64_t user_id = 0;
  std::string token;
  timestamptz expires_at{};
  std::optional<std::string> ip_address;
};

/// The random inputs of one TPC-B transaction (the pgbench built-in script).
struct tpcb_args {
  std::int32_t aid = 0;
  std::int32_t bid = 0;
  std::int32_t tid = 0;
  std::int32_t delta = 0;
};

/// The SQL every hand-written peer sends; pgorm renders its own, checked equal in spirit
/// (same tables, columns, predicates) by the setup.
namespace sql {
inline constexpr std::string_view point_select =
    "SELECT id, email, name, age, is_email_verified, created_at FROM users WHERE id = $1";
inline constexpr std::string_view session_lookup =
    "SELECT s.id, s.user_id, s.token, s.expires_at, s.ip_address, u.id, u.email, u.name, u.age, "
    "u.is_email_verified, u.created_at FROM sessions AS s JOIN users AS u ON u.id = s.user_id "
    "WHERE s.token = $1 AND s.expires_at > now()";
inline constexpr std::string_view insert_returning =
    "INSERT INTO users (email, name, age, is_email_verified, created_at) "
    "VALUES ($1, $2, $3, $4, $5) RETURNING id";
inline constexpr std::string_view scan =
    "SELECT id, email, name, age, is_email_verified, created_at FROM users";
inline constexpr std::string_view copy_bulk =
    "COPY users_bulk (email, name, age, is_email_verified, created_at) FROM STDIN";
inline constexpr std::string_view tpcb_update_account =
    "UPDATE pgbench_accounts SET abalance = abalance + $1 WHERE aid = $2";
inline constexpr std::string_view tpcb_select_balance =
    "SELECT abalance FROM pgbench_accounts WHERE aid = $1";
inline constexpr std::string_view tpcb_update_teller =
    "UPDATE pgbench_tellers SET tbalance = tbalance + $1 WHERE tid = $2";
inline constexpr std::string_view tpcb_update_branch =
    "UPDATE pgbench_branches SET bbalance = bbalance + $1 WHERE bid = $2";
inline constexpr std::string_view tpcb_insert_history =
    "INSERT INTO pgbench_history (tid, bid, aid, delta, mtime) "
    "VALUES ($1, $2, $3, $4, CURRENT_TIMESTAMP)";
}  // namespace sql

/// Thrown by a peer for a workload it does not implement; the harness skips that peer.
class unsupported : public std::runtime_error {
 public:
  unsupported() : std::runtime_error("unsupported workload") {}
};

/// One client library under test, owning one connection. Each workload method does one
/// operation and returns a value derived from the decoded data, so nothing is optimized away.
class peer {
 public:
  peer() = default;
  peer(const peer&) = delete;
  peer& operator=(const peer&) = delete;
  peer(peer&&) = delete;
  peer& operator=(peer&&) = delete;
  virtual ~peer() = default;

  /// Point select by primary key: one User (or none).
  virtual std::int64_t point_select(std::int64_t /*id*/) { throw unsupported(); }
  /// A live session joined to its user, by token.
  virtual std::int64_t session_lookup(const std::string& /*token*/) { throw unsupported(); }
  /// One INSERT ... RETURNING id into users; returns the id.
  virtual std::int64_t insert_returning(const User& /*row*/) { throw unsupported(); }
  /// Point selects of every id, in one pipeline (one round trip).
  virtual std::int64_t pipelined(std::span<const std::int64_t> /*ids*/) { throw unsupported(); }
  /// Every row of users decoded into std::vector<User>; returns the row count.
  virtual std::int64_t scan() { throw unsupported(); }
  /// Untimed setup before bulk_insert(): keep (or convert) the rows to write.
  virtual void prepare_bulk(std::span<const User> /*rows*/) {}
  /// Bulk insert of the prepare_bulk() rows into users_bulk; returns the row count.
  virtual std::int64_t bulk_insert() { throw unsupported(); }
  /// One TPC-B transaction; returns the account balance it read.
  virtual std::int64_t tpcb(const tpcb_args& /*args*/) { throw unsupported(); }
  /// Point selects of every id with up to `concurrency` of them in flight at once (the
  /// async_select workloads). A blocking client does them one at a time, as here.
  virtual std::int64_t concurrent_selects(std::span<const std::int64_t> ids, int /*concurrency*/) {
    std::int64_t sum = 0;
    for (const std::int64_t id : ids) sum += point_select(id);
    return sum;
  }
};

/// Makes a peer connected to `conninfo` (a libpq key=value string).
using peer_factory = std::unique_ptr<peer> (*)(const std::string& conninfo);

/// A variant of a peer for one workload, e.g. pgorm's copy_in beside its insert(range).
std::unique_ptr<peer> make_pgorm_peer(const std::string& conninfo);
/// pgorm with copy_in() for bulk_insert (the others as make_pgorm_peer).
std::unique_ptr<peer> make_pgorm_copy_in_peer(const std::string& conninfo);
/// pgorm with one find() per id for pipelined() (pgorm one statement at a time).
std::unique_ptr<peer> make_pgorm_serial_peer(const std::string& conninfo);
std::unique_ptr<peer> make_libpq_peer(const std::string& conninfo);
/// libpq doing the pipelined workload's selects one round trip each.
std::unique_ptr<peer> make_libpq_serial_peer(const std::string& conninfo);
/// libpq whose concurrent_selects() sends batches of `concurrency` selects in pipeline mode,
/// one sync per batch.
std::unique_ptr<peer> make_libpq_pipeline_peer(const std::string& conninfo);
/// pgorm::async: concurrent_selects() runs `concurrency` coroutines over one async connection
/// (bench/peer_async.cpp).
std::unique_ptr<peer> make_pgorm_async_peer(const std::string& conninfo);
/// The same over a pgorm::async::pool of 4 connections.
std::unique_ptr<peer> make_pgorm_async_pool_peer(const std::string& conninfo);
#ifdef PGORM_BENCH_HAVE_PQXX
std::unique_ptr<peer> make_pqxx_peer(const std::string& conninfo);
#endif
#ifdef PGORM_BENCH_HAVE_SOCI
std::unique_ptr<peer> make_soci_peer(const std::string& conninfo);
#endif

/// Parses PostgreSQL's text output of a timestamptz in UTC with the ISO DateStyle
/// ("2024-05-01 12:34:56.789+00"), for the text-format peers. The server runs with
/// timezone=UTC.
timestamptz parse_timestamptz_text(std::string_view text);

}  // namespace pgorm_bench
