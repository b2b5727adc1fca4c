// SPDX-License-Identifier: MIT
// Transactions (commit, rollback, savepoints, retries, commit_outcome_unknown), statement
// timeouts and cancellation, the prepared-statement cache, and the observer hook.
#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <libpq-fe.h>

#include "pgorm/pgorm.hpp"
#include "support/db_test.hpp"

namespace {

using namespace std::chrono_literals;
using pgorm::col;

struct counter {
  std::int64_t id;
  std::int64_t n;
};

}  // namespace

template <>
struct pgorm::table_traits<counter> {
  static constexpr auto primary_key = pgorm::key(&counter::id);
};

namespace {

class transaction_test : public pgorm::test::db_test {
 protected:
  void SetUp() override {
    db_test::SetUp();
    conn().exec("create table counter (id bigint primary key, n bigint not null)");
    conn().exec("insert into counter values (1, 0), (2, 0)");
  }
  std::int64_t value(std::int64_t id) { return conn().find<counter>(id).value().n; }
};

struct my_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

TEST_F(transaction_test, commits_when_the_function_returns_and_passes_its_value_on) {
  const int out = conn().transaction([&](pgorm::transaction& tx) {
    tx.update<counter>().set(col<& counter::n> = 5).where(col<&counter::id> == 1).exec();
    EXPECT_EQ(tx.conn().status(), pgorm::transaction_status::in_transaction);
    return 42;
  });
  EXPECT_EQ(out, 42);
  EXPECT_EQ(value(1), 5);
  EXPECT_EQ(conn().status(), pgorm::transaction_status::idle);
}

TEST_F(transaction_test, rolls_back_on_exception_and_lets_it_propagate_unchanged) {
  EXPECT_THROW(conn().transaction([&](pgorm::transaction& tx) {
    tx.update<counter>().set(col<& counter::n> = 9).where(col<&counter::id> == 1).exec();
    throw my_error("boom");
  }),
               my_error);
  EXPECT_EQ(value(1), 0);
  EXPECT_EQ(conn().status(), pgorm::transaction_status::idle);
}

TEST_F(transaction_test, options_set_isolation_read_only_and_deferrable) {
  const pgorm::transaction_options options{
      .isolation = pgorm::isolation_level::serializable, .read_only = true, .deferrable = true};
  conn().transaction(
      [&](pgorm::transaction& tx) {
        EXPECT_EQ(tx.exec("show transaction_isolation").value(0, 0), "serializable");
        EXPECT_EQ(tx.exec("show transaction_read_only").value(0, 0), "on");
        EXPECT_EQ(tx.exec("show transaction_deferrable").value(0, 0), "on");
      },
      options);
  try {
    conn().transaction([&](pgorm::transaction& tx) { tx.exec("update counter set n = 1"); },
                       options);
    ADD_FAILURE() << "a read-only transaction wrote";
  } catch (const pgorm::sql_error& e) {
    EXPECT_EQ(e.sqlstate(), "25006");
  }
  EXPECT_EQ(conn().status(), pgorm::transaction_status::idle);
}

TEST_F(transaction_test, savepoints_recover_from_an_error_inside) {
  conn().transaction([&](pgorm::transaction& tx) {
    tx.update<counter>().set(col<& counter::n> = 1).where(col<&counter::id> == 1).exec();
    try {
      tx.savepoint([&](pgorm::transaction& inner) {
        EXPECT_EQ(inner.depth(), 1);
        inner.update<counter>().set(col<& counter::n> = 100).where(col<&counter::id> == 2).exec();
        inner.exec("select 1/0");  // fails: rolls back to the savepoint
      });
    } catch (const pgorm::sql_error& e) {
      EXPECT_EQ(e.sqlstate(), "22012");
    }
    tx.savepoint([&](pgorm::transaction& inner) {
      inner.update<counter>().set(col<& counter::n> = 7).where(col<&counter::id> == 2).exec();
    });
  });
  EXPECT_EQ(value(1), 1);
  EXPECT_EQ(value(2), 7);
}

TEST_F(transaction_test, an_error_swallowed_inside_is_not_reported_as_committed) {
  EXPECT_THROW(conn().transaction([&](pgorm::transaction& tx) {
    tx.update<counter>().set(col<& counter::n> = 3).where(col<&counter::id> == 1).exec();
    try {
      tx.exec("select 1/0");
    } catch (const pgorm::sql_error&) {
    }
  }),
               pgorm::usage_error);
  EXPECT_EQ(value(1), 0);
}

TEST_F(transaction_test, serializable_increments_with_retries_are_exact) {
  constexpr int threads = 8;
  constexpr int per_thread = 1000;
  std::atomic<int> failures{0};
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&] {
      try {
        pgorm::connection c = connect();
        for (int i = 0; i < per_thread; ++i) {
          c.transaction(
              [&](pgorm::transaction& tx) {
                const auto current = tx.find<counter>(1).value();
                tx.update<counter>()
                    .set(col<& counter::n> = current.n + 1)
                    .where(col<&counter::id> == 1)
                    .exec();
              },
              {.isolation = pgorm::isolation_level::serializable,
               .retry = {.max_attempts = 1000, .base_delay = 1ms, .max_delay = 20ms}});
        }
      } catch (const std::exception& e) {
        ++failures;
        ADD_FAILURE() << e.what();
      }
    });
  }
  for (auto& w : workers) w.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(value(1), threads * per_thread);
}

