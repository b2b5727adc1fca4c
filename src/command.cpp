// SPDX-License-Identifier: MIT
#include "command.hpp"

#include <memory>

#include <fmt/format.h>

#include "canceled_error.hpp"
#include "libpq_util.hpp"

namespace pgorm::detail {

namespace {

bool is_cancelled(const PGresult* r) noexcept {
  if (PQresultStatus(r) != PGRES_FATAL_ERROR) return false;
  const char* state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
  return state != nullptr && std::string_view(state) == "57014";
}

[[noreturn]] void throw_deadline_canceled(std::chrono::milliseconds budget, std::string_view sql,
                                          bool closed) {
  throw canceled_error(
      fmt::format("the statement did not finish within its {} ms deadline and was cancelled on "
                  "the server",
                  budget.count()),
      sql, closed);
}

}  // namespace

void before_send_slow(connection& conn, const deadline& d) {
  cancel_state* cs = connection_access::cancels(conn);
  if (cs == nullptr) return;
  if (cs->uncertain.load(std::memory_order_acquire)) [[unlikely]] {
    const std::string where = conn.description();
    connection_access::close(conn);
    throw connection_error(fmt::format(
        "pgorm: a cancel request sent by another thread was not acknowledged by the server, so "
        "it could still cancel the next statement; the connection ({}) was closed",
        where));
  }
  if (cs->in_flight.load(std::memory_order_acquire) == 0) return;
  std::unique_lock lock(cs->mu);
  const auto none_left = [cs] { return cs->in_flight.load(std::memory_order_acquire) == 0; };
  if (d.bounded()) {
    if (cs->acknowledged.wait_until(lock, d.at(), none_left)) return;
  } else {
    cs->acknowledged.wait(lock, none_left);
    return;
  }
  lock.unlock();
  const std::string where = conn.description();
  connection_access::close(conn);
  throw connection_error(fmt::format(
      "pgorm: a cancel request sent by another thread was not acknowledged by the server within "
      "the call's {} ms deadline; the connection ({}) was closed so that the request cannot "
      "cancel a later statement",
      d.budget().count(), where));
}

void abandon_at_deadline(connection& conn, const deadline& d, std::string_view what) {
  if (const std::optional<cancel_key> key = connection_access::cancel_key_of(conn)) {
    try {
      (void)send_cancel(*key, connection_access::cancel_grace(conn));
    } catch (...) {  // NOLINT(bugprone-empty-catch): the connection is closed either way
    }
  }
  const std::string where = conn.description();
  connection_access::close(conn);
  throw connection_error(
      fmt::format("pgorm: the {} did not finish within its {} ms deadline; the running statement "
                  "was cancelled and the connection ({}) closed",
                  what, d.budget().count(), where));
}

void command::clear_pending() noexcept {
  for (std::size_t i = pending_next_; i < pending_.size(); ++i) PQclear(pending_[i]);
  pending_.clear();
  pending_next_ = 0;
}

PGresult* command::next() {
  if (cancelled_) return take_pending();
  for (;;) {
    // pq_step() without the flush once the command has left libpq's buffer: nothing else is
    // sent during a command, so one flush that succeeded is the last.
    io_wait w = io_wait::none;
    if (just_sent_) {
      // Nothing of this command's answer can be in libpq's buffer yet: only flush, then wait
      // (sparing a parse of an empty buffer per statement).
      just_sent_ = false;
      const int flushed = PQflush(pq_);
      output_pending_ = flushed == 1;
      w = flushed < 0 ? io_wait::none : flushed == 1 ? io_wait::read_write : io_wait::read;
    } else if (output_pending_) {
      w = pq_step(pq_, input_ready_);
      if (w != io_wait::read_write) output_pending_ = false;
    } else if (input_ready_ && PQconsumeInput(pq_) == 0) {
      w = io_wait::none;  // PQgetResult() reports the failure
    } else {
      w = PQisBusy(pq_) == 1 ? io_wait::read : io_wait::none;
    }
    if (w == io_wait::none) {
      input_ready_ = false;
      return PQgetResult(pq_);
    }
    io_watch watch{PQsocket(pq_), w};
    if (wait_one(watch, deadline_) == wait_status::ready) {
      input_ready_ = true;
      continue;
    }
    if (!cancel_and_collect()) {
      throw_dead("the server did not end it within the cancel grace period");
    }
    return take_pending();
  }
}

bool command::await_input() {
  if (cancelled_) return false;
  io_watch watch{PQsocket(pq_), io_wait::read};
  if (wait_io(std::span<io_watch>(&watch, 1), deadline_) == wait_status::ready) return true;
  if (!cancel_and_collect()) throw_dead("the server did not end it within the cancel grace period");
  return false;
}

namespace {
/// Whether `r` reports an error (the first error of a command is its outcome).
bool failed(const PGresult* r) noexcept {
  const ExecStatusType status = PQresultStatus(r);
  return status == PGRES_FATAL_ERROR || status == PGRES_BAD_RESPONSE;
}
}  // namespace

PGresult* command::single() {
  PGresult* first = next();
  if (first == nullptr) return nullptr;
  const ExecStatusType status = PQresultStatus(first);
  if (status == PGRES_COPY_IN || status == PGRES_COPY_OUT || status == PGRES_COPY_BOTH) {
    return first;
  }
  std::unique_ptr<PGresult, decltype(&PQclear)> kept(first, &PQclear);
  // One statement: its result, then the end of the command (normally in the same packet). An
  // error after a success is the outcome: with parameters (the extended protocol) the server
  // confirms the statement before the implicit COMMIT at Sync, so a deferred constraint that
  // fails there, or a connection lost before the commit is confirmed, arrives second. Dropping
  // it would report a write that was rolled back as done.
  while (PGresult* extra = next()) {
    if (!failed(kept.get()) && failed(extra)) {
      kept.reset(extra);
    } else {
      PQclear(extra);
    }
  }
  return kept.release();
}

PGresult* command::last() {
  std::unique_ptr<PGresult, decltype(&PQclear)> kept(nullptr, &PQclear);
  while (PGresult* r = next()) {
    const ExecStatusType status = PQresultStatus(r);
    if (status == PGRES_COPY_IN || status == PGRES_COPY_OUT || status == PGRES_COPY_BOTH) {
      // The COPY is the caller's to run; nothing follows it until then.
      return r;
    }
    if (kept && failed(kept.get())) {
      PQclear(r);  // the first error stands
    } else {
      kept.reset(r);
    }
  }
  return kept.release();
}

void command::drain() {
  while (PGresult* r = next()) PQclear(r);
}

void command::abandon() noexcept {
  if (cancelled_ || connection_access::handle(*conn_) == nullptr) return;
  if (PQstatus(pq_) != CONNECTION_OK) return;
  if (cancel_and_collect()) clear_pending();
}

bool command::cancel_and_collect() noexcept {
  cancelled_ = true;
  const deadline grace = connection_access::cancel_grace(*conn_);
  const std::optional<cancel_key> key = connection_access::cancel_key_of(*conn_);
  std::optional<cancel_request> request;
  if (key) request.emplace(*key);
  // Set once the request in flight was acknowledged: when the command has not ended by then,
  // the server may have dropped the request (cancel_resend_after()), so another goes out.
  // Data arriving restarts the wait: a backend that sends is executing, where a cancel is not
  // dropped, and reading its backlog is what takes the time (a resend would only risk an
  // acknowledgement that comes after cancel_grace, which closes the connection).
  std::optional<deadline> resend;
  unsigned resends = 0;
  bool ended = PQstatus(pq_) != CONNECTION_OK;
  try {
    while (request && !request->failed() && !(ended && request->done())) {
      if (!ended && request->done()) {
        if (!resend) {
          resend = deadline::after(cancel_resend_after(resends));
        } else if (resend->passed()) {
          resend.reset();
          request.emplace(*key);
          ++resends;
        }
      }
      const deadline until = resend ? grace.sooner(*resend) : grace;
      if (!ended) {
        const io_wait w = pq_step(pq_, input_ready_);
        if (w == io_wait::none) {
          input_ready_ = false;
          PGresult* r = PQgetResult(pq_);
          if (r == nullptr) {
            ended = true;
            continue;
          }
          const ExecStatusType status = PQresultStatus(r);
          if (status == PGRES_COPY_OUT) {
            // The cancel ends the COPY with an error; drop the data that comes before it.
            PQclear(r);
            char* buffer = nullptr;
            int n = 0;
            while ((n = PQgetCopyData(pq_, &buffer, 1)) > 0) PQfreemem(buffer);
            if (n == 0) {
              input_ready_ = false;
              io_watch watches[2] = {{PQsocket(pq_), io_wait::read}, request->watch()};
              const std::size_t count = request->done() ? 1 : 2;
              if (wait_io(std::span<io_watch>(watches, count), until) != wait_status::ready) {
                if (grace.passed()) break;
                continue;
              }
              if (watches[0].ready) {
                PQconsumeInput(pq_);
                resend.reset();  // the backend is sending: it took the request, or will
              }
              if (count == 2 && watches[1].ready) request->step();
            }
            continue;
          }
          if (status == PGRES_COPY_IN || status == PGRES_COPY_BOTH) {
            PQclear(r);
            PQputCopyEnd(pq_, "pgorm: the call's deadline passed");
            continue;
          }
          pending_.push_back(r);
          continue;
        }
        io_watch watches[2] = {{PQsocket(pq_), w}, request->watch()};
        const std::size_t count = request->done() ? 1 : 2;
        if (wait_io(std::span<io_watch>(watches, count), until) != wait_status::ready) {
          if (grace.passed()) break;
          continue;
        }
        if (watches[0].ready) {
          input_ready_ = true;
          resend.reset();  // the backend is sending: it is past Bind, where none is dropped
        }
        if (count == 2 && watches[1].ready) request->step();
      } else {
        io_watch watch = request->watch();
        if (wait_io(std::span<io_watch>(&watch, 1), grace) != wait_status::ready) break;
        request->step();
      }
    }
  } catch (...) {  // poll() failed: treated as a dead link below
    ended = false;
  }
  if (ended && request && request->acknowledged()) return true;
  // No cancel key, the request failed, or the server did not answer in time: the link may be
  // dead, and an unacknowledged request could still cancel a later statement. Close.
  closed_ = true;
  connection_access::close(*conn_);
  if (!ended) {
    clear_pending();
    return false;
  }
  return true;
}

PGresult* command::take_pending() {
  if (pending_next_ == pending_.size()) return nullptr;
  PGresult* r = pending_[pending_next_++];
  if (is_cancelled(r)) {
    PQclear(r);
    clear_pending();
    throw_deadline_canceled(deadline_.budget(), sql_, closed_);
  }
  return r;
}

void command::throw_dead(std::string_view why) {
  throw connection_error(fmt::format(
      "pgorm: the statement did not finish within its {} ms deadline and {}; the connection ({}) "
      "was closed",
      deadline_.budget().count(), why, conn_->description()));
}

}  // namespace pgorm::detail
