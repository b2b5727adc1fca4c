// SPDX-License-Identifier: MIT
#pragma once

/// \file
/// A primary and its streaming read replicas, each behind a pool: writes, transactions and
/// locking reads go to the primary; reads go to a replica only where the code asks for it
/// (`db.read()`), to the primary when no replica is up (or a typed error), and a session can
/// read its own writes. See docs/scaling.md, "Read replicas".
///
/// Thread safety: every member of cluster may be called from any thread at the same time, and
/// so may its read() executor. A cluster_session belongs to one thread at a time.

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <memory>
#include <source_location>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "pgorm/error.hpp"
#include "pgorm/executor.hpp"
#include "pgorm/export.hpp"
#include "pgorm/pool.hpp"
#include "pgorm/query_methods.hpp"
#include "pgorm/transaction.hpp"

namespace pgorm {

/// How a cluster behaves. Every field has a usable default; use designated initializers.
///
/// Example: `pgorm::cluster db{primary_url, {replica_url}, {.fallback_to_primary = false}};`
struct cluster_options {
  /// The primary's pool. Its connection.events observer also receives the replica events
  /// (observer::on_replica_event).
  pool_options primary{};
  /// Each replica's pool. Always lazy (a replica that is down at start-up is no error: it is
  /// marked down and checked again).
  pool_options replicas{};
  /// When no replica is up, reads run on the primary (true) or throw no_replica_available
  /// (false).
  bool fallback_to_primary = true;
  /// How often a background thread checks every replica (is it up, is it still a standby, how
  /// far behind the primary is it) and reports replica_event. A replica that is down gets no
  /// reads until a check finds it up again.
  std::chrono::milliseconds health_check_interval{std::chrono::seconds(1)};
  /// Deadline of each check's connection attempt and statement, per server.
  std::chrono::milliseconds health_check_timeout{std::chrono::seconds(1)};
  /// A replica whose last measured lag exceeds this gets no reads (as if down) until a check
  /// finds it within it. 0: no limit.
  std::chrono::milliseconds max_replica_lag{0};
  /// Read-your-writes of a cluster_session: for this long after the session's last write, its
  /// read() runs on the primary. Keep it above the replicas' usual lag (see the lag events),
  /// or set max_replica_lag below it so that a replica further behind gets no reads at all.
  std::chrono::milliseconds read_your_writes{std::chrono::seconds(5)};
};

/// A read was asked of the replicas, none was up (or within max_replica_lag), and
/// cluster_options::fallback_to_primary is false. Nothing was sent. When the last replica
/// tried failed during this read, its error is nested (std::rethrow_if_nested).
///
/// Example:
/// ```
/// try { auto n = db.read().exec("select count(*) from users", {}); }
/// catch (const pgorm::no_replica_available& e) { serve_from_cache(); }
/// ```
class PGORM_API no_replica_available : public error {
 public:
  using error::error;
};

/// One replica as the cluster last saw it, from cluster::replicas().
struct replica_status {
  std::string server;  ///< the replica's connection string, password masked
  bool up = false;     ///< reads may go to it (a standby that answered, within max lag)
  /// Replay lag at the last check, in bytes of WAL (-1 when unknown) and as time.
  std::int64_t lag_bytes = -1;
  std::chrono::milliseconds lag{0};
  std::string last_error;  ///< why it is down ("" when up)
};

namespace detail {
struct cluster_state;
}  // namespace detail

/// The executor of reads on replicas: `db.read()` and `session.read()`. Each statement runs on
/// a replica that is up (round robin), or on the primary when
///
/// - it is not a plain read (its first keyword is not SELECT, WITH, TABLE, VALUES or SHOW, or
///   it holds INSERT, UPDATE, DELETE, MERGE, INTO or a locking clause FOR UPDATE / FOR SHARE):
///   a standby could not run it;
/// - it comes from a cluster_session within cluster_options::read_your_writes of its last
///   write;
/// - no replica is up and fallback_to_primary is true (else no_replica_available).
///
/// A replica that fails a read with a lost or refused connection is marked down and the read
/// runs again on the next replica (or the primary): a read changes nothing, so running it again
/// is safe; exec_each() does so only when no row was handed out yet.
///
/// Example: `std::vector<User> all = db.read().select<User>().all();`
class PGORM_API replica_reader : public query_methods<replica_reader> {
 public:
  replica_reader(const replica_reader&) = delete;
  replica_reader& operator=(const replica_reader&) = delete;
  replica_reader(replica_reader&&) = delete;
  replica_reader& operator=(replica_reader&&) = delete;
  ~replica_reader() = default;