TEST_F(transaction_test, deadlocks_are_detected_and_retried) {
  std::atomic<int> attempts{0};
  // Both first attempts hold their first row before either asks for its second, so the two
  // transactions deadlock however the threads are scheduled (a sleep was not enough on a busy
  // machine: one transaction could finish before the other began).
  std::atomic<int> holding{0};
  const auto worker = [&](std::int64_t first, std::int64_t second) {
    pgorm::connection c = connect();
    c.exec("set deadlock_timeout = '50ms'");
    bool first_attempt = true;
    c.transaction(
        [&](pgorm::transaction& tx) {
          ++attempts;
          tx.update<counter>()
              .set(col<& counter::n> = col<&counter::n> + 1)
              .where(col<&counter::id> == first)
              .exec();
          if (first_attempt) {
            first_attempt = false;
            ++holding;
            const auto give_up = std::chrono::steady_clock::now() + 60s;
            while (holding.load() < 2 && std::chrono::steady_clock::now() < give_up) {
              std::this_thread::sleep_for(1ms);
            }
          }
          tx.update<counter>()
              .set(col<& counter::n> = col<&counter::n> + 1)
              .where(col<&counter::id> == second)
              .exec();
        },
        {.retry = {.max_attempts = 5}});
  };
  std::thread a(worker, 1, 2);
  std::thread b(worker, 2, 1);
  a.join();
  b.join();
  EXPECT_GE(attempts.load(), 3);  // one of the two was chosen as the deadlock victim and re-ran
  EXPECT_EQ(value(1), 2);
  EXPECT_EQ(value(2), 2);
}

TEST_F(transaction_test, without_retry_the_failure_propagates) {
  pgorm::connection other = connect();
  EXPECT_THROW(conn().transaction(
                   [&](pgorm::transaction& tx) {
                     tx.find<counter>(1);
                     other.exec("update counter set n = n + 1 where id = 1");
                     tx.exec("update counter set n = n + 1 where id = 1");
                   },
                   {.isolation = pgorm::isolation_level::repeatable_read}),
               pgorm::serialization_failure);
  EXPECT_EQ(value(1), 1);
}

TEST_F(transaction_test, connection_lost_during_commit_is_commit_outcome_unknown) {
  PGORM_SKIP_BEHIND_POOLER(
      "pg_terminate_backend(backend_pid()) (the pid a client sees is PgBouncer's, not its server "
      "session's)");
  pgorm::connection victim = connect();
  EXPECT_THROW(victim.transaction([&](pgorm::transaction& tx) {
    tx.exec("update counter set n = 50 where id = 1");
    conn().exec("select pg_terminate_backend($1::int)",
                {pgorm::param::text(std::to_string(tx.conn().backend_pid()))});
    std::this_thread::sleep_for(50ms);
  }),
               pgorm::commit_outcome_unknown);
  EXPECT_EQ(value(1), 0);
}

