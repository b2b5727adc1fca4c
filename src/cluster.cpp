// SPDX-License-Identifier: MIT
// pgorm::cluster: a primary's pool, one pool per read replica, a health-check thread that
// measures each replica's replay lag, and the routing of reads (docs/scaling.md).
#include "pgorm/cluster.hpp"

#include <condition_variable>
#include <exception>
#include <mutex>
#include <optional>
#include <stop_token>
#include <thread>

#include <fmt/format.h>

#include "exception_text.hpp"
#include "pgorm/detail/sql_scanner.hpp"
#include "pgorm/observer.hpp"

namespace pgorm {

namespace {

using clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

std::int64_t now_ticks() noexcept { return clock::now().time_since_epoch().count(); }

// An error that says the replica itself is unavailable (not the statement's fault): the read
// may run again elsewhere.
bool replica_unavailable(const std::exception_ptr& e) {
  try {
    std::rethrow_exception(e);
  } catch (const pool_timeout& t) {
    return t.reason() != pool_timeout_reason::exhausted;
  } catch (const connection_error&) {
    return true;  // pool_connect_error included
  } catch (const sql_error& s) {
    // 57P01-57P03 (shutting down, cannot connect now) and class 08, as poisons_connection().
    return s.poisons_connection();
  } catch (...) {
    return false;
  }
}

}  // namespace

bool is_plain_read(std::string_view sql) noexcept {
  namespace s = detail::sql;
  s::scanner scanner(sql);
  s::token t;
  bool first = true;
  while (scanner.next(t)) {
    if (t.is_blank() || t.kind == s::token_kind::open_paren) continue;
    if (t.kind != s::token_kind::word) {
      if (first) return false;
      continue;
    }
    const std::string_view w = t.text(sql);
    if (first) {
      if (!s::equals_word(w, "select") && !s::equals_word(w, "with") &&
          !s::equals_word(w, "table") && !s::equals_word(w, "values") &&
          !s::equals_word(w, "show")) {
        return false;
      }
      first = false;
      continue;
    }
    for (const std::string_view bad : {"insert", "update", "delete", "merge", "into", "share"}) {
      if (s::equals_word(w, bad)) return false;
    }
  }
  return !first;
}

namespace detail {

/// One replica: its pool and what the last check (or read) found.
struct replica_node {
  std::string conninfo;
  std::string server;  // conninfo, password masked
  std::unique_ptr<pool> db;
  std::atomic<bool> up{false};
  std::atomic<bool> lagging{false};  // up, but beyond max_replica_lag
  std::atomic<std::int64_t> lag_bytes{-1};
  std::atomic<std::int64_t> lag_ms{0};
  std::mutex mu;           // guards last_error
  std::string last_error;  // why it is down
  std::mutex checker_mu;   // guards checker, held while a check runs
  std::optional<connection> checker;
};

struct cluster_state {
  cluster_state(std::string_view primary_info, const std::vector<std::string>& replicas,
                cluster_options opts)
      : options(std::move(opts)),
        primary_conninfo(primary_info),
        primary(primary_info, options.primary),
        reader(*this, nullptr) {
    pool_options r = options.replicas;
    r.lazy = true;
    nodes.reserve(replicas.size());
    for (const auto& info : replicas) {
      auto n = std::make_unique<replica_node>();
      n->conninfo = info;
      n->server = detail::redact_conninfo(info);
      n->db = std::make_unique<pool>(info, r);
      nodes.push_back(std::move(n));
    }
  }

  const cluster_options options;
  const std::string primary_conninfo;
  pool primary;
  replica_reader reader;
  std::vector<std::unique_ptr<replica_node>> nodes;
  std::atomic<std::size_t> next{0};  // round robin

  std::mutex primary_check_mu;
  std::optional<connection> primary_checker;

  std::jthread health;
  std::mutex wake_mu;
  std::condition_variable_any wake;

  observer* events() const noexcept { return options.primary.connection.events.get(); }

  void emit(const replica_event& e) const noexcept {
    if (auto* o = events()) {
      try {
        o->on_replica_event(e);
      } catch (...) {  // NOLINT(bugprone-empty-catch): an observer must not break the cluster
      }
    }
  }

