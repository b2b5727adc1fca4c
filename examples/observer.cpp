// SPDX-License-Identifier: MIT
// The observer hook: every query and pool event goes to a logger (spdlog when pgorm's examples
// were built with it, else stderr). Parameter values never reach the log.
#include <memory>

#include <pgorm/pgorm.hpp>
#include <pgorm/testing/server.hpp>

#if PGORM_EXAMPLE_SPDLOG
#include <spdlog/spdlog.h>

struct spdlog_observer : pgorm::observer {
  void on_query_end(const pgorm::query_event& q, const pgorm::query_outcome& o) override {
    if (o.error.empty()) {
      spdlog::info("{} {} us rows={} sql={}", q.operation, o.duration.count() / 1000, o.rows,
                   q.sql);
    } else {
      spdlog::error("{} failed: {} ({})", q.operation, o.error, o.sqlstate);
    }
  }
  void on_pool_event(const pgorm::pool_event& e) override {
    spdlog::debug("pool event {} in_use={} idle={}", static_cast<int>(e.kind), e.in_use, e.idle);
  }
};
using logger = spdlog_observer;
#else
using logger = pgorm::stderr_logger;
#endif

struct Note {
  std::int64_t id = 0;
  std::string text;
};

template <>
struct pgorm::table_traits<Note> {
  static constexpr auto primary_key = pgorm::identity(&Note::id);
};

int main() {
  pgorm::testing::server pg;
  pgorm::pool db{pg.conninfo(), {.connection = {.events = std::make_shared<logger>()}}};
  db.with_connection([](pgorm::connection& c) { pgorm::schema::create<Note>(c); });
  db.insert(Note{.text = "a secret the log must not show"}).exec();
  const auto notes = db.select<Note>().where(pgorm::col<&Note::id> > 0).all();
  try {
    db.query<std::tuple<int>>("select 1 / $1::int", 0).one();
  } catch (const pgorm::sql_error&) {
    // logged by the observer with its SQLSTATE (22012)
  }
  return notes.size() == 1 ? 0 : 1;
}