TEST_F(transaction_test, pool_transactions_commit_roll_back_and_retry) {
  pgorm::pool db{conninfo(), {.max_size = 3, .connection = pgorm::test::test_options()}};
  EXPECT_THROW(db.transaction([&](pgorm::transaction& tx) {
    tx.update<counter>().set(col<& counter::n> = 99).where(col<&counter::id> == 2).exec();
    throw my_error("no");
  }),
               my_error);
  EXPECT_EQ(value(2), 0);
  std::vector<std::thread> workers;
  for (int t = 0; t < 4; ++t) {
    workers.emplace_back([&] {
      for (int i = 0; i < 100; ++i) {
        db.transaction(
            [&](pgorm::transaction& tx) {
              const auto c = tx.find<counter>(2).value();
              tx.update<counter>()
                  .set(col<& counter::n> = c.n + 1)
                  .where(col<&counter::id> == 2)
                  .exec();
            },
            {.isolation = pgorm::isolation_level::serializable,
             .retry = {.max_attempts = 500, .base_delay = 1ms, .max_delay = 10ms}});
      }
    });
  }
  for (auto& w : workers) w.join();
  EXPECT_EQ(value(2), 400);
  EXPECT_LE(db.stats().total_opened, 3U);
}

// ---- nested calls ---------------------------------------------------------------------------

std::string n_seen_by(pgorm::connection& c, int id) {
  return std::string(
      c.exec("select n from counter where id = $1::int", {pgorm::param::text(std::to_string(id))})
          .value(0, 0));
}

TEST_F(transaction_test, a_nested_transaction_call_is_a_usage_error_and_commits_nothing_early) {
  pgorm::connection other = connect();
  conn().transaction([&](pgorm::transaction& tx) {
    tx.exec("update counter set n = 1 where id = 1");
    try {
      tx.conn().transaction(
          [&](pgorm::transaction& inner) { inner.exec("update counter set n = 2 where id = 2"); });
      ADD_FAILURE() << "transaction() inside a transaction was accepted";
    } catch (const pgorm::usage_error& e) {
      EXPECT_NE(std::string(e.what()).find("tx.savepoint("), std::string::npos) << e.what();
    }
    // The outer transaction is untouched: nothing committed, still open, and it goes on.
    EXPECT_EQ(n_seen_by(other, 1), "0");
    EXPECT_EQ(n_seen_by(other, 2), "0");
    EXPECT_EQ(tx.conn().status(), pgorm::transaction_status::in_transaction);
    tx.exec("update counter set n = 3 where id = 2");
  });
  EXPECT_EQ(value(1), 1);
  EXPECT_EQ(value(2), 3);

  // Not caught, the usage_error rolls the outer transaction back like any other exception.
  EXPECT_THROW(conn().transaction([&](pgorm::transaction& tx) {
    tx.exec("update counter set n = 10 where id = 1");
    tx.conn().transaction([](pgorm::transaction&) {}, {.retry = {.max_attempts = 3}});
  }),
               pgorm::usage_error);
  EXPECT_EQ(value(1), 1);
  EXPECT_EQ(conn().status(), pgorm::transaction_status::idle);
}

