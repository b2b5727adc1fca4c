// SPDX-License-Identifier: MIT
// The explicit async pipeline: its statements run as one exclusive task (src/async/exclusive.hpp)
// that re-enters libpq's pipeline mode, sends every statement with a sync point per batch, and
// reads the results into the statements' slots with the synchronous pipeline's reader, stepped
// from the socket's readiness.
#include "pgorm/async/pipeline.hpp"

#include <algorithm>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>
#include <utility>
#include <vector>

#include <libpq-fe.h>

#include "../libpq_util.hpp"
#include "../pipeline_reader.hpp"
#include "exclusive.hpp"

namespace pgorm::async::detail {

namespace {

using pgorm::detail::io_wait;

class pipeline_task final : public exclusive_task {
 public:
  pipeline_task(pgorm::detail::pipeline_batch batch, std::vector<std::string> secrets,
                std::vector<std::unique_ptr<observed_statement>> reports)
      : batch_(std::move(batch)), secrets_(std::move(secrets)) {
    reports_ = std::move(reports);
  }

  [[nodiscard]] bool stops_itself() const noexcept override { return false; }
  [[nodiscard]] std::exception_ptr error() const noexcept override { return error_; }
  // Stopped (deadline, cancellation slot) while it ran: the server was sent a cancel request,
  // so some statements may have failed for it; the operation reports query_canceled.
  [[nodiscard]] bool dropped() const noexcept override { return stopped_; }
  [[nodiscard]] const char* what() const noexcept override { return "an explicit pipeline"; }

  task_step step(PGconn* pq, bool input_ready, bool stop) override {
    if (stop) stopped_ = true;
    if (!reader_) {
      if (PQenterPipelineMode(pq) != 1) return {task_state::done, {}, nullptr};
      if (at_ == phase::start && !prepare(pq)) return {task_state::done, {}, nullptr};
      if (at_ == phase::preparing) {
        const task_step s = read_parses(pq, input_ready);
        if (at_ == phase::preparing) return s;
        input_ready = false;
      }
      if (stopped_) {  // stopped while preparing: nothing of the run is sent
        if (PQexitPipelineMode(pq) != 1) return {task_state::done, {}, nullptr};
        return {task_state::done, {}, PQmakeEmptyPGresult(pq, PGRES_COMMAND_OK)};
      }
      if (!send_all(pq)) return {task_state::done, {}, nullptr};
      // Errors are scrubbed of the connection's secrets, as the synchronous pipeline's.
      reader_.emplace(batch_.slots, batch_.syncs.size(), pq, secrets_);
    }
    for (;;) {
      const io_wait w = pgorm::detail::pq_step(pq, input_ready);
      input_ready = false;
      if (w != io_wait::none) return {task_state::wait, w, nullptr};
      reader_->reset_nulls();
      try {
        while (reader_->batches_left() > 0 && PQisBusy(pq) == 0 && reader_->nulls() < 2) {
          report(reader_->take(PQgetResult(pq)));
        }
      } catch (...) {
        error_ = std::current_exception();  // the connection broke
        // (The statement whose error said so was settled: its report goes with it.)
        for (std::size_t i = 0; i != batch_.slots.size(); ++i) {
          if (batch_.slots[i]->done) report(i);
        }
        return {task_state::done, {}, nullptr};
      }
      progress_ = batch_.syncs.size() - reader_->batches_left();
      if (reader_->batches_left() == 0) {
        if (PQexitPipelineMode(pq) != 1) return {task_state::done, {}, nullptr};
        return {task_state::done, {}, PQmakeEmptyPGresult(pq, PGRES_COMMAND_OK)};
      }
      if (reader_->nulls() >= 2) return {task_state::wait, io_wait::read, nullptr};
    }
  }

 private:
  enum class phase : unsigned char { start, preparing, sending };

  // The statements' names in the connection's prepared-statement cache, as the synchronous
  // pipeline finds them (src/pipeline.cpp): when the run has no more distinct statements than
  // the cache holds (else a later one could evict an earlier one's name), each runs by name;
  // those new to the cache are prepared first, in a batch of their own whose results are
  // awaited before the statements go out (a Parse the server rejects leaves its statements
  // unnamed, so that their error comes at their place). False when sending failed.
  bool prepare(PGconn* pq) {
    at_ = phase::sending;
    const std::shared_ptr<core> c = owner();
    if (!c) return true;
    const std::size_t capacity = task_statement_capacity(*c);
    if (capacity == 0) return true;
    std::unordered_set<std::string_view> distinct;
    for (const auto& slot : batch_.slots) distinct.insert(slot->sql);
    if (distinct.size() > capacity) return true;
    for (std::size_t i = 0; i != batch_.slots.size(); ++i) {
      pgorm::detail::pipeline_slot& slot = *batch_.slots[i];
      const pgorm::detail::bind_arrays& a = slot.params.arrays();
      if (i > 0 && same_statement(slot, *batch_.slots[i - 1])) {
        slot.prepared = batch_.slots[i - 1]->prepared;
        continue;
      }
      cached_statement s = task_statement(*c, slot.sql, a.types, a.count);
      slot.prepared = s.name;
      if (!s.fresh) continue;
      const std::string text(slot.sql);  // NUL-terminated for libpq
      if (PQsendPrepare(pq, s.name.c_str(), text.c_str(), a.count, a.types) != 1) return false;
      parses_.push_back(i);
    }
    if (parses_.empty()) return true;
    if (PQpipelineSync(pq) != 1) return false;
    at_ = phase::preparing;
    return true;
  }

