// SPDX-License-Identifier: MIT
// The code blocks of docs/notifications.md, compiled (never run). Each region between
// `doc-begin(name)` and `doc-end(name)` appears verbatim (dedented) in the page; check with
// tools/check_docs.py.

#include <atomic>
#include <chrono>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "pgorm/connection.hpp"
#include "pgorm/listener.hpp"
#include "pgorm/notification.hpp"
#include "pgorm/observer.hpp"
#include "pgorm/pool.hpp"
#include "pgorm/transaction.hpp"

namespace docs::notifications_page {

void rescan_jobs() {}
void run_job(const std::string& /*payload*/) {}

// doc-begin(intro)
void job_worker(const std::string& url, const std::atomic<bool>& stopping) {
  using namespace std::chrono_literals;
  pgorm::listener jobs{url};  // a connection of its own, never from a pool
  jobs.listen("jobs");
  rescan_jobs();  // what was queued before we listened
  while (!stopping) {
    std::optional<pgorm::listener_event> e = jobs.wait(1s);
    if (!e) continue;  // nothing within 1 s (or the server is unreachable: it keeps trying)
    if (e->is_reconnected()) {
      rescan_jobs();  // notifications sent while the connection was down are lost
      continue;
    }
    run_job(e->notification.payload);
  }
}

void enqueue(pgorm::pool& db) {
  pgorm::notify(db, "jobs", R"({"id": 42})");  // select pg_notify($1, $2)
}
// doc-end(intro)

void on_a_connection(pgorm::connection& conn, pgorm::connection& other) {
  // doc-begin(connection)
  using namespace std::chrono_literals;
  conn.listen("Order Events");  // quoted: exactly this name, case and space included
  other.notify("Order Events", "order 7 paid");

  if (std::optional<pgorm::notification> n = conn.wait_for_notification(5s)) {
    std::printf("%s from backend %d: %s\n", n->channel.c_str(), n->sender_pid, n->payload.c_str());
  }
  // What arrived already, without waiting:
  while (std::optional<pgorm::notification> n = conn.wait_for_notification(0ms)) {
    std::printf("%s\n", n->payload.c_str());
  }
  conn.unlisten("Order Events");
  // doc-end(connection)
}

void in_a_transaction(pgorm::connection& conn) {
  // doc-begin(transaction)
  conn.transaction([](pgorm::transaction& tx) {
    tx.exec("update jobs set state = 'queued' where id = 42");
    pgorm::notify(tx, "jobs", "42");  // sent at COMMIT, never if the transaction rolls back
  });
  // doc-end(transaction)
}

void shut_down(const std::string& url) {
  // doc-begin(interrupt)
  pgorm::listener events{url, {.reconnect_backoff_max = std::chrono::seconds(2)}};
  events.listen("cache_invalidation");
  std::atomic<bool> stopping{false};
  std::thread t([&] {
    while (!stopping) {
      if (auto e = events.wait(std::chrono::seconds(30))) {
        // ... drop a cache entry, or all of them on e->is_reconnected()
      }
    }
  });
  // ... later, from the main thread:
  stopping = true;
  events.interrupt();  // the 30 s wait returns at once
  t.join();
  // doc-end(interrupt)
}

// doc-begin(notices)
struct notice_printer : pgorm::observer {
  void on_notice(const pgorm::notice_event& n) override {
    std::fprintf(stderr, "%.*s: %.*s\n", static_cast<int>(n.severity.size()), n.severity.data(),
                 static_cast<int>(n.message.size()), n.message.data());
  }
};

void show_notices(const std::string& url) {
  pgorm::connection conn{url, {.events = std::make_shared<notice_printer>()}};
  conn.exec("do $$ begin raise notice 'hello from plpgsql'; end $$");
  // stderr: NOTICE: hello from plpgsql
}
// doc-end(notices)

}  // namespace docs::notifications_page