TEST_F(transaction_test, a_transaction_call_on_a_connection_in_a_raw_transaction_is_refused) {
  pgorm::connection other = connect();
  conn().exec("begin");
  conn().exec("update counter set n = 5 where id = 1");
  EXPECT_THROW(conn().transaction([](pgorm::transaction& tx) { tx.exec("select 1"); }),
               pgorm::usage_error);
  EXPECT_EQ(conn().status(), pgorm::transaction_status::in_transaction);
  EXPECT_EQ(n_seen_by(other, 1), "0");
  conn().exec("rollback");
  EXPECT_EQ(value(1), 0);

  // A transaction object still alive on the connection counts too, even after the function
  // ended the server-side transaction behind pgorm's back.
  conn().transaction([&](pgorm::transaction& tx) {
    tx.exec("commit");
    EXPECT_EQ(tx.conn().status(), pgorm::transaction_status::idle);
    EXPECT_THROW(tx.conn().transaction([](pgorm::transaction&) {}), pgorm::usage_error);
  });

  // The same for a pool transaction and for one run on a lease's connection.
  pgorm::pool db{conninfo(), {.max_size = 2, .connection = pgorm::test::test_options()}};
  db.transaction([&](pgorm::transaction& tx) {
    tx.exec("update counter set n = 7 where id = 2");
    EXPECT_THROW(pgorm::run_transaction(
                     tx.conn(), [](pgorm::transaction&) {}, pgorm::transaction_options{}),
                 pgorm::usage_error);
    EXPECT_EQ(n_seen_by(other, 2), "0");
  });
  EXPECT_EQ(value(2), 7);
  {
    auto lease = db.acquire();
    lease->exec("begin");
    EXPECT_THROW(lease->transaction([](pgorm::transaction&) {}), pgorm::usage_error);
    EXPECT_EQ(lease->status(), pgorm::transaction_status::in_transaction);
    lease->exec("rollback");
    EXPECT_EQ(lease->transaction([](pgorm::transaction& tx) {
      return std::string(tx.exec("select 'fine'").value(0, 0));
    }),
              "fine");
  }
}

// ---- timeouts and cancellation ----------------------------------------------------------------

TEST_F(transaction_test, session_statement_timeout_cancels_on_the_server) {
  PGORM_SKIP_BEHIND_POOLER(
      "a session statement_timeout (sent as the startup parameter options, which PgBouncer "
      "refuses; connect_options::pooler makes it a client deadline)");
  pgorm::connection c{conninfo(), {.statement_timeout = 100ms}};
  const auto start = std::chrono::steady_clock::now();
  EXPECT_THROW(c.exec("select pg_sleep(5)"), pgorm::query_canceled);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 4s);  // well before pg_sleep(5) ends
  EXPECT_EQ(c.exec("select 1").value(0, 0), "1");
}

TEST_F(transaction_test, client_deadline_cancels_the_running_query) {
  const auto start = std::chrono::steady_clock::now();
  EXPECT_THROW(conn().exec("select pg_sleep(5)", std::span<const pgorm::param>{},
                           pgorm::data_format::text, 200ms),
               pgorm::query_canceled);
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_GE(took, 190ms);
  EXPECT_LT(took, 4s);  // well before pg_sleep(5) would end; ./dev reliability has the figure
  EXPECT_EQ(conn().exec("select 2").value(0, 0), "2");  // still usable
  // Under the deadline nothing happens.
  const std::array<pgorm::param, 1> three{pgorm::param::text("3")};
  EXPECT_EQ(conn().exec("select $1::int", three, pgorm::data_format::text, 5000ms).value(0, 0),
            "3");
}

TEST_F(transaction_test, cancel_from_another_thread) {
  std::thread canceller([&] {
    std::this_thread::sleep_for(150ms);
    conn().cancel();
  });
  EXPECT_THROW(conn().exec("select pg_sleep(5)"), pgorm::query_canceled);
  canceller.join();
  EXPECT_TRUE(conn().is_open());
}

// ---- transaction_options::timeout: one budget for the whole call -----------------------------

using clock_type = std::chrono::steady_clock;

TEST_F(transaction_test, the_timeout_cancels_a_statement_and_rolls_back) {
  const int pid = conn().backend_pid();
  const auto start = clock_type::now();
  try {
    conn().transaction(
        [&](pgorm::transaction& tx) {
          tx.exec("update counter set n = 1 where id = 1");
          tx.exec("select pg_sleep(30)");
        },
        {.timeout = 300ms});
    ADD_FAILURE() << "the transaction outlived its timeout";
  } catch (const pgorm::query_canceled& e) {
    EXPECT_EQ(e.sqlstate(), "57014");
  }
  EXPECT_LT(clock_type::now() - start, 5s);  // a 300 ms budget, generously
  EXPECT_TRUE(conn().is_open());
  EXPECT_EQ(conn().status(), pgorm::transaction_status::idle);
  EXPECT_EQ(value(1), 0);
  // The same session goes on, so the server stopped the sleep: pgorm cancelled it rather than
  // dropping the connection. (pg_stat_activity is cluster-wide and other tests sleep in
  // parallel, so the backend's identity is the check, not a count of sleeping queries.)
  EXPECT_EQ(conn().backend_pid(), pid);
}

