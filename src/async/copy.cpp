// SPDX-License-Identifier: MIT
// Binary COPY on the async connection: a COPY ... FROM STDIN and a COPY ... TO STDOUT as
// exclusive tasks (src/async/exclusive.hpp), stepped without blocking from the socket's
// readiness while the connection is out of pipeline mode. The rows are encoded and decoded by
// the helpers of pgorm/copy.hpp, as for the synchronous copy_in() and copy_out().
#include "pgorm/async/copy.hpp"

#include <string>
#include <utility>

#include <boost/asio/post.hpp>
#include <libpq-fe.h>

#include "exclusive.hpp"

namespace pgorm::async::detail {

namespace {

using pgorm::detail::io_wait;

// What a COPY task does after its statement's results arrive: the first one is the outcome,
// the others up to the end of the command are read and dropped.
class copy_task : public exclusive_task {
 public:
  explicit copy_task(std::string sql) : sql_(std::move(sql)) {}
  copy_task(const copy_task&) = delete;
  copy_task& operator=(const copy_task&) = delete;
  ~copy_task() override {
    if (final_ != nullptr) PQclear(final_);
  }
  [[nodiscard]] std::exception_ptr error() const noexcept override { return own_error_; }
  [[nodiscard]] bool dropped() const noexcept override { return dropped_; }
  [[nodiscard]] const char* what() const noexcept override { return "COPY"; }

 protected:
  enum class phase : unsigned char { start, sent, copying, ending, flushing, results };

  // Sends the statement, then waits for its first result: the COPY starting (`started`:
  // PGRES_COPY_IN or PGRES_COPY_OUT), or its failure (kept as the outcome). False while it
  // waits or once it failed (then `out` says what next).
  bool open(PGconn* pq, bool& input_ready, ExecStatusType started, task_step& out) {
    if (at_ == phase::start) {
      if (PQsendQueryParams(pq, sql_.c_str(), 0, nullptr, nullptr, nullptr, nullptr, 1) == 0) {
        out = {task_state::done, io_wait::none, nullptr};  // the connection reports why
        return false;
      }
      at_ = phase::sent;
    }
    const io_wait w = pgorm::detail::pq_step(pq, input_ready);
    input_ready = false;
    if (w != io_wait::none) {
      out = {task_state::wait, w, nullptr};
      return false;
    }
    PGresult* r = PQgetResult(pq);
    if (r != nullptr && PQresultStatus(r) == started) {
      PQclear(r);
      at_ = phase::copying;
      return true;
    }
    final_ = r;  // an error (or nothing: the connection failed)
    at_ = phase::results;
    out = results(pq, input_ready);
    return false;
  }

  // Reads the results through the end of the command.
  task_step results(PGconn* pq, bool& input_ready) {
    at_ = phase::results;
    for (;;) {
      const io_wait w = pgorm::detail::pq_step(pq, input_ready);
      input_ready = false;
      if (w != io_wait::none) return {task_state::wait, w, nullptr};
      PGresult* r = PQgetResult(pq);
      if (r == nullptr) {
        PGresult* f = final_;
        final_ = nullptr;
        return {task_state::done, io_wait::none, f};
      }
      if (final_ == nullptr) {
        final_ = r;
      } else {
        PQclear(r);
      }
    }
  }

  std::string sql_;
  phase at_ = phase::start;
  PGresult* final_ = nullptr;
  std::exception_ptr own_error_;
  bool dropped_ = false;
};

// COPY ... FROM STDIN: the source's chunks go out as the socket takes them; stopped (or the
// source threw), the COPY is ended with CopyFail, which the server answers with an error and
// no row written.
class copy_in_task final : public copy_task {
 public:
  copy_in_task(std::string sql, copy_source source)
      : copy_task(std::move(sql)), source_(std::move(source)) {}

  [[nodiscard]] bool stops_itself() const noexcept override { return true; }

