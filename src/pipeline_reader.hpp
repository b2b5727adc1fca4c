// SPDX-License-Identifier: MIT
// Private to src/: reading a pipeline's results into its statements' slots, as they arrive
// (libpq 34.5.1.2), for the synchronous pgorm::pipeline and the asynchronous one alike.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include <libpq-fe.h>

#include "pgorm/pipeline.hpp"

namespace pgorm::detail {

/// Sends `slot`'s statement in pipeline mode: prepared when it names a cached statement, else
/// with its text; throws connection_error (scrubbed of `secrets`) when libpq refuses it.
void send_pipelined(PGconn* c, const pipeline_slot& slot, const std::vector<std::string>& secrets);

class pipeline_reader {
 public:
  /// take() returns this when the result settled no statement (the end of one, a sync point).
  static constexpr std::size_t none = static_cast<std::size_t>(-1);

  pipeline_reader(const std::vector<std::shared_ptr<pipeline_slot>>& slots, std::size_t batches,
                  PGconn* c, const std::vector<std::string>& secrets) noexcept
      : slots_(slots), batches_left_(batches), c_(c), secrets_(secrets) {}

  /// Files `r`, the next PQgetResult() (taken over; null: the end of a statement's results):
  /// the slot it settles (result or error, done set), else none. Throws connection_error when
  /// the connection broke (after settling the statement whose error says so).
  std::size_t take(PGresult* r);

  /// Sync points still to come: the pipeline is over at 0.
  [[nodiscard]] std::size_t batches_left() const noexcept { return batches_left_; }
  /// Null results in a row: libpq has nothing more until more input arrives at 2.
  [[nodiscard]] int nulls() const noexcept { return nulls_; }
  void reset_nulls() noexcept { nulls_ = 0; }

 private:
  const std::vector<std::shared_ptr<pipeline_slot>>& slots_;
  std::size_t batches_left_;
  PGconn* c_;
  const std::vector<std::string>& secrets_;
  std::size_t cur_ = 0;        // the statement whose result comes next
  bool cur_has_ = false;       // it already got its result (next one belongs to cur_ + 1)
  std::size_t failed_ = none;  // the failed statement of the current batch
  int nulls_ = 0;
};

}  // namespace pgorm::detail