TEST_F(transaction_test, the_timeout_is_one_budget_shared_by_the_statements) {
  // Each statement alone fits the budget; together they do not.
  int ran = 0;
  const auto start = clock_type::now();
  EXPECT_THROW(conn().transaction(
                   [&](pgorm::transaction& tx) {
                     tx.exec("update counter set n = 1 where id = 1");
                     for (int i = 0; i < 20; ++i) {
                       tx.exec("select pg_sleep(0.2)");
                       ++ran;
                     }
                   },
                   {.timeout = 1000ms}),
               pgorm::query_canceled);
  EXPECT_LT(clock_type::now() - start, 5s);
  EXPECT_GE(ran, 1);
  EXPECT_LT(ran, 20);
  EXPECT_EQ(value(1), 0);
  EXPECT_EQ(conn().status(), pgorm::transaction_status::idle);

  // Builders and savepoints on the transaction object share it too; so does time spent
  // outside the database: a spent budget is refused before COMMIT is sent.
  EXPECT_THROW(
      conn().transaction(
          [&](pgorm::transaction& tx) {
            tx.savepoint([&](pgorm::transaction& sp) {
              sp.update<counter>().set(col<& counter::n> = 2).where(col<&counter::id> == 2).exec();
            });
            EXPECT_TRUE(tx.time_left().has_value());
            std::this_thread::sleep_for(400ms);
            EXPECT_EQ(tx.time_left(), 0ms);
          },
          {.timeout = 200ms}),
      pgorm::query_canceled);
  EXPECT_EQ(value(2), 0);
  EXPECT_EQ(conn().status(), pgorm::transaction_status::idle);
}

TEST_F(transaction_test, a_statement_timeout_inside_a_transaction_is_capped_by_its_budget) {
  const std::array<pgorm::param, 0> none{};
  const auto start = clock_type::now();
  EXPECT_THROW(conn().transaction(
                   [&](pgorm::transaction& tx) {
                     tx.exec("select pg_sleep(30)", none, pgorm::data_format::text, 60s);
                   },
                   {.timeout = 300ms}),
               pgorm::query_canceled);
  EXPECT_LT(clock_type::now() - start, 5s);
  // A shorter timeout of the statement's own wins, and the transaction goes on after it.
  const std::string after = conn().transaction(
      [&](pgorm::transaction& tx) {
        EXPECT_THROW(
            tx.savepoint([&](pgorm::transaction& sp) { sp.exec("select pg_sleep(30)", 200ms); }),
            pgorm::query_canceled);
        return std::string(tx.exec("select 'went on'").value(0, 0));
      },
      {.timeout = 60s});
  EXPECT_EQ(after, "went on");
  EXPECT_LT(clock_type::now() - start, 10s);
  EXPECT_FALSE(
      conn().transaction([](pgorm::transaction& tx) { return tx.time_left(); }).has_value());
}

TEST_F(transaction_test, the_timeout_covers_retries_and_their_pauses) {
  int attempts = 0;
  const auto start = clock_type::now();
  try {
    conn().transaction(
        [&](pgorm::transaction& tx) {
          ++attempts;
          tx.exec("do $$ begin raise exception using errcode = '40001'; end $$");
        },
        {.retry = {.max_attempts = 1000, .base_delay = 50ms, .max_delay = 50ms},
         .timeout = 1500ms});
    ADD_FAILURE() << "the transaction committed";
  } catch (const pgorm::query_canceled& e) {
    // Usually "ran out before retry N (the attempt before failed: ... 40001)"; on a slow
    // machine the budget may also run out during BEGIN or the statement.
    EXPECT_EQ(e.sqlstate(), "57014") << e.what();
  }
  EXPECT_LT(clock_type::now() - start, 8s);  // not 1000 attempts x 50 ms
  EXPECT_GE(attempts, 2);
  EXPECT_LT(attempts, 1000);
  EXPECT_EQ(conn().status(), pgorm::transaction_status::idle);
}