  task_step step(PGconn* pq, bool input_ready, bool stop) override {
    task_step out;
    if (at_ == phase::start || at_ == phase::sent) {
      if (!open(pq, input_ready, PGRES_COPY_IN, out)) return out;
    }
    for (;;) {
      switch (at_) {
        case phase::copying: {
          if (flush_pending_) {
            if (input_ready) {
              input_ready = false;
              if (PQconsumeInput(pq) == 0) return results(pq, input_ready);
            }
            const int f = PQflush(pq);
            if (f > 0) return {task_state::wait, io_wait::read_write, nullptr};
            if (f < 0) return results(pq, input_ready);
            flush_pending_ = false;
          }
          if (stop || own_error_) {
            at_ = phase::ending;
            failing_ = true;
            break;
          }
          if (!have_chunk_) {
            if (exhausted_) {
              at_ = phase::ending;
              break;
            }
            chunk_.clear();
            try {
              exhausted_ = !source_(chunk_);
            } catch (...) {
              own_error_ = std::current_exception();
              continue;
            }
            have_chunk_ = true;
          }
          const std::string_view data = chunk_.view();
          const int put = PQputCopyData(pq, data.data(), static_cast<int>(data.size()));
          if (put < 0) return results(pq, input_ready);  // the connection says why
          if (put == 0) {  // libpq's buffer is full: wait until the socket takes more
            flush_pending_ = true;
            return {task_state::wait, io_wait::read_write, nullptr};
          }
          have_chunk_ = false;
          // Back to the event loop between chunks (timers, cancellation, other connections),
          // then on once the socket takes more.
          flush_pending_ = true;
          return {task_state::wait, io_wait::write, nullptr};
        }
        case phase::ending: {
          const int end =
              PQputCopyEnd(pq, failing_ ? "pgorm: the COPY was stopped by its caller" : nullptr);
          if (end < 0) return results(pq, input_ready);
          if (end == 0) return {task_state::wait, io_wait::write, nullptr};
          at_ = phase::flushing;
          break;
        }
        case phase::flushing: {
          const int f = PQflush(pq);
          if (f > 0) return {task_state::wait, io_wait::read_write, nullptr};
          return results(pq, input_ready);
        }
        default:
          return results(pq, input_ready);
      }
    }
  }

 private:
  copy_source source_;
  byte_buffer chunk_;
  bool have_chunk_ = false;
  bool exhausted_ = false;
  bool flush_pending_ = false;
  bool failing_ = false;
};

// COPY ... TO STDOUT: the data is gathered into chunks that are handed to the sink on its
// executor, one at a time; nothing more is read until the sink has returned. Stopped, the
// data still coming is dropped (the connection sends a cancel request).
class copy_out_task final : public copy_task, public std::enable_shared_from_this<copy_out_task> {
 public:
  copy_out_task(std::string sql, copy_sink sink, boost::asio::any_io_executor ex)
      : copy_task(std::move(sql)), sink_(std::move(sink)), ex_(std::move(ex)) {}

  [[nodiscard]] bool stops_itself() const noexcept override { return false; }

  task_step step(PGconn* pq, bool input_ready, bool stop) override {
    task_step out;
    if (at_ == phase::start || at_ == phase::sent) {
      if (!open(pq, input_ready, PGRES_COPY_OUT, out)) return out;
    }
    if (at_ != phase::copying) return results(pq, input_ready);
    for (;;) {
      char* data = nullptr;
      const int n = PQgetCopyData(pq, &data, 1);
      if (n > 0) {
        if (stop) {
          dropped_ = true;
        } else {
          chunk_.append(data, static_cast<std::size_t>(n));
        }
        PQfreemem(data);
        if (chunk_.size() >= pgorm::detail::copy_chunk_bytes) return deliver();
        continue;
      }
      if (n == 0) {
        if (!chunk_.empty()) return deliver();
        if (!input_ready) return {task_state::wait, io_wait::read, nullptr};
        input_ready = false;
        if (PQconsumeInput(pq) == 0) return results(pq, input_ready);
        continue;
      }
      // -1: the data ended; -2: it failed. The results say how.
      at_ = phase::results;
      if (!chunk_.empty() && !stop) return deliver();
      return results(pq, input_ready);
    }
  }

 private:
  task_step deliver() {
    boost::asio::post(ex_, [self = shared_from_this(), data = std::move(chunk_)]() mutable {
      std::exception_ptr error;
      try {
        self->sink_(data);
      } catch (...) {
        error = std::current_exception();
      }
      data = std::string{};
      self->resume(std::move(error));
    });
    chunk_ = std::string{};
    return {task_state::paused, io_wait::none, nullptr};
  }

  copy_sink sink_;
  boost::asio::any_io_executor ex_;
  std::string chunk_;
};

}  // namespace

void submit_copy_in(const std::shared_ptr<core>& c, std::string sql, copy_source source,
                    std::chrono::milliseconds timeout, std::uint64_t pin,
                    std::unique_ptr<exec_op> op) {
  auto task = std::make_shared<copy_in_task>(sql, std::move(source));
  auto report = observe(c, sql, {});  // the COPY, as the synchronous one reports it
  submit_task(c, std::move(task), std::move(sql), timeout, pin, std::move(op), std::move(report));
}

void submit_copy_out(const std::shared_ptr<core>& c, std::string sql, copy_sink sink,
                     boost::asio::any_io_executor sink_executor, std::chrono::milliseconds timeout,
                     std::uint64_t pin, std::unique_ptr<exec_op> op) {
  auto task = std::make_shared<copy_out_task>(sql, std::move(sink), std::move(sink_executor));
  auto report = observe(c, sql, {});  // the COPY, as the synchronous one reports it
  submit_task(c, std::move(task), std::move(sql), timeout, pin, std::move(op), std::move(report));
}

}  // namespace pgorm::async::detail