  /// Runs one statement where the class says; see pool::exec.
  /// Example: `auto r = db.read().exec("select count(*) from users", {});`
  result exec(std::string_view sql, std::span<const param> params,
              data_format result_format = data_format::text);
  result exec(std::string_view sql, std::initializer_list<param> params,
              data_format result_format = data_format::text) {
    return exec(sql, std::span<const param>(params.begin(), params.size()), result_format);
  }
  /// exec() with one budget for the call on the server it picks (see pool::exec).
  result exec(std::string_view sql, std::span<const param> params, data_format result_format,
              std::chrono::milliseconds timeout);
  /// Streams the rows of one statement to `on_row` (see pool::exec_each).
  void exec_each(std::string_view sql, std::span<const param> params, data_format result_format,
                 const std::function<void(const result&)>& on_row,
                 std::chrono::milliseconds timeout = {});
  /// exec() of a statement whose shape a builder knows (see pool::exec with a shape).
  result exec(const statement_shape& shape, const param_pack& params, data_format result_format,
              std::chrono::milliseconds timeout = {});
  /// exec_each() of a statement whose shape a builder knows.
  void exec_each(const statement_shape& shape, const param_pack& params, data_format result_format,
                 const std::function<void(const result&)>& on_row,
                 std::chrono::milliseconds timeout = {});

 private:
  friend class cluster;
  friend class cluster_session;
  friend struct detail::cluster_state;
  replica_reader(detail::cluster_state& state, std::atomic<std::int64_t>* last_write)
      : state_(&state), last_write_(last_write) {}

  detail::cluster_state* state_;
  // The session's last write (steady_clock ticks; 0: none), or nullptr outside a session.
  std::atomic<std::int64_t>* last_write_;
};

static_assert(shape_executor<replica_reader>);

/// A primary and its read replicas. As an executor (`db.insert(u).exec()`, `db.exec(...)`,
/// `db.transaction(...)`) it is the primary's pool; reads go to the replicas only through
/// read(). A background thread checks the replicas every health_check_interval.
///
/// - Replicas are hot standbys of the primary (streaming replication). A replica that does
///   not answer, or answers but is no longer in recovery (it was promoted), is down.
/// - Replication lag: each check measures every replica's replay lag (bytes behind the
///   primary's current WAL position, and the age of its last replayed commit while it is
///   behind) and reports it as replica_event of kind lag.
/// - Not movable: builders keep a pointer to it.
///
/// Example:
/// ```
/// pgorm::cluster db{"host=db1 dbname=app", {"host=db2 dbname=app", "host=db3 dbname=app"}};
/// db.insert(User{.name = "ada"}).exec();                          // primary
/// auto users = db.read().select<User>().all();                    // a replica
/// auto mine = db.select<User>().where(pgorm::col<&User::id> == 1).for_update().all();  // primary
/// ```
class PGORM_API cluster : public query_methods<cluster> {
 public:
  /// Creates the primary's pool (eager unless options.primary.lazy: throws connection_error
  /// when the primary cannot be reached) and one lazy pool per replica, then checks every
  /// replica once (each within health_check_timeout) before returning, so reads can go to the
  /// replicas that are up at once. Throws usage_error for bad pool options.
  cluster(std::string_view primary, const std::vector<std::string>& replicas,
          cluster_options options = {});
  cluster(const cluster&) = delete;
  cluster& operator=(const cluster&) = delete;
  cluster(cluster&&) = delete;
  cluster& operator=(cluster&&) = delete;
  /// Stops the health checks (at once: a check in progress is abandoned) and closes the pools.
  ~cluster();