TEST_F(transaction_test, the_timeout_bounds_a_commit_that_waits) {
  // A deferred constraint trigger makes COMMIT itself slow; at the deadline it is cancelled,
  // which is a definite failure: nothing committed, the connection usable.
  conn().exec(
      "create function counter_slow_commit() returns trigger language plpgsql as "
      "$$ begin perform pg_sleep(30); return null; end $$");
  conn().exec(
      "create constraint trigger counter_slow_commit after update on counter deferrable "
      "initially deferred for each row execute function counter_slow_commit()");
  const auto start = clock_type::now();
  try {
    conn().transaction(
        [&](pgorm::transaction& tx) { tx.exec("update counter set n = 4 where id = 1"); },
        {.timeout = 400ms});
    ADD_FAILURE() << "the COMMIT outlived the timeout";
  } catch (const pgorm::commit_outcome_unknown& e) {
    ADD_FAILURE() << "a cancelled COMMIT is a definite failure: " << e.what();
  } catch (const pgorm::query_canceled& e) {
    EXPECT_EQ(e.sqlstate(), "57014");
  }
  EXPECT_LT(clock_type::now() - start, 5s);
  EXPECT_EQ(conn().status(), pgorm::transaction_status::idle);
  conn().exec("drop trigger counter_slow_commit on counter");
  EXPECT_EQ(value(1), 0);
}

// ---- the prepared-statement cache -------------------------------------------------------------

TEST_F(transaction_test, statements_are_prepared_once_and_reused) {
  PGORM_SKIP_BEHIND_POOLER("named prepared statements");
  const std::size_t before = conn().prepared_statements();
  for (int i = 0; i < 5; ++i) conn().find<counter>(1);
  EXPECT_EQ(conn().prepared_statements(), before + 1);
  const auto names = conn().exec(
      "select count(*) from pg_prepared_statements where name like "
      "'pgorm_%'");
  EXPECT_EQ(names.value(0, 0), std::to_string(before + 1));
}

TEST_F(transaction_test, re_prepares_after_discard_all_and_deallocate) {
  EXPECT_EQ(conn().find<counter>(1)->n, 0);
  conn().exec("DISCARD ALL");  // through pgorm: the cache is told
  conn().exec("set search_path = " + schema());
  EXPECT_EQ(conn().find<counter>(1)->n, 0);
  // Behind pgorm's back (as a pooler would): the next execution hits 26000 and re-prepares.
  PQclear(PQexec(conn().native_handle(), "DEALLOCATE ALL"));
  EXPECT_EQ(conn().find<counter>(2)->n, 0);
}

TEST_F(transaction_test, re_prepares_when_the_result_type_changed) {
  conn().exec("create table widget (v int)");
  conn().exec("insert into widget values (7)");
  const auto read = [&] {
    return std::get<0>(conn().query<std::tuple<std::int64_t>>("select v from widget").one());
  };
  EXPECT_EQ(read(), 7);
  conn().exec("alter table widget alter column v type bigint");
  EXPECT_EQ(read(), 7);  // 0A000 "cached plan must not change result type", handled
}

TEST_F(transaction_test, prepare_false_uses_only_unnamed_statements) {
  pgorm::connection c{conninfo(), {.prepare = false}};
  EXPECT_EQ(c.find<counter>(1)->n, 0);
  EXPECT_EQ(c.prepared_statements(), 0U);
  EXPECT_EQ(c.exec("select count(*) from pg_prepared_statements").value(0, 0), "0");
}

TEST_F(transaction_test, a_small_cache_evicts_the_least_recently_used) {
  pgorm::connection c{conninfo(), {.statement_cache_size = 2}};
  c.query<std::tuple<int>>("select $1::int", 1).one();
  c.query<std::tuple<int>>("select $1::int + 1", 1).one();
  c.query<std::tuple<int>>("select $1::int + 2", 1).one();
  EXPECT_EQ(c.prepared_statements(), 2U);
  // The server's count says the evicted statement was deallocated there. Behind PgBouncer it is
  // some server session's count: PgBouncer >= 1.21 (max_prepared_statements) renames prepared
  // statements, so the evicted one's SQL DEALLOCATE names nothing the server knows.
  if (!pgorm::test::behind_pooler()) {
    EXPECT_EQ(c.exec("select count(*) from pg_prepared_statements").value(0, 0), "2");
  }
  EXPECT_EQ(std::get<0>(c.query<std::tuple<int>>("select $1::int", 5).one()), 5);
}

