// SPDX-License-Identifier: MIT
// The read-replica and failover blocks of docs/scaling.md (the pooler blocks are in
// testing_snippets.cpp). Compiled, never run.
#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "pgorm/cluster.hpp"
#include "pgorm/observer.hpp"
#include "pgorm/pgorm.hpp"
#include "schema.hpp"

namespace app {

void replicas() {
  // doc-begin(scaling_cluster)
  pgorm::cluster_options options;
  options.primary.max_size = 10;
  options.replicas.max_size = 10;  // per replica
  options.health_check_interval = std::chrono::seconds(1);
  options.fallback_to_primary = true;  // no replica up: read on the primary
  pgorm::cluster db{"host=db1 dbname=app user=app",
                    {"host=db2 dbname=app user=app", "host=db3 dbname=app user=app"},
                    options};

  // The cluster itself is the primary: writes, transactions, locking reads.
  db.exec("update \"user\" set age = age + 1 where id = $1", {pgorm::param::text("1")});
  db.transaction([](pgorm::transaction& tx) { tx.exec("delete from session where user_id = 1"); });
  auto locked = db.select<User>().where(pgorm::col<&User::id> == 1).for_update().all();

  // Reads go to a replica only where the code says so.
  std::vector<User> adults = db.read().select<User>().where(pgorm::col<&User::age> >= 18).all();
  std::optional<User> ada = db.read().find<User>(std::int64_t{1});
  // doc-end(scaling_cluster)
  use(locked, adults, ada);

  // doc-begin(scaling_status)
  for (const pgorm::replica_status& r : db.replicas()) {
    std::printf("%s: %s, %lld bytes / %lld ms behind %s\n", r.server.c_str(), r.up ? "up" : "down",
                static_cast<long long>(r.lag_bytes), static_cast<long long>(r.lag.count()),
                r.last_error.c_str());
  }
  // doc-end(scaling_status)
}

void no_fallback(pgorm::cluster& db) {
  // doc-begin(scaling_no_replica)
  try {
    auto n = db.read().exec("select count(*) from \"user\"", {});
    use(n);
  } catch (const pgorm::no_replica_available& e) {
    // fallback_to_primary = false and no replica up (or all beyond max_replica_lag): nothing
    // was sent. Serve from a cache, or retry later.
  }
  // doc-end(scaling_no_replica)
}

// doc-begin(scaling_session)
void rename_user(pgorm::cluster& db, std::int64_t id, const std::string& name) {
  pgorm::cluster_session s{db};  // one per request
  s.exec("update \"user\" set name = $1 where id = $2",
         {pgorm::param::text(name), pgorm::param::text(std::to_string(id))});
  // Within cluster_options::read_your_writes (5 s) of the update, the session's reads run on
  // the primary: the new name is there even if the replicas have not replayed it yet.
  std::optional<User> u = s.read().find<User>(id);
  use(u);
}
// doc-end(scaling_session)

void session_tools(pgorm::cluster& db) {
  // doc-begin(scaling_session_tools)
  pgorm::cluster_session s{db};
  // A write made on the session's behalf elsewhere (a job queue, another service) starts the
  // window as a write through the session would.
  s.note_write();
  bool on_primary = s.reads_on_primary();  // true for read_your_writes from now

  // What read() may send to a replica:
  bool plain = pgorm::is_plain_read("select * from \"user\" where id = $1");  // true
  bool locking = pgorm::is_plain_read("select * from \"user\" for update");   // false
  // A shape that says what it does is not scanned (a builder's says it from its clauses):
  const pgorm::statement_shape shape{.sql = "select 1", .effect = pgorm::sql_effect::writes};
  bool by_flag = pgorm::is_plain_read(shape);  // false
  db.check_replicas();  // a health check now, on this thread, instead of waiting for the next
  // doc-end(scaling_session_tools)
  use(on_primary, plain, locking, by_flag);
}

// doc-begin(scaling_lag_observer)
struct replica_metrics : pgorm::observer {
  void on_replica_event(const pgorm::replica_event& e) override {
    switch (e.kind) {
      case pgorm::replica_event_kind::lag:  // every health_check_interval, per replica
        std::printf("replica %.*s lag %lld bytes %lld ms\n", static_cast<int>(e.server.size()),
                    e.server.data(), static_cast<long long>(e.lag_bytes),
                    static_cast<long long>(e.lag.count()));
        break;
      case pgorm::replica_event_kind::down:  // detail says why; reads avoid it until up
      case pgorm::replica_event_kind::up:
        break;
    }
  }
};

pgorm::cluster_options observed() {
  pgorm::cluster_options options;
  options.primary.connection.events = std::make_shared<replica_metrics>();
  options.max_replica_lag = std::chrono::seconds(2);  // further behind: no reads go to it
  return options;
}
// doc-end(scaling_lag_observer)

// doc-begin(scaling_failover)
pgorm::pool failover_pool() {
  pgorm::pool_options options;
  options.max_size = 8;
  options.connection.connect_timeout = std::chrono::seconds(2);  // per host
  // Both servers; libpq keeps the one that accepts writes. After a failover the pool's broken
  // connections are replaced by connections to the promoted standby.
  return pgorm::pool{
      "host=db1,db2 port=5432,5432 dbname=app user=app "
      "target_session_attrs=read-write",
      options};
}
// doc-end(scaling_failover)

}  // namespace app