  /// The primary's pool: for leases, LISTEN, COPY, pipelines, anything not covered here.
  /// Example: `auto c = db.primary().acquire();`
  [[nodiscard]] pool& primary() noexcept;
  /// The executor of reads on replicas (see replica_reader); valid as long as the cluster.
  /// Example: `auto n = db.read().select<User>().all().size();`
  [[nodiscard]] replica_reader& read() noexcept;

  /// Runs fn(pgorm::transaction&) in a transaction on the primary (see pool::transaction).
  /// Example: `db.transaction([&](pgorm::transaction& tx) { tx.insert(u).exec(); });`
  template <class F>
  decltype(auto) transaction(F&& fn, const transaction_options& options = {},
                             std::source_location where = std::source_location::current()) {
    return primary().transaction(std::forward<F>(fn), options, where);
  }

  /// pool::exec on the primary.
  /// Example: `db.exec("update counters set n = n + 1", {});`
  result exec(std::string_view sql, std::span<const param> params,
              data_format result_format = data_format::text) {
    return primary().exec(sql, params, result_format);
  }
  result exec(std::string_view sql, std::initializer_list<param> params,
              data_format result_format = data_format::text) {
    return primary().exec(sql, params, result_format);
  }
  /// pool::exec with a timeout, on the primary.
  result exec(std::string_view sql, std::span<const param> params, data_format result_format,
              std::chrono::milliseconds timeout) {
    return primary().exec(sql, params, result_format, timeout);
  }
  /// pool::exec_each on the primary.
  void exec_each(std::string_view sql, std::span<const param> params, data_format result_format,
                 const std::function<void(const result&)>& on_row,
                 std::chrono::milliseconds timeout = {}) {
    primary().exec_each(sql, params, result_format, on_row, timeout);
  }
  /// pool::exec with a shape, on the primary.
  result exec(const statement_shape& shape, const param_pack& params, data_format result_format,
              std::chrono::milliseconds timeout = {}) {
    return primary().exec(shape, params, result_format, timeout);
  }
  /// pool::exec_each with a shape, on the primary.
  void exec_each(const statement_shape& shape, const param_pack& params, data_format result_format,
                 const std::function<void(const result&)>& on_row,
                 std::chrono::milliseconds timeout = {}) {
    primary().exec_each(shape, params, result_format, on_row, timeout);
  }

  /// Every replica as the last check (or failed read) left it, in the constructor's order.
  /// Example: `for (const auto& r : db.replicas()) if (!r.up) alert(r.server, r.last_error);`
  [[nodiscard]] std::vector<replica_status> replicas() const;
  /// Checks every replica now, on this thread (each within health_check_timeout), as the
  /// background thread does; reports the same events. Example: `db.check_replicas();`
  void check_replicas();

  [[nodiscard]] const cluster_options& options() const noexcept;

 private:
  friend class cluster_session;
  std::unique_ptr<detail::cluster_state> state_;
};

static_assert(shape_executor<cluster>);

/// One user's (one request's) view of a cluster with read-your-writes: statements through the
/// session itself run on the primary, and its read() runs on the primary for
/// cluster_options::read_your_writes after the session's last write, on the replicas after
/// that. A write is any statement through the session (or its read()) that is not a plain
/// read (see replica_reader), and every transaction(). It refers to its cluster, which must
/// outlive it.
///
/// Example:
/// ```
/// pgorm::cluster_session s{db};
/// s.insert(Post{.title = "hello"}).exec();          // primary; starts the window
/// auto posts = s.read().select<Post>().all();      // primary: the post is there
/// ```
class PGORM_API cluster_session : public query_methods<cluster_session> {
 public:
  explicit cluster_session(cluster& db) noexcept;
  cluster_session(const cluster_session&) = delete;
  cluster_session& operator=(const cluster_session&) = delete;
  cluster_session(cluster_session&&) = delete;
  cluster_session& operator=(cluster_session&&) = delete;
  ~cluster_session() = default;