// ---- observer -----------------------------------------------------------------------------------

struct recording_observer : pgorm::observer {
  struct entry {
    std::string sql;
    std::string operation;
    std::string table;
    std::size_t params;
    std::int64_t rows;
    std::string sqlstate;
    std::size_t param_values;
    std::chrono::nanoseconds duration;
  };
  bool parameters = false;
  std::mutex m;
  std::vector<entry> ends;
  int starts = 0;
  [[nodiscard]] bool wants_parameters() const noexcept override { return parameters; }
  void on_query_start(const pgorm::query_event& /*q*/) override {
    std::lock_guard lock(m);
    ++starts;
  }
  void on_query_end(const pgorm::query_event& q, const pgorm::query_outcome& o) override {
    std::lock_guard lock(m);
    ends.push_back({std::string(q.sql), std::string(q.operation), std::string(q.table),
                    q.param_count, o.rows, std::string(o.sqlstate), q.params.size(), o.duration});
  }
};

TEST_F(transaction_test, observer_sees_queries_without_parameter_values) {
  auto obs = std::make_shared<recording_observer>();
  pgorm::connection c{conninfo(), {.events = obs}};
  c.select<counter>().where(col<&counter::n> == 0).all();
  EXPECT_THROW(c.exec("select 1/0"), pgorm::sql_error);
  ASSERT_EQ(obs->ends.size(), 2U);
  EXPECT_EQ(obs->starts, 2);
  EXPECT_EQ(obs->ends[0].operation, "SELECT");
  EXPECT_EQ(obs->ends[0].table, "counter");
  EXPECT_EQ(obs->ends[0].params, 1U);
  EXPECT_EQ(obs->ends[0].param_values, 0U);  // not asked for
  EXPECT_EQ(obs->ends[0].rows, 2);
  EXPECT_EQ(obs->ends[0].sql, "SELECT id, n FROM counter WHERE n = $1");
  EXPECT_EQ(obs->ends[1].sqlstate, "22012");
  obs->parameters = true;
  c.find<counter>(1);
  EXPECT_EQ(obs->ends.back().param_values, 1U);
}

TEST_F(transaction_test, stderr_logger_never_prints_passwords_or_values) {
  auto logger = std::make_shared<pgorm::stderr_logger>();
  pgorm::connection c{conninfo() + " password=hunter2", {.events = logger}};
  testing::internal::CaptureStderr();
  c.query<std::tuple<std::string>>("select $1::text", "secret-value-123").one();
  EXPECT_THROW(c.query<std::tuple<int>>("select $1::text::int", "not-a-number-456").one(),
               pgorm::sql_error);
  const std::string out = testing::internal::GetCapturedStderr();
  EXPECT_NE(out.find("SELECT"), std::string::npos) << out;
  EXPECT_NE(out.find("22P02"), std::string::npos) << out;
  EXPECT_EQ(out.find("hunter2"), std::string::npos) << out;
  EXPECT_EQ(out.find("secret-value-123"), std::string::npos) << out;
  EXPECT_EQ(out.find("not-a-number-456"), std::string::npos) << out;
}

}  // namespace

namespace {

TEST_F(transaction_test, with_timeout_gives_builders_a_client_deadline) {
  conn().exec("create table slow (id int)");
  conn().exec("insert into slow values (1)");
  auto quick = pgorm::with_timeout(conn(), 150ms);
  const auto start = std::chrono::steady_clock::now();
  EXPECT_THROW(pgorm::query<std::tuple<int>>("select id from slow, pg_sleep(3)").all(quick),
               pgorm::query_canceled);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2500ms);  // before pg_sleep(3) would end
  EXPECT_EQ(pgorm::select<counter>().exec(quick), 2);           // fast statements run normally
  conn().transaction([&](pgorm::transaction& tx) {
    auto in_tx = pgorm::with_timeout(tx, 5000ms);
    EXPECT_EQ(pgorm::find<counter>(in_tx, 1)->n, 0);
  });
}

}  // namespace