  void mark_down(replica_node& n, const std::string& why) {
    const bool was_up = n.up.exchange(false);
    {
      std::lock_guard lock(n.mu);
      n.last_error = why;
    }
    if (was_up) {
      replica_event e;
      e.kind = replica_event_kind::down;
      e.server = n.server;
      e.detail = why;
      e.lag_bytes = n.lag_bytes.load();
      e.lag = milliseconds(n.lag_ms.load());
      emit(e);
    }
  }

  connect_options check_options() const {
    connect_options o = options.primary.connection;
    o.connect_timeout = options.health_check_timeout;
    o.query_timeout = options.health_check_timeout;
    o.prepare = false;
    o.events = nullptr;
    return o;
  }

  // Runs `sql` on the checker connection `c` (opened to `conninfo` when needed), within the
  // check's deadline; a connection that failed is dropped, to be opened again next time.
  result check_query(std::optional<connection>& c, const std::string& conninfo,
                     std::string_view sql, std::span<const param> params,
                     const std::stop_token& stop) {
    const auto o = check_options();
    // A connection kept from the last check may have died with a restart since: one more try
    // on a new connection tells that apart from a server that is down now.
    const bool reused = c && c->is_open();
    for (int attempt = reused ? 0 : 1;; ++attempt) {
      try {
        if (!c || !c->is_open()) {
          c.reset();
          c.emplace(conninfo, o, stop);
        }
        return c->exec(sql, params, data_format::text, options.health_check_timeout);
      } catch (const error& e) {
        c.reset();
        if (attempt > 0 || !e.poisons_connection() || stop.stop_requested()) throw;
      }
    }
  }

  // The primary's current WAL position, or "" when it could not be asked.
  std::string primary_lsn(const std::stop_token& stop) {
    std::lock_guard lock(primary_check_mu);
    try {
      const auto r = check_query(primary_checker, primary_conninfo,
                                 "select case when pg_is_in_recovery() then null else "
                                 "pg_current_wal_lsn()::text end",
                                 {}, stop);
      return r.is_null(0, 0) ? std::string() : std::string(r.value(0, 0));
    } catch (const error&) {
      return {};
    }
  }

  void check(replica_node& n, const std::string& primary_at, const std::stop_token& stop) {
    std::unique_lock lock(n.checker_mu);
    std::string why;
    std::int64_t bytes = -1;
    std::int64_t lag_ms = 0;
    bool standby = false;
    try {
      const param at = primary_at.empty() ? param::null() : param::text(primary_at);
      const auto r = check_query(
          n.checker, n.conninfo,
          "select pg_is_in_recovery(), "
          // Without the primary's position (it could not be asked) the lag is unknown: -1
          // bytes, 0 ms, and max_replica_lag does not apply.
          "coalesce(case when $1::pg_lsn is null then -1 else "
          "greatest(pg_wal_lsn_diff($1::pg_lsn, pg_last_wal_replay_lsn()), 0) end, -1)::bigint, "
          "coalesce(case when pg_last_wal_replay_lsn() < $1::pg_lsn "
          "then extract(epoch from now() - pg_last_xact_replay_timestamp()) * 1000 end, 0)"
          "::bigint",
          std::span<const param>(&at, 1), stop);
      standby = r.value(0, 0) == "t";
      bytes = std::stoll(std::string(r.value(0, 1)));
      lag_ms = std::max<std::int64_t>(0, std::stoll(std::string(r.value(0, 2))));
      if (!standby) why = "pgorm: the replica is not in recovery (promoted?): no reads go to it";
    } catch (const std::exception& e) {
      why = e.what();
    }
    lock.unlock();
    if (stop.stop_requested()) return;
    if (!why.empty()) {
      mark_down(n, why);
      return;
    }
    n.lag_bytes = bytes;
    n.lag_ms = lag_ms;
    const bool lagging =
        options.max_replica_lag.count() > 0 && milliseconds(lag_ms) > options.max_replica_lag;
    n.lagging = lagging;
    {
      std::lock_guard l(n.mu);
      n.last_error.clear();
    }
    replica_event e;
    e.server = n.server;
    e.lag_bytes = bytes;
    e.lag = milliseconds(lag_ms);
    if (!n.up.exchange(true)) {
      e.kind = replica_event_kind::up;
      emit(e);
    }
    e.kind = replica_event_kind::lag;
    emit(e);
  }