  /// Reads on the replicas, or on the primary within the read-your-writes window.
  /// Example: `auto mine = s.read().select<Post>().all();`
  [[nodiscard]] replica_reader& read() noexcept { return reader_; }
  /// True while read() goes to the primary because of a recent write of this session.
  /// Example: `if (s.reads_on_primary()) metrics.count("ryw_primary_read");`
  [[nodiscard]] bool reads_on_primary() const noexcept;
  /// Starts the read-your-writes window now, as a write would (after a write made elsewhere
  /// on the session's behalf). Example: `s.note_write();`
  void note_write() noexcept;

  /// A transaction on the primary; starts the window when it ends (committed or not).
  /// Example: `s.transaction([&](pgorm::transaction& tx) { tx.insert(p).exec(); });`
  template <class F>
  decltype(auto) transaction(F&& fn, const transaction_options& options = {},
                             std::source_location where = std::source_location::current()) {
    struct stamp {
      cluster_session* s;
      ~stamp() { s->note_write(); }
    } on_exit{this};
    return db_->primary().transaction(std::forward<F>(fn), options, where);
  }

  /// Statements on the primary; any that is not a plain read starts the window.
  /// Example: `s.exec("update posts set views = views + 1 where id = 1", {});`
  result exec(std::string_view sql, std::span<const param> params,
              data_format result_format = data_format::text);
  result exec(std::string_view sql, std::initializer_list<param> params,
              data_format result_format = data_format::text) {
    return exec(sql, std::span<const param>(params.begin(), params.size()), result_format);
  }
  result exec(std::string_view sql, std::span<const param> params, data_format result_format,
              std::chrono::milliseconds timeout);
  void exec_each(std::string_view sql, std::span<const param> params, data_format result_format,
                 const std::function<void(const result&)>& on_row,
                 std::chrono::milliseconds timeout = {});
  result exec(const statement_shape& shape, const param_pack& params, data_format result_format,
              std::chrono::milliseconds timeout = {});
  void exec_each(const statement_shape& shape, const param_pack& params, data_format result_format,
                 const std::function<void(const result&)>& on_row,
                 std::chrono::milliseconds timeout = {});

 private:
  cluster* db_;
  std::atomic<std::int64_t> last_write_{0};
  replica_reader reader_;
};

static_assert(shape_executor<cluster_session>);

/// True when `sql` is a plain read that a hot standby can run: its first keyword (after white
/// space and comments) is SELECT, WITH, TABLE, VALUES or SHOW, and no keyword outside quotes
/// and comments is INSERT, UPDATE, DELETE, MERGE, INTO or SHARE (so SELECT ... FOR UPDATE /
/// FOR SHARE and SELECT INTO are not). The one check that decides what read() may send to a
/// replica.
///
/// Example: `assert(!pgorm::is_plain_read("select * from t for update"));`
[[nodiscard]] PGORM_API bool is_plain_read(std::string_view sql) noexcept;

/// True when the statement of `shape` is a plain read: what its builder knows at compile time
/// (statement_shape::effect: a select without a row lock), or else what is_plain_read() finds
/// in its text. A builder's statements are never scanned.
///
/// Example: `assert(!pgorm::is_plain_read(pgorm::statement_shape{.sql = "delete from t"}));`
[[nodiscard]] inline bool is_plain_read(const statement_shape& shape) noexcept {
  if (shape.effect != sql_effect::unknown) return shape.effect == sql_effect::reads;
  return is_plain_read(shape.sql);
}

}  // namespace pgorm