namespace {

TEST_F(transaction_test, large_inserts_use_copy_through_pools_and_transactions) {
  std::vector<counter> rows;
  for (std::int64_t i = 0; i < 30'000; ++i) rows.push_back({1000 + i, i});
  // 30,000 rows x 2 columns would exceed the 65,535-parameter limit of one INSERT: only COPY
  // can take them in one call.
  conn().transaction([&](pgorm::transaction& tx) {
    EXPECT_EQ(tx.insert(std::vector<counter>(rows.begin(), rows.begin() + 15'000)).exec(), 15'000);
  });
  pgorm::pool db{conninfo(), {.max_size = 2, .connection = pgorm::test::test_options()}};
  EXPECT_EQ(db.insert(std::vector<counter>(rows.begin() + 15'000, rows.end())).exec(), 15'000);
  EXPECT_EQ(std::get<0>(conn().select(pgorm::count()).from<counter>().one()), 30'002);
}

}  // namespace

namespace {

TEST_F(transaction_test, a_pipelined_statement_ends_when_its_own_result_arrives) {
  auto obs = std::make_shared<recording_observer>();
  pgorm::connection c{conninfo(), {.events = obs}};
  pgorm::pipeline p{c};
  auto fast = p.add(pgorm::query<std::tuple<int>>("select 1"));
  p.sync();  // the server sends a batch's results at its sync point
  auto slow = p.add(pgorm::query<std::tuple<int>>("select 2 from pg_sleep(1.5)"));
  auto after = p.add(pgorm::query<std::tuple<int>>("select 3"));
  const auto start = std::chrono::steady_clock::now();
  p.run();
  const auto whole = std::chrono::steady_clock::now() - start;
  ASSERT_GE(whole, 1500ms);
  EXPECT_EQ(std::get<0>(fast.one()), 1);
  EXPECT_EQ(std::get<0>(after.one()), 3);
  EXPECT_EQ(std::get<0>(slow.one()), 2);
  std::vector<recording_observer::entry> ends;
  for (const auto& e : obs->ends) {
    if (e.sql.find("pg_sleep") != std::string::npos || e.sql == "select 1" || e.sql == "select 3") {
      ends.push_back(e);
    }
  }
  ASSERT_EQ(ends.size(), 3U);
  // In pipeline order, each ending when its result came: the first batch before the sleep.
  EXPECT_EQ(ends[0].sql, "select 1");
  EXPECT_LT(ends[0].duration, 1000ms);  // well before the sleep ended, even on a busy machine
  EXPECT_GE(ends[1].duration, 1500ms);
  EXPECT_GE(ends[2].duration, 1500ms);  // it waited behind the sleep
  EXPECT_LE(ends[2].duration, whole);
}

TEST_F(transaction_test, observer_sees_pipelined_and_copy_statements) {
  auto obs = std::make_shared<recording_observer>();
  pgorm::connection c{conninfo(), {.events = obs}};
  pgorm::pipeline p{c};
  auto a = p.add(pgorm::select<counter>().where(col<&counter::id> == 1));
  auto b = p.add(pgorm::query<std::tuple<int>>("select 1/0"));
  p.run();
  EXPECT_EQ(a.all().size(), 1U);
  EXPECT_THROW(b.all(), pgorm::sql_error);
  std::vector<counter> rows{{10, 1}, {11, 2}};
  EXPECT_EQ(pgorm::copy_in(c, rows), 2);
  std::int64_t seen = 0;
  pgorm::copy_out<counter>(c, [&](const counter&) { ++seen; });
  EXPECT_EQ(seen, 4);
  std::vector<std::string> ops;
  for (const auto& e : obs->ends) ops.push_back(e.operation + ":" + e.sqlstate);
  // The pipeline's two statements, COPY FROM, and COPY TO (after the LIMIT 0 probe).
  EXPECT_NE(std::find(ops.begin(), ops.end(), "SELECT:"), ops.end());
  EXPECT_NE(std::find(ops.begin(), ops.end(), "SELECT:22012"), ops.end());
  EXPECT_GE(std::count_if(ops.begin(), ops.end(),
                          [](const std::string& o) { return o.starts_with("COPY:"); }),
            2);
}

}  // namespace
