// SPDX-License-Identifier: MIT
// Private to src/: a command in flight on a connection, driven by the engine (engine.hpp) within
// one deadline, and what the driver needs of pgorm::connection.
#pragma once

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <libpq-fe.h>

#include "engine.hpp"
#include "pgorm/connection.hpp"
#include "pgorm/detail/deadline.hpp"

namespace pgorm::detail {

/// A connection's cancel key and the cancel requests that other threads (connection::cancel())
/// have in flight. Shared (shared_ptr) so that cancel() on another thread and close() on the
/// connection's own never race on its lifetime.
struct cancel_state {
  std::mutex mu;
  std::condition_variable acknowledged;
  std::optional<cancel_key> key;  // guarded by mu; reset when the connection closes
  std::atomic<int> in_flight{0};  // cancel() calls between starting and acknowledgement
  // A cancel() whose request was not acknowledged: it may still arrive, so the connection must
  // not run another statement (before_send closes it).
  std::atomic<bool> uncertain{false};
};

/// What the engine's drivers (command, pipeline, COPY) need of a connection.
struct connection_access {
  static PGconn* handle(const connection& c) noexcept { return c.conn_; }
  static cancel_state* cancels(const connection& c) noexcept { return c.cancel_.get(); }
  static const connect_options& options(const connection& c) noexcept { return c.options_; }
  static const std::vector<std::string>& secrets(const connection& c) noexcept {
    return c.secrets_;
  }
  static void close(connection& c) noexcept { c.release(); }
  static bool& transaction_scoped(const connection& c) noexcept { return c.in_transaction_scope_; }
  static PGresult* run_simple(connection& c, std::string_view sql, const deadline& d) {
    return c.run_simple(sql, d);
  }
  /// Runs one of pgorm's own statements (a NUL-terminated constant such as "COMMIT"; see
  /// connection::exec_own()) within `timeout` (0: the connection's query_timeout).
  static result exec_own(connection& c, const char* sql, std::chrono::milliseconds timeout) {
    return c.exec_own(sql, timeout);
  }
  /// Records on the cache entry of `shape` with the types of `params`, if it still holds one,
  /// that its results have the columns `checked` (see result::checked_layout()).
  static void note_checked(connection& c, const statement_shape& shape,
                           std::span<const param> params, const checked_columns* checked) noexcept {
    c.note_checked(shape, params, checked);
  }
  static prepared_ref prepare_cached(connection& c, const statement_shape& shape,
                                     const param_pack& params, const deadline& d) {
    return c.prepare_cached_within(shape, params, d);
  }
  /// The deadline of a call with this timeout: its own when nonzero, else the connection's
  /// default (connect_options::query_timeout).
  static deadline call_deadline(const connection& c, std::chrono::milliseconds timeout) noexcept {
    return deadline::after(timeout.count() > 0 ? timeout : c.options_.query_timeout);
  }
  /// call_deadline() for a call that sends its statement next (deadline::starting_now()).
  static deadline starting_call(const connection& c, std::chrono::milliseconds timeout) noexcept {
    return deadline::starting_now(timeout.count() > 0 ? timeout : c.options_.query_timeout);
  }
  /// How long a cancelled statement may take to end (and its cancel request to be
  /// acknowledged): connect_options::cancel_grace from now, at least 1 ms, since a zero budget
  /// would be no deadline at all.
  static deadline cancel_grace(const connection& c) noexcept {
    const std::chrono::milliseconds g = c.options_.cancel_grace;
    return deadline::after(g.count() > 0 ? g : std::chrono::milliseconds(1));
  }
  /// The connection's cancel key, read under its cancel state's lock; none once it is closed.
  static std::optional<cancel_key> cancel_key_of(const connection& c) {
    cancel_state* cs = cancels(c);
    if (cs == nullptr) return std::nullopt;
    std::lock_guard lock(cs->mu);
    return cs->key;
  }
};

/// Waits (within `d`) until every cancel request other threads started on `conn` has been
/// acknowledged, so that none can reach the statement about to be sent. Closes the connection
/// and throws connection_error when `d` passes first. Call before sending each command.
void before_send_slow(connection& conn, const deadline& d);
inline void before_send(connection& conn, const deadline& d) {
  // One load when no other thread has a cancel request out (always, but for cancel() users).
  const cancel_state* cs = connection_access::cancels(conn);
  if (cs != nullptr && (cs->in_flight.load(std::memory_order_acquire) != 0 ||
                        cs->uncertain.load(std::memory_order_acquire))) [[unlikely]] {
    before_send_slow(conn, d);
  }
}

/// A COPY or pipeline passed its deadline `d`: the statement running on the server is cancelled
/// (within connect_options::cancel_grace), the connection closed (what is still on its way
/// could take any time), and connection_error thrown naming `what`.
[[noreturn]] void abandon_at_deadline(connection& conn, const deadline& d, std::string_view what);

/// The command in flight on a connection: sent by the caller, read here result by result up to
/// its end (ReadyForQuery), every wait bounded by the deadline. When the deadline passes, the
/// statement is cancelled on the server and the rest of the command drained within
/// connect_options::cancel_grace: then query_canceled is thrown where the cancelled statement's
/// error stands (results that arrived before it are still returned), and the connection stays
/// usable; otherwise the connection is closed and connection_error is thrown. A statement that
/// completed before the cancel took effect returns its result normally.
class command {
 public:
  /// `d` is referenced, not copied: the round trips of one call (prepare, execute, retry) share
  /// one deadline object, and it must outlive the command.
  command(connection& conn, const deadline& d, std::string_view sql) noexcept
      : conn_(&conn), pq_(connection_access::handle(conn)), deadline_(d), sql_(sql) {}
  command(connection& conn, const deadline&& d, std::string_view sql) = delete;
  /// A command that was sent this moment: its first wait skips looking for a result that
  /// cannot have arrived yet.
  struct just_sent_t {};
  static constexpr just_sent_t just_sent{};
  command(just_sent_t /*tag*/, connection& conn, const deadline& d, std::string_view sql) noexcept
      : conn_(&conn),
        pq_(connection_access::handle(conn)),
        deadline_(d),
        sql_(sql),
        just_sent_(true) {}
  command(just_sent_t, connection& conn, const deadline&& d, std::string_view sql) = delete;
  command(const command&) = delete;
  command& operator=(const command&) = delete;
  ~command() {
    if (!pending_.empty()) clear_pending();
  }

