// SPDX-License-Identifier: MIT
// The code blocks of docs/pool.md, compiled (never run). Each region between `doc-begin(name)`
// and `doc-end(name)` appears verbatim (dedented) in the page; check with tools/check_docs.py.
// User is the schema of docs/queries.md (schema.hpp).

#include <chrono>
#include <cstddef>
#include <exception>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "pgorm/pgorm.hpp"
#include "schema.hpp"

namespace docs::pool_page {

using app::use;
using app::User;

void intro() {
  // doc-begin(intro)
  using namespace std::chrono_literals;
  pgorm::pool db{"postgresql://app@localhost/app", {.max_size = 10, .acquire_timeout = 5s}};

  std::vector<User> adults = db.select<User>().where(pgorm::col<&User::age> >= 18).all();

  pgorm::lease c = db.acquire();  // raw access for a while
  c->exec("analyze users");
  // doc-end(intro)
}

void threads(const std::string& url) {
  // doc-begin(threads)
  pgorm::pool db{url, {.max_size = 4}};
  std::vector<std::jthread> workers;
  for (int i = 0; i < 16; ++i) {
    workers.emplace_back(
        [&] { db.exec("update counters set n = n + 1 where id = $1", {pgorm::param::text("1")}); });
  }
  // doc-end(threads)
}

void lease(pgorm::pool& db) {
  // doc-begin(lease)
  {
    auto c = db.acquire();
    c->exec("set statement_timeout = '2s'");
    c->exec("select expensive()");
  }  // DISCARD ALL, then back to the pool

  int pid = db.with_connection([](pgorm::connection& c) { return c.backend_pid(); });
  // doc-end(lease)
  use(pid);
}

// Stand-ins for the application's metrics and log.
struct {
  void pool_saturated(std::size_t /*in_use*/, std::size_t /*waiting*/) {}
} metrics;
struct {
  void error(std::string_view /*format*/, std::string_view /*arg*/) {}
} logger;
struct {
  void record(std::chrono::nanoseconds /*value*/) {}
} wait_histogram;
struct {
  void add(int /*n*/, std::string_view /*label*/) {}
} evictions;

void timeouts(pgorm::pool& db) {
  // doc-begin(timeout)
  try {
    db.exec("select 1", {});
  } catch (const pgorm::pool_timeout& e) {
    if (e.reason() == pgorm::pool_timeout_reason::exhausted) {
      metrics.pool_saturated(e.in_use(), e.waiting());  // grow max_size or shorten transactions
    } else {                                            // unreachable
      logger.error("database down: {}", e.last_connect_error());
      try {
        std::rethrow_if_nested(e);
      } catch (const pgorm::connection_error& cause) {
        logger.error("cause: {}", cause.what());
      }
    }
  } catch (const pgorm::pool_connect_error& e) {  // the attempt it waited for failed;
    logger.error("database down: {}", e.what());  // nothing was sent: safe to retry
  }
  // doc-end(timeout)
}

// doc-begin(metrics)
struct pool_metrics : pgorm::observer {
  void on_pool_event(const pgorm::pool_event& e) override {
    if (e.kind == pgorm::pool_event_kind::acquire) wait_histogram.record(e.wait);
    if (e.kind == pgorm::pool_event_kind::evict) evictions.add(1, e.detail);  // broken, idle, ...
  }
};

void with_metrics(const std::string& url) {
  pgorm::pool db{url, {.connection = {.events = std::make_shared<pool_metrics>()}}};
  // ...
}
// doc-end(metrics)

}  // namespace docs::pool_page
