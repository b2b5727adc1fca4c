// SPDX-License-Identifier: MIT
// The explicit async pipeline: its statements run as one exclusive task (src/async/exclusive.hpp)
// that re-enters libpq's pipeline mode, sends every statement with a sync point per batch, and
// reads the results into the statements' slots with the synchronous pipeline's reader, stepped
// from the socket's readiness.
#include "pgorm/async/pipeline.hpp"

#include <memory>
#include <optional>
#include <string>
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
      if (PQenterPipelineMode(pq) != 1 || !send_all(pq)) return {task_state::done, {}, nullptr};
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
  // The observer's report of statement `i` (settled by the reader; none: nothing settled).
  void report(std::size_t i) {
    if (i == pgorm::detail::pipeline_reader::none || reports_.empty()) return;
    const pgorm::detail::pipeline_slot& slot = *batch_.slots[i];
    settle_report(
        i, slot.error,
        slot.error ? 0 : (slot.res.rows() > 0 ? slot.res.rows() : slot.res.affected_rows()));
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