  /// The next result (owned by the caller), or nullptr at the end of the command. A COPY
  /// result (PGRES_COPY_IN/OUT) is returned like any other; the COPY is the caller's to run.
  PGresult* next();
  /// Waits until the connection has input or `d` passes (COPY OUT's data); false at the
  /// deadline, after the command was cancelled as next() does it (the next call to next()
  /// returns what the cancel left).
  bool await_input();
  /// The first error result of the command, else its last result, after reading it to its end
  /// (what PQexec() returns, within the deadline).
  PGresult* last();
  /// The result of a single statement (extended protocol), after reading the command to its end.
  PGresult* single();
  /// Reads the rest of the command and drops it.
  void drain();
  /// Gives the command up (the caller failed, e.g. a row callback threw): cancels it on the
  /// server and drains it within cancel_grace; closes the connection when that fails. Never
  /// throws.
  void abandon() noexcept;

  [[nodiscard]] const deadline& limit() const noexcept { return deadline_; }

 private:
  // Cancels the statement and collects the rest of the command into pending_ within the
  // grace period; returns false (connection closed) when that fails.
  bool cancel_and_collect() noexcept;
  PGresult* take_pending();
  void clear_pending() noexcept;
  [[noreturn]] void throw_dead(std::string_view why);

  connection* conn_;
  PGconn* pq_;
  const deadline& deadline_;
  std::string_view sql_;
  bool input_ready_ = false;
  bool output_pending_ = true;  // the command may still sit in libpq's output buffer
  bool just_sent_ = false;
  bool cancelled_ = false;  // the deadline passed: results come from pending_
  bool closed_ = false;     // ... and the connection was closed
  // Results collected after the deadline, handed out from pending_next_. A vector, not a deque:
  // an empty vector allocates nothing, and a command is made for every statement.
  std::vector<PGresult*> pending_;
  std::size_t pending_next_ = 0;
};

}  // namespace pgorm::detail