  // The same statement as the one before it (add_each()): same text and parameter types.
  static bool same_statement(const pgorm::detail::pipeline_slot& a,
                             const pgorm::detail::pipeline_slot& b) {
    if (a.sql.size() != b.sql.size()) return false;
    if (a.sql.data() != b.sql.data() && a.sql != b.sql) return false;
    const pgorm::detail::bind_arrays& pa = a.params.arrays();
    const pgorm::detail::bind_arrays& pb = b.params.arrays();
    return pa.count == pb.count && std::equal(pa.types, pa.types + pa.count, pb.types);
  }

  // Reads the results of the Parses prepare() sent, up to their sync point; then the phase
  // is sending. A failed Parse (or one skipped after it) is dropped from the cache, and the
  // statements that were to run it run unnamed.
  task_step read_parses(PGconn* pq, bool input_ready) {
    for (;;) {
      const io_wait w = pgorm::detail::pq_step(pq, input_ready);
      input_ready = false;
      if (w != io_wait::none) return {task_state::wait, w, nullptr};
      int nulls = 0;
      while (PQisBusy(pq) == 0 && nulls < 2) {
        PGresult* r = PQgetResult(pq);
        if (r == nullptr) {
          ++nulls;
          continue;
        }
        nulls = 0;
        const ExecStatusType status = PQresultStatus(r);
        PQclear(r);
        if (status == PGRES_PIPELINE_SYNC) {
          at_ = phase::sending;
          return {};
        }
        if (PQstatus(pq) == CONNECTION_BAD) return {task_state::done, {}, nullptr};
        if (next_parse_ < parses_.size()) {
          if (status != PGRES_COMMAND_OK) unprepare(batch_.slots[parses_[next_parse_]]->prepared);
          ++next_parse_;
        }
      }
      if (nulls >= 2) return {task_state::wait, io_wait::read, nullptr};
    }
  }

  // The statement prepared as `name` is not on the server: its statements run unnamed.
  void unprepare(std::string name) {
    const std::shared_ptr<core> c = owner();
    for (const auto& slot : batch_.slots) {
      if (slot->prepared != name) continue;
      if (c) {
        const pgorm::detail::bind_arrays& a = slot->params.arrays();
        task_statement_failed(*c, slot->sql, a.types, a.count, name);
      }
      slot->prepared.clear();
    }
  }

  // Statement `i` was settled by the reader (none: nothing settled): its rows are read into its
  // handle's slot, its result freed, and the observer told.
  void report(std::size_t i) {
    if (i == pgorm::detail::pipeline_reader::none) return;
    pgorm::detail::pipeline_slot& slot = *batch_.slots[i];
    pgorm::detail::pipeline_settle(slot, rows_arena_);
    if (reports_.empty()) return;
    settle_report(i, slot.error, slot.error ? 0 : (slot.rows > 0 ? slot.rows : slot.affected));
  }

  bool send_all(PGconn* pq) {
    std::size_t next_sync = 0;
    for (std::size_t i = 0; i != batch_.slots.size(); ++i) {
      try {
        pgorm::detail::send_pipelined(pq, *batch_.slots[i], secrets_);
      } catch (const connection_error&) {
        return false;  // the task ends without a result: the connection is reported lost
      }
      if (batch_.syncs[next_sync] == i + 1) {
        if (PQpipelineSync(pq) != 1) return false;
        ++next_sync;
      }
    }
    return true;
  }

  pgorm::detail::pipeline_batch batch_;
  std::optional<pgorm::detail::pipeline_reader> reader_;
  pgorm::detail::pipeline_arena rows_arena_;  // the rows copied out of the results
  phase at_ = phase::start;
  std::vector<std::size_t> parses_;   // the statements prepare() sent a Parse for, in order
  std::size_t next_parse_ = 0;        // the one whose Parse result comes next
  std::vector<std::string> secrets_;  // the connection's
  std::exception_ptr error_;
  bool stopped_ = false;
};

}  // namespace

void submit_pipeline(const std::shared_ptr<core>& c, pgorm::detail::pipeline_batch batch,
                     std::chrono::milliseconds timeout, std::uint64_t pin,
                     std::unique_ptr<exec_op> op) {
  std::string what = "pipeline (" + std::to_string(batch.slots.size()) + " statements)";
  // Each statement is reported to the observer as the synchronous pipeline reports it: from
  // when the run is issued to when its own result arrives.
  std::vector<std::unique_ptr<observed_statement>> reports;
  for (const auto& slot : batch.slots) {
    auto r = observe(c, slot->sql, slot->params.params());
    if (!r) break;  // no observer
    reports.push_back(std::move(r));
  }
  auto task = std::make_shared<pipeline_task>(std::move(batch), secrets_of(c), std::move(reports));
  submit_task(c, std::move(task), std::move(what), timeout, pin, std::move(op), nullptr);
}

}  // namespace pgorm::async::detail
