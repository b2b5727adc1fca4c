// SPDX-License-Identifier: MIT
// Private to src/: the execution core. Every operation pgorm performs on a connection (connect,
// prepare, execute, streaming, pipelines, COPY, transaction control, health checks, resets,
// cancel requests) waits through the pieces below, and nowhere else:
//
// - deadline: one budget per call, fixed when the call starts and shared by every round trip
//   the call makes (prepare, execute, retry, drain).
// - pq_step(): one non-blocking step of libpq's state machine for a command in flight. It says
//   what the connection waits for (readable, writable) or that a result can be taken without
//   blocking. A driver waits for that and steps again: wait_io() here, or an event loop's
//   socket readiness (an Asio stream_descriptor) in the asynchronous API, with the same steps.
// - wait_io(): the one blocking wait, poll() with the deadline, and an interrupt descriptor so
//   that another thread can end a wait (a pool shutting down during a connection attempt).
// - cancel_request: a CancelRequest sent without blocking (connect, 16 bytes, wait until the
//   server closes), so a statement is cancelled within the caller's budget, on the caller's
//   thread, and the next statement is sent only after the server took the request in.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <span>

#include <libpq-fe.h>
#include <sys/socket.h>

#include "pgorm/detail/deadline.hpp"

namespace pgorm::detail {

/// What a step waits for before it can go on.
enum class io_wait : unsigned char { none = 0, read = 1, write = 2, read_write = 3 };

/// One descriptor to wait on; `ready` is set by wait_io().
struct io_watch {
  int fd = -1;
  io_wait what = io_wait::none;
  bool ready = false;
};

enum class wait_status { ready, expired, interrupted };

/// Waits until one of `watches` is ready for what it asks, `d` passes, or `interrupt_fd`
/// (when >= 0) becomes readable. Throws connection_error when poll() itself fails.
wait_status wait_io(std::span<io_watch> watches, const deadline& d, int interrupt_fd = -1);

/// wait_io() for one descriptor and no interrupt.
wait_status wait_one(io_watch& w, const deadline& d);

/// One non-blocking step for the command in flight on `conn` (in non-blocking mode): flushes
/// what libpq has queued and reads what has arrived. `input_ready`: the last wait reported the
/// socket ready (libpq is asked to read only then, sparing a system call per statement).
/// Returns io_wait::none when PQgetResult() will not block (a result, the end of the command,
/// or a failure it will report), else what to wait for on PQsocket(conn).
io_wait pq_step(PGconn* conn, bool input_ready) noexcept;

/// Where and with what key a cancel request for one backend goes (protocol: CancelRequest).
struct cancel_key {
  sockaddr_storage address{};
  socklen_t address_length = 0;
  std::uint32_t pid = 0;
  std::uint32_t secret = 0;
};

/// How long a cancelled statement may go on after its `n`-th (from 0) acknowledged cancel
/// request before another is sent: 10 ms, doubling, at most 1 s. The server can take a request
/// in and still drop it: PostgreSQL discards a pending cancel when it reads the next message of
/// an extended-protocol command, so a request that lands while the backend handles Parse or
/// Bind (planning; JIT compilation, tens of milliseconds the first time in a backend) is lost,
/// and the statement runs on. Asking again is safe while the caller still waits for the command
/// to end: a request the server took in while the backend was idle is ignored.
constexpr std::chrono::milliseconds cancel_resend_after(unsigned n) noexcept {
  return n >= 7 ? std::chrono::milliseconds(1000) : std::chrono::milliseconds(10 << n);
}

/// The cancel key of `conn`'s backend, read once after connecting; std::nullopt when this libpq
/// does not let pgorm read it (see docs/design.md, "Cancellation").
std::optional<cancel_key> read_cancel_key(PGconn* conn);

/// A CancelRequest in flight, as a state machine that never blocks: connect (non-blocking), send
/// the 16-byte request, then wait until the server closes the connection, which it does once
/// it has passed the request on to the backend. Only then may the next statement be sent on
/// the cancelled connection, or the request could interrupt that one instead.
class cancel_request {
 public:
  explicit cancel_request(const cancel_key& key) noexcept;
  cancel_request(const cancel_request&) = delete;
  cancel_request& operator=(const cancel_request&) = delete;
  ~cancel_request();

  /// What the request waits for (fd -1 once it is done).
  [[nodiscard]] io_watch watch() const noexcept;
  /// Advances after its descriptor was reported ready (or spuriously); never blocks.
  void step() noexcept;
  /// The server took the request in (closed the connection after reading it).
  [[nodiscard]] bool acknowledged() const noexcept { return state_ == state::acknowledged; }
  [[nodiscard]] bool failed() const noexcept { return state_ == state::failed; }
  [[nodiscard]] bool done() const noexcept { return acknowledged() || failed(); }

 private:
  enum class state { connecting, sending, awaiting_close, acknowledged, failed };
  void fail() noexcept;
  void send() noexcept;

  int fd_ = -1;
  state state_ = state::failed;
  unsigned char packet_[16]{};
  std::size_t sent_ = 0;
};

/// Sends a cancel request and waits for its acknowledgement until `d`; true when acknowledged.
bool send_cancel(const cancel_key& key, const deadline& d);

}  // namespace pgorm::detail
