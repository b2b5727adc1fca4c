// SPDX-License-Identifier: MIT
// Private to src/async: a statement that needs the async connection to itself, out of pipeline
// mode (libpq allows no COPY in a pipeline). The connection queues it like any statement; once
// every statement ahead of it has finished it leaves pipeline mode and steps the task, from the
// socket's readiness, until it is done; then it re-enters pipeline mode and sends the
// statements that were queued behind it (held back meanwhile). See src/async/copy.cpp.
#pragma once

#include <chrono>
#include <cstdint>
#include <exception>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <libpq-fe.h>

#include "../engine.hpp"
#include "observed.hpp"
#include "pgorm/async/connection.hpp"

namespace pgorm::async::detail {

/// What a task's step() left it waiting for.
enum class task_state : unsigned char {
  wait,    ///< for the socket (`wait`)
  paused,  ///< for work it posted, which calls exclusive_task::resume() when done
  done,    ///< finished: `final` is its result (owned by the connection from then on)
};

struct task_step {
  task_state state = task_state::done;
  pgorm::detail::io_wait wait = pgorm::detail::io_wait::none;
  PGresult* final = nullptr;
};

class exclusive_task {
 public:
  exclusive_task() = default;
  exclusive_task(const exclusive_task&) = delete;
  exclusive_task& operator=(const exclusive_task&) = delete;
  virtual ~exclusive_task() = default;

  /// One non-blocking step on `pq` (out of pipeline mode, non-blocking), under the connection's
  /// lock. `input_ready`: the socket was reported readable since the last step. `stop`: the
  /// operation was cancelled (deadline, cancellation slot) or its work threw: end the
  /// statement as soon as possible, handing nothing more to the caller.
  virtual task_step step(PGconn* pq, bool input_ready, bool stop) = 0;
  /// True when the task ends its statement on the server by itself once stopped (COPY FROM:
  /// CopyFail); else a cancel request is sent.
  [[nodiscard]] virtual bool stops_itself() const noexcept = 0;
  /// What the task itself failed with (a row that did not encode): the outcome, if any.
  [[nodiscard]] virtual std::exception_ptr error() const noexcept = 0;
  /// True when data was dropped after a stop (the caller did not receive all of it).
  [[nodiscard]] virtual bool dropped() const noexcept = 0;
  /// What it runs, for messages ("COPY", "an explicit pipeline").
  [[nodiscard]] virtual const char* what() const noexcept = 0;

  /// Called by the work a paused task posted, once it is done (with what it threw): the
  /// connection steps the task again (a throw stops it).
  void resume(std::exception_ptr error) const;

 protected:
  /// The observer's reports of the statements the task runs itself (an explicit pipeline's,
  /// one per statement; empty without an observer), and those settled (outcome known), which
  /// the connection reports once its lock is released. A task whose connection reports it as
  /// one statement (COPY) has none.
  std::vector<std::unique_ptr<observed_statement>> reports_;
  std::vector<std::unique_ptr<observed_statement>> settled_;
  /// Steps that ended part of its work on the server (an explicit pipeline's batches whose
  /// sync point arrived): once the task is stopped, what it sent before runs on, and each part
  /// still to end gets a cancel request and connect_options::cancel_grace of its own.
  std::size_t progress_ = 0;
  /// The connection the task runs on (set when it is queued; null once it is gone).
  [[nodiscard]] std::shared_ptr<core> owner() const noexcept { return owner_.lock(); }
  /// Settles the report of statement `i` (if any) with `error`, or success with `rows`.
  void settle_report(std::size_t i, std::exception_ptr error, std::int64_t rows) {
    if (i >= reports_.size() || !reports_[i]) return;
    reports_[i]->settle(std::move(error), rows);
    settled_.push_back(std::move(reports_[i]));
  }

 private:
  friend struct core;
  std::weak_ptr<core> owner_;
  std::uint64_t id_ = 0;
};

/// Queues `task` on `c` behind every statement already queued, and completes `op` with the
/// task's final result (or its error: the task's own, the server's, query_canceled,
/// connection_error). `sql`: the statement, for errors; `timeout` and `pin` as a request's.
/// `report`: the observer's report of the task as one statement (null: none, or the task
/// reports its statements itself).
void submit_task(const std::shared_ptr<core>& c, std::shared_ptr<exclusive_task> task,
                 std::string sql, std::chrono::milliseconds timeout, std::uint64_t pin,
                 std::unique_ptr<exec_op> op, std::unique_ptr<observed_statement> report);

/// How a task runs a statement from `c`'s prepared-statement cache (the synchronous
/// connection's policy): `name` empty: unnamed (connect_options::prepare off, a hash
/// collision, a text that drops prepared statements); `fresh`: new in the cache, to be
/// prepared (Parse) by the task before it runs. Called from a task's step() (under the
/// connection's lock, nothing else in flight); an evicted statement is deallocated after the
/// task.
struct cached_statement {
  std::string name;
  bool fresh = false;
};
cached_statement task_statement(core& c, std::string_view sql, const Oid* types, int n);
/// The statement the task prepared as `name` failed to prepare: dropped from the cache.
void task_statement_failed(core& c, std::string_view sql, const Oid* types, int n,
                           const std::string& name);
/// How many statements `c`'s cache keeps (0: none are prepared).
std::size_t task_statement_capacity(const core& c) noexcept;

/// A report of `sql` with `params` for `c`'s observer (on_query_start is called now); null when
/// `c` has none.
std::unique_ptr<observed_statement> observe(const std::shared_ptr<core>& c, std::string_view sql,
                                            std::span<const param> params);

/// The secrets of `c`'s connection string (password, ...), which errors are scrubbed of.
const std::vector<std::string>& secrets_of(const std::shared_ptr<core>& c) noexcept;

}  // namespace pgorm::async::detail