  void check_all(const std::stop_token& stop) {
    const std::string at = primary_lsn(stop);
    for (auto& n : nodes) {
      if (stop.stop_requested()) return;
      check(*n, at, stop);
    }
  }

  void health_loop(const std::stop_token& stop) {
    while (!stop.stop_requested()) {
      {
        std::unique_lock lock(wake_mu);
        wake.wait_for(lock, stop, options.health_check_interval, [] { return false; });
      }
      if (stop.stop_requested()) return;
      check_all(stop);
    }
  }

  // A replica for the next read, round robin over those up and within the lag limit.
  replica_node* pick() noexcept {
    const std::size_t count = nodes.size();
    if (count == 0) return nullptr;
    const std::size_t start = next.fetch_add(1, std::memory_order_relaxed);
    for (std::size_t i = 0; i < count; ++i) {
      auto& n = *nodes[(start + i) % count];
      if (n.up.load() && !n.lagging.load()) return &n;
    }
    return nullptr;
  }

  // Runs `run(pool&)` on a replica, the next one when it fails as unavailable (and `retry`
  // allows it), else on the primary (or throws no_replica_available).
  template <class F>
  decltype(auto) route(bool plain_read, std::atomic<std::int64_t>* last_write,
                       const std::function<bool()>& retry, F&& run) {
    if (!plain_read) {
      if (last_write != nullptr) {
        // A write through a session's read(): it starts the session's window.
        last_write->store(now_ticks());
      }
      return run(primary);
    }
    if (last_write != nullptr) {
      const std::int64_t at = last_write->load();
      if (at != 0 &&
          clock::now() - clock::time_point(clock::duration(at)) < options.read_your_writes) {
        return run(primary);
      }
    }
    std::exception_ptr last_failure;
    for (std::size_t tries = 0; tries < nodes.size(); ++tries) {
      replica_node* n = pick();
      if (n == nullptr) break;
      try {
        return run(*n->db);
      } catch (...) {
        auto e = std::current_exception();
        if (!replica_unavailable(e)) throw;
        mark_down(*n, detail::what_of(e));
        last_failure = e;
        if (!retry()) throw;
      }
    }
    if (options.fallback_to_primary) return run(primary);
    no_replica_available err(fmt::format(
        "pgorm: no read replica is up ({} configured{}) and fallback_to_primary is off: the "
        "read was not sent",
        nodes.size(),
        options.max_replica_lag.count() > 0
            ? fmt::format(", max_replica_lag {} ms", options.max_replica_lag.count())
            : std::string()));
    if (last_failure) {
      try {
        std::rethrow_exception(last_failure);
      } catch (...) {
        std::throw_with_nested(std::move(err));
      }
    }
    throw err;
  }
};

}  // namespace detail

// ---- replica_reader -----------------------------------------------------------------------

namespace {
const std::function<bool()> always = [] { return true; };
}  // namespace

result replica_reader::exec(std::string_view sql, std::span<const param> params,
                            data_format result_format) {
  return exec(sql, params, result_format, milliseconds(0));
}

result replica_reader::exec(std::string_view sql, std::span<const param> params,
                            data_format result_format, std::chrono::milliseconds timeout) {
  return state_->route(is_plain_read(sql), last_write_, always,
                       [&](pool& p) { return p.exec(sql, params, result_format, timeout); });
}

void replica_reader::exec_each(std::string_view sql, std::span<const param> params,
                               data_format result_format,
                               const std::function<void(const result&)>& on_row,
                               std::chrono::milliseconds timeout) {
  bool delivered = false;
  const std::function<void(const result&)> counted = [&](const result& r) {
    delivered = true;
    on_row(r);
  };
  state_->route(
      is_plain_read(sql), last_write_, [&] { return !delivered; },
      [&](pool& p) { p.exec_each(sql, params, result_format, counted, timeout); });
}

result replica_reader::exec(const statement_shape& shape, const param_pack& params,
                            data_format result_format, std::chrono::milliseconds timeout) {
  return state_->route(is_plain_read(shape), last_write_, always,
                       [&](pool& p) { return p.exec(shape, params, result_format, timeout); });
}

void replica_reader::exec_each(const statement_shape& shape, const param_pack& params,
                               data_format result_format,
                               const std::function<void(const result&)>& on_row,
                               std::chrono::milliseconds timeout) {
  bool delivered = false;
  const std::function<void(const result&)> counted = [&](const result& r) {
    delivered = true;
    on_row(r);
  };
  state_->route(
      is_plain_read(shape), last_write_, [&] { return !delivered; },
      [&](pool& p) { p.exec_each(shape, params, result_format, counted, timeout); });
}

// ---- cluster ------------------------------------------------------------------------------

cluster::cluster(std::string_view primary, const std::vector<std::string>& replicas,
                 cluster_options options)
    : state_(std::make_unique<detail::cluster_state>(primary, replicas, std::move(options))) {
  const std::stop_token none;
  state_->check_all(none);
  state_->health = std::jthread([s = state_.get()](std::stop_token stop) { s->health_loop(stop); });
}

cluster::~cluster() {
  state_->health.request_stop();
  if (state_->health.joinable()) state_->health.join();
  for (auto& n : state_->nodes) n->db->close();
  state_->primary.close();
}

pool& cluster::primary() noexcept { return state_->primary; }

replica_reader& cluster::read() noexcept { return state_->reader; }

std::vector<replica_status> cluster::replicas() const {
  std::vector<replica_status> out;
  out.reserve(state_->nodes.size());
  for (const auto& n : state_->nodes) {
    replica_status s;
    s.server = n->server;
    s.up = n->up.load() && !n->lagging.load();
    s.lag_bytes = n->lag_bytes.load();
    s.lag = milliseconds(n->lag_ms.load());
    {
      std::lock_guard lock(n->mu);
      s.last_error = n->last_error;
    }
    if (n->up.load() && n->lagging.load()) {
      s.last_error = fmt::format("pgorm: lag {} ms exceeds max_replica_lag {} ms", s.lag.count(),
                                 state_->options.max_replica_lag.count());
    }
    out.push_back(std::move(s));
  }
  return out;
}

void cluster::check_replicas() {
  const std::stop_token none;
  state_->check_all(none);
}

const cluster_options& cluster::options() const noexcept { return state_->options; }

// ---- cluster_session ----------------------------------------------------------------------

cluster_session::cluster_session(cluster& db) noexcept
    : db_(&db), reader_(*db.state_, &last_write_) {}

bool cluster_session::reads_on_primary() const noexcept {
  const std::int64_t at = last_write_.load();
  return at != 0 &&
         clock::now() - clock::time_point(clock::duration(at)) < db_->options().read_your_writes;
}

void cluster_session::note_write() noexcept { last_write_.store(now_ticks()); }

namespace {
// Stamps the session's window when the statement ends, however it ends: a write that failed
// may still have committed (a lost connection).
struct write_stamp {
  std::atomic<std::int64_t>& at;
  bool write;
  ~write_stamp() {
    if (write) at.store(now_ticks());
  }
};
}  // namespace

result cluster_session::exec(std::string_view sql, std::span<const param> params,
                             data_format result_format) {
  return exec(sql, params, result_format, milliseconds(0));
}

result cluster_session::exec(std::string_view sql, std::span<const param> params,
                             data_format result_format, std::chrono::milliseconds timeout) {
  const write_stamp stamp{last_write_, !is_plain_read(sql)};
  return db_->primary().exec(sql, params, result_format, timeout);
}

void cluster_session::exec_each(std::string_view sql, std::span<const param> params,
                                data_format result_format,
                                const std::function<void(const result&)>& on_row,
                                std::chrono::milliseconds timeout) {
  const write_stamp stamp{last_write_, !is_plain_read(sql)};
  db_->primary().exec_each(sql, params, result_format, on_row, timeout);
}

result cluster_session::exec(const statement_shape& shape, const param_pack& params,
                             data_format result_format, std::chrono::milliseconds timeout) {
  const write_stamp stamp{last_write_, !is_plain_read(shape)};
  return db_->primary().exec(shape, params, result_format, timeout);
}

void cluster_session::exec_each(const statement_shape& shape, const param_pack& params,
                                data_format result_format,
                                const std::function<void(const result&)>& on_row,
                                std::chrono::milliseconds timeout) {
  const write_stamp stamp{last_write_, !is_plain_read(shape)};
  db_->primary().exec_each(shape, params, result_format, on_row, timeout);
}

}  // namespace pgorm
