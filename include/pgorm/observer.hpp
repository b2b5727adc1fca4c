// SPDX-License-Identifier: MIT
#pragma once

/// \file
/// The observer hook: what pgorm tells logging, metrics and tracing about queries and pool
/// events. Parameter values are never passed unless the observer asks for them
/// (wants_parameters()). See docs/observability.md for the OpenTelemetry field mapping.

#include <chrono>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "pgorm/export.hpp"
#include "pgorm/fwd.hpp"

namespace pgorm {

class param;

/// One statement, as reported to an observer.
struct query_event {
  /// The SQL text, with $n placeholders (never values); a secret written into it as a literal
  /// (PASSWORD '...', a connection string) reads '***'.
  std::string_view sql;
  std::string_view operation;  ///< first keyword, upper case: SELECT, INSERT, UPDATE, ...
  /// The table the statement works on, as written in the SQL (quotes and schema included):
  /// the first table after FROM (SELECT, DELETE), INTO (INSERT) or UPDATE; "" when there is
  /// none or the statement is not one of those (OpenTelemetry's db.collection.name).
  std::string_view table;
  std::string_view server;  ///< connection description (host, port, dbname, user)
  std::size_t param_count = 0;
  /// The parameters, only when observer::wants_parameters() is true; else empty.
  std::span<const param> params;
};

/// How a statement ended.
struct query_outcome {
  std::chrono::nanoseconds duration{0};
  std::int64_t rows = 0;      ///< rows returned or affected
  std::string_view sqlstate;  ///< "" on success, else the SQLSTATE ("08006" for lost connections)
  std::string_view error;     ///< "" on success, else what() of the exception (safe to log)
};

/// Pool lifecycle events.
enum class pool_event_kind {
  connect,         ///< a new connection was opened
  connect_failed,  ///< opening a connection failed (detail holds the redacted reason)
  acquire,         ///< a lease was handed out (wait = how long the caller waited)
  release,         ///< a lease came back
  evict,           ///< a connection was destroyed (detail says why: broken, idle, lifetime, ...)
  timeout,         ///< an acquire gave up
  /// A lease was held longer than pool_options::leak_threshold (detail names the acquire site).
  leak_suspected,
};

struct pool_event {
  pool_event_kind kind;
  std::chrono::nanoseconds wait{0};  ///< for acquire/timeout: how long the caller waited
  std::string_view detail;           ///< reason or error text (never a password)
  std::size_t in_use = 0;
  std::size_t idle = 0;
  std::size_t waiting = 0;
};

/// What a pgorm::cluster learned about one of its read replicas (docs/scaling.md).
enum class replica_event_kind {
  up,    ///< the replica answered a health check as a standby: reads may go to it
  down,  ///< a health check or a read failed (detail says why): no reads go to it until it is up
  /// A health check of a replica that is up: how far its replay is behind the primary
  /// (lag_bytes, lag). One per replica per cluster_options::health_check_interval.
  lag,
};

/// One replica_event_kind about one replica; texts are views, valid during the call.
struct replica_event {
  replica_event_kind kind = replica_event_kind::lag;
  std::string_view server;  ///< the replica's description (host, port, dbname, user)
  std::string_view detail;  ///< for down: the error (never a password); else ""
  /// WAL the primary had written that the replica had not replayed yet, in bytes (0 when it
  /// has caught up); -1 when the primary could not be asked.
  std::int64_t lag_bytes = -1;
  /// Time since the last transaction the replica replayed committed on the primary, while it
  /// is behind (0 once it has caught up): the staleness a read there can see.
  std::chrono::milliseconds lag{0};
};

/// A message the server sent outside a result: RAISE NOTICE / WARNING / INFO in PL/pgSQL, "drop
/// cascades to ...", "there is no transaction in progress", and the FATAL message a server sends
/// just before it closes an idle session (e.g. at shutdown). Texts are views, valid during the
/// call; passwords of the connection string are masked in them.
struct notice_event {
  /// NOTICE, WARNING, INFO, LOG, DEBUG (PL/pgSQL RAISE levels), or FATAL/PANIC for an idle
  /// session's last words; never localized.
  std::string_view severity;
  std::string_view sqlstate;  ///< e.g. "00000" for RAISE NOTICE, "01000" for a plain warning
  std::string_view message;   ///< the primary message
  std::string_view detail;    ///< DETAIL, "" when none
  std::string_view hint;      ///< HINT, "" when none
  std::string_view server;    ///< connection description (host, port, dbname, user)
};

/// Receives events. Override what you need; every method has an empty default. Called on the
/// thread that runs the query (or acquires from the pool): keep it quick and thread-safe.
///
/// Example:
/// ```
/// struct my_log : pgorm::observer {
///   void on_query_end(const pgorm::query_event& q, const pgorm::query_outcome& o) override {
///     spdlog::info("{} took {} us", q.operation, o.duration.count() / 1000);
///   }
/// };
/// ```
class PGORM_API observer {
 public:
  observer() = default;
  observer(const observer&) = default;
  observer& operator=(const observer&) = default;
  observer(observer&&) = default;
  observer& operator=(observer&&) = default;
  virtual ~observer() = default;

  /// True to receive parameter values in query_event::params (off by default: they may hold
  /// personal data).
  [[nodiscard]] virtual bool wants_parameters() const noexcept { return false; }
  virtual void on_query_start(const query_event& /*query*/) {}
  virtual void on_query_end(const query_event& /*query*/, const query_outcome& /*outcome*/) {}
  virtual void on_pool_event(const pool_event& /*event*/) {}
  /// A server notice (see notice_event), on the thread running the statement that received
  /// it. The default drops it, as pgorm does without an observer (libpq would print it on
  /// stderr). An exception thrown here is swallowed: it cannot cross libpq.
  virtual void on_notice(const notice_event& /*notice*/) {}
  /// A replica of a pgorm::cluster went up or down, or its replication lag was measured (see
  /// replica_event); on the cluster's health-check thread, or on a reading thread for down.
  virtual void on_replica_event(const replica_event& /*event*/) {}
};

/// Built-in observer: one line per query (and per pool event, replica going up or down, and
/// server notice) on stderr. With a slow-query threshold, only queries at least that slow are
/// logged (the other events still are).
///
/// Example: `opts.observer =
/// std::make_shared<pgorm::stderr_logger>(std::chrono::milliseconds(200));`
class PGORM_API stderr_logger : public observer {
 public:
  explicit stderr_logger(std::chrono::nanoseconds slow_threshold = std::chrono::nanoseconds(0))
      : slow_(slow_threshold) {}
  void on_query_end(const query_event& query, const query_outcome& outcome) override;
  void on_pool_event(const pool_event& event) override;
  void on_notice(const notice_event& notice) override;
  void on_replica_event(const replica_event& event) override;

 private:
  std::chrono::nanoseconds slow_;
};

namespace detail {
/// The first keyword of `sql`, upper-cased, e.g. "SELECT" (for WITH ... queries, "WITH").
PGORM_API std::string_view operation_of(std::string_view sql, char (&buffer)[16]) noexcept;
/// The table `sql` works on, as query_event::table describes; a view into `sql`.
PGORM_API std::string_view table_of(std::string_view sql) noexcept;
}  // namespace detail

}  // namespace pgorm
