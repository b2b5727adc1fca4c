// SPDX-License-Identifier: MIT
// The asynchronous connection: libpq's state machines (PQconnectPoll, the engine's pq_step, the
// engine's cancel_request) driven by socket readiness on an Asio executor.
//
// Every statement is sent at once in pipeline mode, each followed by its own sync point, so
// that an error aborts only that statement's implicit transaction; results come back in the
// order the statements were sent and are matched to the queue's front. (One statement at a
// time, issued from a lone result's handler, goes alone outside pipeline mode: on_ready(),
// release_held().) One mutex guards the
// connection's state: calls may come from any thread of a multi-threaded io_context. Handlers
// are never called with the mutex held.
#include "pgorm/async/connection.hpp"

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cstring>
#include <deque>
#include <iterator>
#include <list>
#include <mutex>
#include <optional>
#include <unordered_map>
#include <utility>

#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/execution/outstanding_work.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/prefer.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/system_executor.hpp>
#include <boost/container/small_vector.hpp>
#include <fcntl.h>
#include <fmt/format.h>
#include <libpq-fe.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../canceled_error.hpp"
#include "../connect_start.hpp"
#include "../engine.hpp"
#include "../libpq_util.hpp"
#include "../notice_sink.hpp"
#include "../param_arrays.hpp"
#include "../statement_cache.hpp"
#include "exclusive.hpp"
#include "observed.hpp"
#include "watched_socket.hpp"

namespace pgorm::async {

namespace asio = boost::asio;
using clock = std::chrono::steady_clock;

// ---- request ------------------------------------------------------------------------------------

detail::request::request(std::string_view sql, std::span<const param> params, data_format format,
                         std::chrono::milliseconds timeout, std::uint64_t pin)
    : sql_(sql), format_(format), timeout_(timeout), pin_(pin) {
  copy_views(params);
}

detail::request::request(const statement_shape& shape, const param_pack& params, data_format format,
                         std::chrono::milliseconds timeout)
    : key_(shape.key),
      layout_(shape.layout),
      effect_(shape.origin == sql_origin::builder ? shape.effect : sql_effect::unknown),
      cached_(true),
      format_(format),
      timeout_(timeout) {
  if (shape.key != 0) {  // a static shape: its text is static storage
    static_sql_ = shape.sql.data();
    static_size_ = shape.sql.size();
  } else {
    sql_ = std::string(shape.sql);
  }
  if (const pgorm::detail::param_list* list = params.list()) {
    list_.emplace(*list);  // as the builder bound them: sent as they are
  } else {
    copy_views(params.views());
  }
}

void detail::request::copy_views(std::span<const param> params) {
  std::size_t total = 0;
  for (const param& p : params) total += p.bytes().size();
  bytes_.reserve(total);
  params_.reserve(params.size());
  for (const param& p : params) {
    const std::string_view b = p.bytes();
    bytes_.insert(bytes_.end(), b.begin(), b.end());
  }
  // Views only once the buffer no longer moves.
  std::size_t at = 0;
  for (const param& p : params) {
    const std::string_view b = p.bytes();
    if (p.is_null()) {
      params_.push_back(param::null(p.type()));
    } else if (p.format() == data_format::binary) {
      params_.push_back(
          param::binary(std::span<const std::byte>(
                            reinterpret_cast<const std::byte*>(bytes_.data() + at), b.size()),
                        p.type()));
    } else {
      params_.push_back(param::text(std::string_view(bytes_.data() + at, b.size()), p.type()));
    }
    at += b.size();
  }
}

namespace detail {

// callback: a streamed statement's row function threw (the statement completes with that).
enum class cancel_reason : unsigned char { none, deadline, caller, callback };

// A handler and what to call it with, collected under the mutex and called after it.
struct completion {
  completion(std::unique_ptr<exec_op> o, std::exception_ptr e, result r,
             std::unique_ptr<observed_statement> obs = nullptr) noexcept
      : op(std::move(o)), error(std::move(e)), res(std::move(r)), report(std::move(obs)) {}
  // Only an observer's report (op empty): a statement of an explicit pipeline.
  explicit completion(std::unique_ptr<observed_statement> obs) noexcept : report(std::move(obs)) {}
  completion(std::nullptr_t /*no statement*/, std::exception_ptr e, result /*none*/,
             std::unique_ptr<notify_op> n, std::optional<notification> what) noexcept
      : error(std::move(e)), nop(std::move(n)), note(std::move(what)) {}
  completion(std::shared_ptr<core> from, std::shared_ptr<row_sink> to, std::uint64_t id,
             result rows) noexcept
      : res(std::move(rows)), owner(std::move(from)), sink(std::move(to)), sink_id(id) {}
  std::unique_ptr<exec_op> op;
  std::exception_ptr error;
  result res;
  // The observer's report of the statement (settled), made before the handler is called.
  std::unique_ptr<observed_statement> report;
  // Or a notification wait's completion.
  std::unique_ptr<notify_op> nop;
  std::optional<notification> note;
  // Or a streamed statement's row (res) for its sink; `owner` resumes reading once it is done.
  std::shared_ptr<core> owner;
  std::shared_ptr<row_sink> sink;
  std::uint64_t sink_id = 0;
};

// The handlers to call once the mutex is released: most calls find one or two, kept without
// an allocation.
using completions = boost::container::small_vector<completion, 2>;

namespace {

// A descriptor of our own for a socket libpq (or a cancel request) owns: Asio registers and
// closes the duplicate, so whatever the owner does with its descriptor (libpq closes it in
// PQfinish, or swaps sockets while connecting) never leaves Asio watching a reused number.
int duplicate(int fd) {
  const int d = ::fcntl(fd, F_DUPFD_CLOEXEC, 0);
  if (d < 0) {
    throw connection_error(
        fmt::format("pgorm: cannot duplicate the connection's socket: {}", std::strerror(errno)));
  }
  return d;
}

// True when `a` and `b` are the same socket (same inode), whatever their numbers.
bool same_socket(int a, int b) noexcept {
  struct stat sa {};
  struct stat sb {};
  if (::fstat(a, &sa) != 0 || ::fstat(b, &sb) != 0) return false;
  return sa.st_ino == sb.st_ino && sa.st_dev == sb.st_dev;
}

std::exception_ptr make_connection_error(std::string what,
                                         const std::vector<std::string>& secrets) {
  return std::make_exception_ptr(
      connection_error(pgorm::detail::scrub_secrets(std::move(what), secrets)));
}

std::exception_ptr make_canceled(cancel_reason why, std::chrono::milliseconds budget,
                                 std::string_view sql, bool closed, bool started) {
  std::string message =
      why == cancel_reason::deadline
          ? fmt::format(
                "the statement did not finish within its {} ms deadline and was cancelled{}",
                budget.count(), started ? " on the server" : " before it started")
          : fmt::format("the statement was cancelled by its caller (cancellation slot){}",
                        started ? " and on the server" : " before it started");
  return std::make_exception_ptr(pgorm::detail::canceled_error(std::move(message), sql, closed));
}

}  // namespace

struct core;

// The connection whose lone completion's handler this thread is running (on_ready()): the
// statements that handler issues are held until it returns, then sent together (pipelined),
// or, when it issued only one and nothing else is in flight, alone outside pipeline mode.
namespace {
thread_local const core* lone_run = nullptr;
}  // namespace

// One statement in the pipeline.
struct entry {
  std::uint64_t id = 0;
  // The request, as the terminal built it on the heap: the entry takes it without moving
  // it (a builder's request holds its parameters inline, ~1 KB), and stays small enough for
  // the allocator's fast path.
  std::unique_ptr<request> owned;
  request& req;
  std::unique_ptr<exec_op> op;  // empty once its awaiter was completed early
  clock::time_point deadline = clock::time_point::max();
  std::chrono::milliseconds budget{0};
  PGresult* res = nullptr;  // its first result (an error, or the rows)
  cancel_reason cancelled = cancel_reason::none;
  bool cancel_sent = false;     // a CancelRequest went out for it
  unsigned cancel_resends = 0;  // more went out: the server dropped the first (engine.hpp)
  bool retried = false;         // re-sent once (a cancel meant for another statement, a statement
                                // the server no longer had prepared)
  // A builder's static statement runs prepared: the statement cache's hash of it and its
  // name (empty: run unnamed); parse_pending while the result of its Parse, sent just before
  // it, has not arrived.
  std::uint64_t stmt_hash = 0;
  std::string stmt_name;
  bool parse_pending = false;
  bool parse_failed = false;
  // Its commands whose results have not ended yet (the Parse, the Execute): each ends with a
  // null result.
  int commands_left = 1;
  // A read of no transaction, sent in a segment of such reads that share one sync point:
  // complete at the end of its own results; sent again when an earlier read of the segment
  // failed (the server skipped it: PGRES_PIPELINE_ABORTED).
  bool shared = false;
  // The sync point follows it (else it shares a later statement's).
  bool sync_after = true;
  // Sent alone outside pipeline mode (send()): nothing else is sent until it has ended.
  bool alone = false;
  // A streamed statement (req.sink()): single-row mode is on for it; a row went to its sink
  // (it is never sent again); rows were dropped after it was stopped (it can no longer
  // succeed: its function missed them); what its sink threw (its outcome, whatever the server
  // says).
  bool single_row = false;
  bool delivered = false;
  bool dropped = false;
  std::exception_ptr stream_error;
  // A statement that needs the connection to itself (COPY, src/async/exclusive.hpp), and
  // whether it has started (the connection left pipeline mode for it).
  std::shared_ptr<exclusive_task> task;
  bool task_started = false;
  // The observer's report of it (only with an observer), and the rows it streamed.
  std::unique_ptr<observed_statement> report;
  std::int64_t streamed = 0;
  explicit entry(std::unique_ptr<request> r) noexcept : owned(std::move(r)), req(*owned) {}
  explicit entry(request&& r) : entry(std::make_unique<request>(std::move(r))) {}
  entry(const entry&) = delete;
  entry& operator=(const entry&) = delete;
  ~entry() {
    if (res != nullptr) PQclear(res);
  }
};

// Queue entries' list nodes come from the recycled blocks (src/async/recycle.cpp): one
// statement at a time, a node would otherwise cost a malloc and a free per statement.
template <class T>
struct recycled_nodes {
  using value_type = T;
  recycled_nodes() noexcept = default;
  // Implicit: std::list rebinds it to its node type.
  template <class U>
  recycled_nodes(const recycled_nodes<U>& /*other*/) noexcept {}
  T* allocate(std::size_t n) { return static_cast<T*>(recycled_allocate(n * sizeof(T))); }
  void deallocate(T* p, std::size_t n) noexcept { recycled_free(p, n * sizeof(T)); }
  friend bool operator==(const recycled_nodes& /*a*/, const recycled_nodes& /*b*/) noexcept {
    return true;
  }
};
using entry_list = std::list<entry, recycled_nodes<entry>>;

struct core : std::enable_shared_from_this<core> {
  explicit core(asio::any_io_executor e)
      : ex(e),
        socket(e),
        deadline_timer(e),
        cancel_socket(e),
        grace_timer(e),
        resend_timer(e),
        note_timer(e) {}
  core(const core&) = delete;
  core& operator=(const core&) = delete;
  ~core() {
    if (pq != nullptr) PQfinish(pq);
  }

  static pgorm::async::connection make(std::shared_ptr<core> c) {
    return pgorm::async::connection(std::move(c));
  }

  asio::any_io_executor ex;
  mutable std::mutex mu;
  PGconn* pq = nullptr;
  watched_socket<core> socket;  // a duplicate of PQsocket(pq)
  bool reading = false;         // a read wait is out
  bool writing = false;         // a write wait is out
  // The statement at the back was sent with nothing else in flight, and no input has been
  // read for it yet: its answer can only arrive after its first read wait was queued, so that
  // wait need not re-arm the socket (src/async/watched_socket.hpp).
  bool fresh_send = false;
  bool input_ready = false;
  entry_list queue;  // sent, in order; the front's results arrive first
  std::uint64_t next_id = 1;
  asio::steady_timer deadline_timer;
  clock::time_point timer_at = clock::time_point::max();
  // The one cancel request in flight, its socket, and the grace its statement gets to end.
  std::unique_ptr<pgorm::detail::cancel_request> cancel;
  asio::posix::stream_descriptor cancel_socket;
  bool cancel_waiting = false;
  asio::steady_timer grace_timer;
  // When the cancelled front statement has not ended this long after an acknowledged request,
  // the server may have dropped it: another goes out (cancel_resend_after()).
  asio::steady_timer resend_timer;
  // Cancel requests sent whose interrupt has not shown up as a 57014 yet: one may still hit
  // the statement behind the one it was meant for.
  int stray_cancels = 0;
  int null_results = 0;  // consecutive PQgetResult() == nullptr
  bool closed = false;
  connect_options options;
  std::vector<std::string> secrets;
  std::string description;
  std::shared_ptr<pgorm::detail::notice_sink> notices;
  std::optional<pgorm::detail::cancel_key> key;
  std::uint64_t pinned = 0;  // the pin of the transaction running on it (0: none)
  // Notifications received and not handed out yet, and the one caller waiting for the next.
  std::deque<notification> notes;
  std::unique_ptr<notify_op> note_waiter;
  std::uint64_t note_seq = 0;  // tells the current wait from earlier ones (timer, slot)
  asio::steady_timer note_timer;
  std::uint64_t next_pin = 1;
  // Builders' static statements prepared on this session (connect_options::prepare), as the
  // synchronous connection's cache, and the errors of Parses that failed while statements
  // naming them were in flight (they get that error rather than "does not exist").
  std::optional<pgorm::detail::statement_lru> statements;
  std::unordered_map<std::string, std::exception_ptr> failed_parses;

  // ---- under mu ----

  void complete(completions& out, entry& e, std::exception_ptr error, result res) {
    if (!e.op) return;
    e.op->slot().clear();
    if (e.stream_error) {
      error = e.stream_error;
      res = result{};
    }
    if (e.task) take_reports(out, *e.task, &error);
    if (e.report) [[unlikely]] {
      std::int64_t rows = e.streamed;
      if (!error && !e.req.sink()) rows = res.rows() > 0 ? res.rows() : res.affected_rows();
      e.report->settle(error, rows);
    }
    if (e.id == delivering) {
      // Its row function is running: the handler is called once that returned (rows_done),
      // never while it may still touch what the handler's caller owns.
      held.emplace(std::move(e.op), std::move(error), std::move(res), std::move(e.report));
      return;
    }
    out.push_back({std::move(e.op), std::move(error), std::move(res), std::move(e.report)});
  }

  // The reports of statements `task` ran whose outcome is known, to be made with the
  // completions; with `ended` (the task's outcome), every other one too, failed with it.
  static void take_reports(completions& out, exclusive_task& task,
                           const std::exception_ptr* ended = nullptr) {
    if (ended != nullptr) {
      for (std::size_t i = 0; i != task.reports_.size(); ++i) {
        if (!task.reports_[i]) continue;
        task.reports_[i]->settle(
            *ended ? *ended
                   : std::make_exception_ptr(connection_error(
                         "pgorm: the statement's result did not arrive before its pipeline ended")),
            0);
        task.settled_.push_back(std::move(task.reports_[i]));
      }
    }
    for (auto& r : task.settled_) out.emplace_back(std::move(r));
    task.settled_.clear();
  }

  // ---- streamed statements (async each()) ----

  // The id of the streamed statement whose row is with its sink (0: none): nothing more is
  // read from the connection until the sink has returned, so one row at a time is held.
  std::uint64_t delivering = 0;
  // Its completion, when it came while the row function ran (the connection was closed).
  std::optional<completion> held;

  // Single-row mode for the front statement when it streams: libpq allows it for the query at
  // the head of its pipeline queue before any of its results was parsed, i.e. once the results
  // before it (and its own Parse's) have been taken, and before pq_step() parses more input.
  void arm_single_row() {
    entry& f = queue.front();
    if (!f.req.sink() || f.single_row || f.delivered || f.commands_left != 1 || f.parse_pending ||
        f.res != nullptr) {
      return;
    }
    f.single_row = PQsetSingleRowMode(pq) == 1;
  }

  // Hands the row(s) in `r` to the front statement's sink and stops reading until it returned.
  void deliver(completions& out, entry& e, PGresult* r) {
    delivering = e.id;
    e.delivered = true;
    e.streamed += PQntuples(r);
    out.emplace_back(shared_from_this(), e.req.sink(), e.id, result(r));
  }

  // The sink of statement `id` returned (with what it threw).
  void rows_done(std::uint64_t id, std::exception_ptr error) {
    completions out;
    {
      std::lock_guard lock(mu);
      if (delivering != id) return;
      delivering = 0;
      if (held) {
        out.push_back(std::move(*held));
        held.reset();
      }
      if (!closed && !queue.empty() && queue.front().id == id) {
        entry& e = queue.front();
        if (error && !e.stream_error) {
          // Stop the statement: cancelled on the server; the rows still coming are dropped.
          e.stream_error = std::move(error);
          if (e.cancelled == cancel_reason::none) e.cancelled = cancel_reason::callback;
          if (!e.cancel_sent) start_cancel(e);
        }
        // A cancel acknowledged while the row function ran: its grace starts now.
        if (!closed && e.cancel_sent && !cancel) arm_grace();
      }
      if (!closed) drive(out);
    }
    run(out);
  }

  // ---- statements that need the connection to itself (COPY: src/async/exclusive.hpp) ----

  // A task is in the queue: statements issued since wait in behind_task, unsent, until it
  // has ended (then they are sent in order, up to the next task).
  bool exclusive = false;
  entry_list behind_task;

  // Gives `e` (in behind_task, or the queue) its id, deadline and handler.
  void hold(entry& e, std::unique_ptr<exec_op> handler) {
    number(e);
    attach(e, std::move(handler));
  }

  // Gives `e` its id, and its deadline from its own timeout or the connection's default.
  void number(entry& e) {
    e.id = next_id++;
    const std::chrono::milliseconds t =
        e.req.timeout().count() > 0 ? e.req.timeout() : options.query_timeout;
    if (t.count() > 0 && t != no_timeout) {
      e.budget = t;
      e.deadline = clock::now() + t;
    }
  }

  // Hands `e` its caller: the caller's cancellation slot cancels it, and its deadline is armed.
  void attach(entry& e, std::unique_ptr<exec_op> handler) {
    auto slot = handler->slot();
    if (slot.is_connected()) {
      slot.assign([w = weak_from_this(), id = e.id](asio::cancellation_type type) {
        if (type == asio::cancellation_type::none) return;
        if (auto c = w.lock()) c->cancel_op(id, cancel_reason::caller);
      });
    }
    e.op = std::move(handler);
    arm_deadline(e.deadline);
    queued.store(queued.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  }

  // How many statements got their caller (attach()), written under mu: on_ready() reads it
  // without the mutex after its handlers ran, to tell whether one was queued meanwhile.
  std::atomic<std::uint64_t> queued{0};

  void submit_task(completions& out, std::shared_ptr<exclusive_task> task, request&& req,
                   std::unique_ptr<exec_op> handler, std::unique_ptr<observed_statement> report) {
    if (closed || pq == nullptr) {
      refuse(out, std::move(handler),
             make_connection_error("pgorm: the async connection is closed", secrets),
             std::move(report));
      take_reports(out, *task, &out.back().error);
      return;
    }
    if (pinned != 0 && req.pin() != pinned) {
      refuse(out, std::move(handler),
             std::make_exception_ptr(usage_error(fmt::format(
                 "pgorm: this async connection is pinned by a transaction "
                 "(pgorm::async::run_transaction) until it ends; run {} through the "
                 "transaction (a COPY: copy_in(tx, ...)) or on another connection; nothing "
                 "was sent",
                 task->what()))),
             std::move(report));
      take_reports(out, *task, &out.back().error);
      return;
    }
    task->owner_ = weak_from_this();
    entry* e = nullptr;
    if (holds_back()) {
      e = &behind_task.emplace_back(std::move(req));
    } else {
      close_segment(out);  // the reads sent before it get their sync point first
      if (closed) {
        refuse(out, std::move(handler), lost("sending the statement failed"), std::move(report));
        take_reports(out, *task, &out.back().error);
        return;
      }
      e = &queue.emplace_back(std::move(req));
      exclusive = true;
    }
    e->report = std::move(report);
    e->task = std::move(task);
    e->retried = true;  // never sent again
    e->commands_left = 0;
    hold(*e, std::move(handler));
    e->task->id_ = e->id;
    if (!queue.empty() && &queue.back() == e) drive(out);
  }

  // True when a statement issued now waits in behind_task, unsent: behind a task (exclusive),
  // behind statements held already (in order), while this thread runs a lone completion's
  // handler (sent together once it returned: on_ready()), or while a statement runs alone
  // outside pipeline mode (libpq takes nothing more until it ended: release_held()).
  [[nodiscard]] bool holds_back() const noexcept {
    return exclusive || !behind_task.empty() || lone_run == this ||
           (!queue.empty() && queue.front().alone);
  }

  // Sends the statements held back (holds_back()) once nothing holds them any more: one, with
  // nothing in flight, alone outside pipeline mode; more in one pipeline (reads sharing a
  // sync point), in order, up to the next task.
  void release_held(completions& out) {
    if (closed || exclusive || behind_task.empty()) return;
    if (!queue.empty() && queue.front().alone) return;  // after that one
    if (!queue.empty() || behind_task.size() != 1 || behind_task.front().task) {
      task_ended(out);  // (sends them as when a task ended)
      return;
    }
    queue.splice(queue.end(), behind_task, behind_task.begin());
    entry& e = queue.back();
    try {
      note_raw(e.req);
      send(out, e, true);
    } catch (...) {
      complete(out, e, std::current_exception(), {});
      queue.pop_back();
      return;
    }
    send_evictions(out);
  }

  // A statement behind a task was cancelled: it was never sent, so it just ends.
  void cancel_behind(completions& out, std::uint64_t id, cancel_reason why) {
    const auto it = std::find_if(behind_task.begin(), behind_task.end(),
                                 [&](const entry& e) { return e.id == id; });
    if (it == behind_task.end() || !it->op) return;
    complete(out, *it, make_canceled(why, it->budget, it->req.sql(), false, false), {});
    behind_task.erase(it);
  }

  // Steps the task at the front; false when it waits (for the socket or its posted work).
  bool step_task(completions& out) {
    entry& e = queue.front();
    const bool stop = e.cancelled != cancel_reason::none || e.stream_error;
    if (!e.task_started) {
      if (stop) {  // cancelled before it started: nothing was sent
        complete(out, e, make_canceled(e.cancelled, e.budget, e.req.sql(), false, false), {});
        queue.pop_front();
        task_ended(out);
        return true;
      }
      // Every statement ahead of it has ended (their sync points are in): libpq's pipeline is
      // idle.
      if (PQexitPipelineMode(pq) != 1) {
        fail_all(out, lost(fmt::format("leaving pipeline mode for {} failed", e.task->what())));
        return false;
      }
      e.task_started = true;
    }
    const bool ready = input_ready;
    input_ready = false;
    const std::size_t progress = e.task->progress_;
    const task_step s = e.task->step(pq, ready, stop);
    take_reports(out, *e.task);
    if (e.cancel_sent && s.state != task_state::done && e.task->progress_ != progress) {
      // Stopped, it ended a batch: the next one, sent before the stop, now runs on the server.
      // It is cancelled as it starts (never left running after the run), within a grace of
      // its own.
      e.cancel_resends = 0;
      if (!cancel) {
        arm_grace();
        arm_resend(e);
      }
    }
    if (s.state == task_state::wait) {
      wait_for(s.wait);
      return false;
    }
    if (s.state == task_state::paused) {
      delivering = e.id;  // resumed by exclusive_task::resume() (rows_done)
      return false;
    }
    e.res = s.final;
    if (std::exception_ptr own = e.task->error(); own && !e.stream_error) e.stream_error = own;
    e.dropped = e.task->dropped();
    null_results = 0;
    if (e.res == nullptr || PQstatus(pq) == CONNECTION_BAD || PQenterPipelineMode(pq) != 1) {
      std::exception_ptr error = lost(fmt::format("running {} failed", e.task->what()));
      complete(out, e, error, {});
      queue.pop_front();
      fail_all(out, error);
      return false;
    }
    finish(out);
    task_ended(out);
    return !closed;
  }

  // The task at the front ended: what waited behind it is sent, up to the next task.
  void task_ended(completions& out) {
    exclusive = false;
    send_evictions(out);  // what the task's statements evicted from the cache
    while (!behind_task.empty() && !closed) {
      queue.splice(queue.end(), behind_task, behind_task.begin());
      entry& e = queue.back();
      if (e.task) {
        close_segment(out, &e);
        exclusive = true;
        return;
      }
      try {
        note_raw(e.req);
        send(out, e);
      } catch (...) {
        complete(out, e, std::current_exception(), {});
        queue.pop_back();
        continue;
      }
      send_evictions(out);
    }
  }

  // Closes the connection and fails everything queued with `error`.
  void fail_all(completions& out, const std::exception_ptr& error) {
    for (entry& e : queue) {
      if (e.cancelled != cancel_reason::none && e.cancel_sent) {
        complete(out, e, make_canceled(e.cancelled, e.budget, e.req.sql(), true, true), {});
      } else {
        complete(out, e, error, {});
      }
    }
    queue.clear();
    for (entry& e : behind_task) complete(out, e, error, {});
    behind_task.clear();
    exclusive = false;
    collect(out);  // what arrived before the failure goes first
    if (note_waiter) {
      note_waiter->slot().clear();
      out.push_back({nullptr, error, {}, std::move(note_waiter), std::nullopt});
    }
    shut();
  }

  // ---- notifications ----

  // Moves what libpq has parsed into `notes`, and hands the first to the waiter.
  void collect(completions& out) {
    if (pq != nullptr) {
      while (PGnotify* n = PQnotifies(pq)) {
        notification note;
        note.channel = n->relname;
        note.payload = n->extra != nullptr ? n->extra : "";
        note.sender_pid = n->be_pid;
        PQfreemem(n);
        notes.push_back(std::move(note));
      }
    }
    if (!note_waiter || notes.empty()) return;
    end_note_wait(out, nullptr, std::move(notes.front()));
    notes.pop_front();
  }

  void end_note_wait(completions& out, std::exception_ptr error, std::optional<notification> note) {
    note_waiter->slot().clear();
    note_timer.cancel();
    out.push_back({nullptr, std::move(error), {}, std::move(note_waiter), std::move(note)});
    if (queue.empty()) idle();  // nothing left to read for: let run() return
  }

  // With no statement out and a caller waiting for a notification: read what came, and wait
  // for more.
  void listen_idle(completions& out) {
    if (input_ready) {
      input_ready = false;
      if (PQconsumeInput(pq) == 0) {
        fail_all(out, lost("waiting for a notification failed"));
        return;
      }
    }
    collect(out);
    if (note_waiter) wait_for(pgorm::detail::io_wait::read);
  }

  void note_wait_ended(std::uint64_t seq, bool cancelled) {
    completions out;
    {
      std::lock_guard lock(mu);
      if (!note_waiter || seq != note_seq) return;
      end_note_wait(out,
                    cancelled ? std::make_exception_ptr(boost::system::system_error(
                                    asio::error::operation_aborted,
                                    "pgorm: the wait for a notification was cancelled"))
                              : nullptr,
                    std::nullopt);
    }
    run(out);
  }

  void shut() noexcept {
    closed = true;
    boost::system::error_code ignored;
    socket.close();
    cancel_socket.close(ignored);
    cancel.reset();
    deadline_timer.cancel();
    grace_timer.cancel();
    resend_timer.cancel();
    note_timer.cancel();
    if (pq != nullptr) {
      PQfinish(pq);  // non-blocking: Terminate is sent if the socket takes it
      pq = nullptr;
    }
  }

  std::exception_ptr lost(std::string_view context) {
    const std::string message =
        pq == nullptr ? std::string{} : pgorm::detail::trim_message(PQerrorMessage(pq));
    return make_connection_error(
        fmt::format("pgorm: connection lost ({}): {}: {}", description, context, message), secrets);
  }

  // The prepared statement `e` runs as (its name set on `e`; a Parse sent first when it is
  // new), or none: run unnamed. What the synchronous connection runs from its cache is
  // prepared: every statement made from a shape, a builder's (static, found by its key
  // computed at compile time, or rendered at run time, found by its text) or raw SQL run
  // through one; the least recently used is deallocated past statement_cache_size.
  // `parse`: false when no Parse may be sent (the statement goes alone, outside pipeline mode):
  // then false is returned, and nothing changed, when it would need one.
  bool use_prepared(entry& e, const pgorm::detail::param_arrays& a, std::string_view sql,
                    bool parse = true) {
    e.stmt_hash = 0;
    e.stmt_name.clear();
    e.parse_pending = false;
    e.parse_failed = false;
    if (!e.req.cached() || !options.prepare) return true;
    // A text that drops prepared statements would drop itself: run unnamed (note_raw()).
    if (e.req.key() == 0 && drops_prepared(sql)) return true;
    if (!statements) statements.emplace(options.statement_cache_size);
    const statement_shape shape{sql, e.req.key(), e.req.layout(), sql_origin::builder};
    const std::uint64_t h = pgorm::detail::statement_lru::hash(shape, a.types(), a.count());
    pgorm::detail::statement_entry* found = nullptr;
    switch (statements->find(h, shape, a.types(), a.count(), found)) {
      case pgorm::detail::statement_lru::lookup::hit:
        e.stmt_hash = h;
        e.stmt_name = found->name;
        return true;
      case pgorm::detail::statement_lru::lookup::collision:
        return true;
      case pgorm::detail::statement_lru::lookup::miss:
        break;
    }
    if (!parse) return false;
    std::string name = new_statement_name();
    const std::string text(sql);  // NUL-terminated for libpq
    if (PQsendPrepare(pq, name.c_str(), text.c_str(), a.count(), a.types()) == 0) return true;
    e.parse_pending = true;
    e.stmt_hash = h;
    e.stmt_name = name;
    remember_statement(h, shape, a.types(), a.count(), std::move(name));
    return true;
  }

  static std::string new_statement_name() {
    return fmt::format("pgorm_a{:x}", next_statement_number());
  }

  // Adds the statement prepared (or being prepared) as `name` to the cache; the one it evicts
  // is deallocated behind the statements sent so far (send_evictions()).
  void remember_statement(std::uint64_t h, const statement_shape& shape, const Oid* types, int n,
                          std::string name) {
    const std::string evicted = statements->add(h, shape, types, n, std::move(name));
    // Behind PgBouncer (transaction_prepared) DEALLOCATE would reach another session: the
    // name is dropped instead, as the synchronous connection does.
    if (!evicted.empty() && options.pooler != pooler_mode::transaction_prepared) {
      evictions.push_back(evicted);
    }
  }

  static std::uint64_t next_statement_number() {
    static std::atomic<std::uint64_t> counter{0};
    return counter.fetch_add(1, std::memory_order_relaxed) + 1;
  }

  // Reads of no transaction sent since the last sync point (`segment_open`), which a handler
  // posted to the executor (`segment_posted`) ends with one sync: the statements issued by the
  // coroutines that run before it go out in one write, and the server answers them in one.
  bool segment_open = false;
  bool segment_posted = false;

  [[nodiscard]] bool may_share(const request& req) const noexcept {
    // A streamed statement keeps its own sync point.
    return req.effect() == sql_effect::reads && req.pin() == 0 && pinned == 0 && !req.sink();
  }

  std::uint64_t segment_last = 0;  // the id of the open segment's last statement

  // Ends the open segment: one sync point after its last statement (or, when that one has
  // completed already, an entry of nobody's that waits for the sync point). `unsent`: the
  // entry at the back about to be sent after the sync point, if any.
  void close_segment(completions& out, const entry* unsent = nullptr) {
    if (!segment_open || closed) return;
    segment_open = false;
    if (PQpipelineSync(pq) == 0) {
      fail_all(out, lost("sending the statement failed"));
      return;
    }
    auto end = queue.end();
    if (unsent != nullptr && !queue.empty() && &queue.back() == unsent) end = std::prev(end);
    if (end != queue.begin() && std::prev(end)->id == segment_last) {
      std::prev(end)->sync_after = true;
      return;
    }
    const auto it =
        queue.emplace(end, request(std::string_view{}, {}, data_format::text, no_timeout));
    it->id = next_id++;
    it->commands_left = 0;
    it->sync_after = true;
  }

  void segment_due() {
    completions out;
    {
      std::lock_guard lock(mu);
      segment_posted = false;
      if (closed) return;
      close_segment(out);
      if (!closed) drive(out);
    }
    run(out);
  }

  // Sends `e` (at the back of the queue). `alone`: released alone (release_held()): with
  // nothing else in flight and no Parse to send first, it goes outside pipeline mode, where
  // libpq sends it with its Sync and has no sync point's result to hand back (about 900
  // instructions less per statement); a statement issued meanwhile is held until it ended.
  void send(completions& out, entry& e, bool alone = false) {
    alone = alone && queue.size() == 1 && !segment_open && evictions.empty() && !e.req.sink();
    // Alone on the connection, a read goes out at once with its own sync point (one caller at
    // a time waits for nothing); reads issued behind it share one.
    const bool share = !alone && may_share(e.req) && (segment_open || queue.size() > 1);
    if (!share && !alone) close_segment(out, &e);  // what was sent before keeps its own sync
    if (closed) return;
    pgorm::detail::param_arrays a;
    std::string scratch;
    a.fill(e.req.pack(), scratch);  // throws usage_error / conversion_error: the caller's
    const std::string_view sql = e.req.sql();
    if (sql.find('\0') != std::string_view::npos) pgorm::detail::throw_nul_in_sql(sql);
    const int fmt = static_cast<int>(e.req.format());
    bool looked_up = false;
    if (alone) {
      looked_up = use_prepared(e, a, sql, false);
      alone = looked_up && (PQpipelineStatus(pq) == PQ_PIPELINE_OFF || PQexitPipelineMode(pq) == 1);
    }
    if (!alone) {
      if (PQpipelineStatus(pq) == PQ_PIPELINE_OFF && PQenterPipelineMode(pq) != 1) {
        fail_all(out, lost("entering pipeline mode failed"));
        return;
      }
      if (!looked_up) use_prepared(e, a, sql);
    }
    int sent = 0;
    if (!e.stmt_name.empty()) {
      sent = PQsendQueryPrepared(pq, e.stmt_name.c_str(), a.count(), a.values(), a.lengths(),
                                 a.formats(), fmt);
    } else {
      const std::string text(sql);  // NUL-terminated for libpq
      sent = PQsendQueryParams(pq, text.c_str(), a.count(), a.types(), a.values(), a.lengths(),
                               a.formats(), fmt);
    }
    e.commands_left = e.parse_pending ? 2 : 1;
    e.single_row = false;
    e.shared = share;
    e.alone = alone;
    e.sync_after = !share && !alone;  // alone: complete at the end of its results
    if (sent == 0 || (e.sync_after && PQpipelineSync(pq) == 0)) {
      fail_all(out, lost("sending the statement failed"));
      return;
    }
    if (queue.size() == 1) fresh_send = true;  // (else as it was: see fresh_send)
    if (share) {
      segment_open = true;
      segment_last = e.id;
      if (!segment_posted) {
        segment_posted = true;
        asio::post(ex, [w = weak_from_this()] {
          if (auto c = w.lock()) c->segment_due();
        });
      }
    }
  }

  // DEALLOCATEs of statements the cache evicted, queued behind the statement that evicted them
  // (whatever was sent before still runs first). Nobody waits for them; an error (e.g. in an
  // aborted transaction) only leaves the statement allocated until the session ends.
  std::vector<std::string> evictions;
  void send_evictions(completions& out) {
    while (!evictions.empty() && !closed) {
      const std::string name = std::move(evictions.back());
      evictions.pop_back();
      queue.emplace_back(
          request(fmt::format("DEALLOCATE {}", name), {}, data_format::text, no_timeout, pinned));
      queue.back().id = next_id++;
      try {
        send(out, queue.back());
      } catch (...) {  // NOLINT(bugprone-empty-catch): the statement stays allocated, no more
        queue.pop_back();
      }
    }
  }

  // A raw statement that drops prepared statements (a pool's DISCARD ALL, a DEALLOCATE):
  // forget them, so that the next use prepares again.
  void note_raw(const request& req) {
    if (req.key() != 0 || !statements) return;
    if (drops_prepared(req.sql())) statements->clear();
  }

  // True for DISCARD ... and DEALLOCATE ...
  static bool drops_prepared(std::string_view sql) noexcept {
    while (!sql.empty() && std::isspace(static_cast<unsigned char>(sql.front())) != 0) {
      sql.remove_prefix(1);
    }
    const auto starts = [&](std::string_view word) {
      return sql.size() >= word.size() &&
             std::equal(word.begin(), word.end(), sql.begin(), [](char a, char b) {
               return a == std::tolower(static_cast<unsigned char>(b));
             });
    };
    return starts("discard") || starts("deallocate");
  }

  // Completes `handler` with `error` (its report, if any, failed with it): nothing was sent.
  static void refuse(completions& out, std::unique_ptr<exec_op> handler, std::exception_ptr error,
                     std::unique_ptr<observed_statement> report) {
    if (report) report->settle(error, 0);
    out.push_back({std::move(handler), std::move(error), {}, std::move(report)});
  }

  void submit(completions& out, std::unique_ptr<request> req, std::unique_ptr<exec_op> handler,
              std::unique_ptr<observed_statement> report) {
    if (closed || pq == nullptr) {
      refuse(out, std::move(handler),
             make_connection_error("pgorm: the async connection is closed", secrets),
             std::move(report));
      return;
    }
    if (pinned != 0 && req->pin() != pinned) {
      // A transaction runs on this connection: a statement of anyone else would land inside
      // it (or, after a failure in it, be refused by the server). Refused before sending.
      refuse(out, std::move(handler),
             std::make_exception_ptr(usage_error(
                 "pgorm: this async connection is pinned by a transaction "
                 "(pgorm::async::run_transaction) until it ends; run the statement through the "
                 "transaction object, or on another connection (an async pool gives each "
                 "transaction its own); nothing was sent")),
             std::move(report));
      return;
    }
    if (holds_back()) {  // sent once what holds it back has ended (release_held())
      entry& held_back = behind_task.emplace_back(std::move(req));
      held_back.report = std::move(report);
      hold(held_back, std::move(handler));
      return;
    }
    queue.emplace_back(std::move(req));
    entry& e = queue.back();
    number(e);
    try {
      note_raw(e.req);
      send(out, e);
    } catch (...) {
      // Refused before anything was sent (bad parameters): only this statement fails.
      refuse(out, std::move(handler), std::current_exception(), std::move(report));
      queue.pop_back();
      return;
    }
    send_evictions(out);
    if (closed) {  // sending failed: fail_all() took the others; this one too
      refuse(out, std::move(handler), lost("sending the statement failed"), std::move(report));
      return;
    }
    e.report = std::move(report);
    attach(e, std::move(handler));
    if (!e.shared) drive(out);  // a shared one goes out with its segment
  }

  // Steps libpq until it needs to wait, handing out results as they come.
  void drive(completions& out) {
    // (Paused while a streamed row is with its sink: its socket waits stay, and note input.)
    while (!closed && !queue.empty() && delivering == 0) {
      if (queue.front().task) {
        if (step_task(out)) continue;
        break;
      }
      arm_single_row();
      const pgorm::detail::io_wait w = pgorm::detail::pq_step(pq, input_ready);
      input_ready = false;
      if (w != pgorm::detail::io_wait::none) {
        wait_for(w);
        break;
      }
      PGresult* r = PQgetResult(pq);
      take(out, r);
    }
    if (closed || !note_waiter) return;  // (libpq keeps notifications until one is awaited)
    if (queue.empty()) {
      listen_idle(out);
    } else {
      collect(out);
    }
  }

  void take(completions& out, PGresult* r) {
    entry& e = queue.front();
    if (r == nullptr) {
      // The end of one command's results (the Parse's, or the statement's). Two in a row:
      // libpq has nothing left for us while we wait for something (it failed).
      if (++null_results > 1 || PQstatus(pq) == CONNECTION_BAD) {
        fail_all(out, lost("reading the results failed"));
        return;
      }
      // A statement sharing a later sync point is complete now; else its sync comes next.
      if (--e.commands_left == 0 && !e.sync_after) finish(out);
      return;
    }
    null_results = 0;
    const ExecStatusType status = PQresultStatus(r);
    if (status == PGRES_PIPELINE_SYNC) {
      PQclear(r);
      finish(out);
      return;
    }
    if (status == PGRES_COPY_IN || status == PGRES_COPY_OUT || status == PGRES_COPY_BOTH) {
      PQclear(r);
      fail_all(out, std::make_exception_ptr(usage_error(
                        "pgorm: COPY cannot run through async_exec() (the async connection has "
                        "no COPY yet); the connection was closed")));
      return;
    }
    if (e.parse_pending) {
      // The first result of a statement sent with its Parse is the Parse's: nothing to report
      // when it worked; when it failed, its error is the statement's (the server skipped the
      // rest up to the sync point).
      e.parse_pending = false;
      if (status == PGRES_COMMAND_OK) {
        PQclear(r);
        return;
      }
      e.parse_failed = true;
    }
    if (e.req.sink() && (status == PGRES_SINGLE_TUPLE ||
                         (status == PGRES_TUPLES_OK && PQntuples(r) > 0 && !e.parse_failed))) {
      if (!e.op || e.cancelled != cancel_reason::none || e.stream_error) {
        PQclear(r);  // stopped: the rest is dropped as it comes
        e.dropped = true;
      } else {
        deliver(out, e, r);
      }
      return;
    }
    if (e.res == nullptr) {
      e.res = r;
    } else {
      PQclear(r);  // one statement, one result; anything more is not ours to report
    }
    if (PQstatus(pq) == CONNECTION_BAD) {
      std::exception_ptr error;
      try {
        pgorm::detail::throw_result_error(e.res, pq, e.req.sql(), e.req.params(), secrets);
      } catch (...) {
        error = std::current_exception();
      }
      complete(out, e, error, {});
      queue.pop_front();
      fail_all(out, lost("the server closed the connection"));
    }
  }

  // The front statement's sync point arrived: its outcome is known.
  void finish(completions& out) {
    entry& e = queue.front();
    const ExecStatusType status = e.res == nullptr ? PGRES_COMMAND_OK : PQresultStatus(e.res);
    const bool failed = status == PGRES_FATAL_ERROR || status == PGRES_PIPELINE_ABORTED ||
                        status == PGRES_BAD_RESPONSE || status == PGRES_NONFATAL_ERROR;
    const bool was_front_cancel = e.cancel_sent;
    if (failed) {
      const char* state = PQresultErrorField(e.res, PG_DIAG_SQLSTATE);
      const bool interrupted = state != nullptr && std::strcmp(state, "57014") == 0;
      if (status == PGRES_PIPELINE_ABORTED && e.shared && e.cancelled == cancel_reason::none &&
          e.op) {
        // A read before it in its segment failed, and the server skipped it: not its own
        // failure, and a read has no effect to repeat. Sent again (and its Parse too, when
        // the one it carried was skipped).
        if (e.parse_failed) forget_statement(e);
        resend_front(out, false);
        return;
      }
      // (A shared read runs in no transaction of ours: sending it again is always safe.)
      const bool may_resend = e.cancelled == cancel_reason::none && !e.retried && !e.delivered &&
                              (e.shared || PQtransactionStatus(pq) == PQTRANS_IDLE);
      if (interrupted && stray_cancels > 0) {
        --stray_cancels;  // a cancel request of ours landed here
        if (may_resend) {
          // Meant for the statement before this one, which finished first: this one ran in
          // its own implicit transaction, which the interrupt rolled back. Send it again.
          resend_front(out);
          return;
        }
      }
      if (!e.stmt_name.empty() && prepared_failed(out, e, state, may_resend)) return;
      if (e.cancelled != cancel_reason::none) {
        complete(out, e,
                 interrupted ? make_canceled(e.cancelled, e.budget, e.req.sql(), false, true)
                             : result_error(e),
                 {});
      } else {
        complete(out, e, result_error(e), {});
      }
    } else if (e.dropped && e.cancelled != cancel_reason::none) {
      // A stream cancelled after the server had sent its last row: the rows dropped since
      // the cancel never reached the function, so it did not complete.
      complete(out, e, make_canceled(e.cancelled, e.budget, e.req.sql(), false, true), {});
    } else {
      // Completed before any cancel took effect: its result stands (as in the sync API).
      PGresult* r = e.res;
      e.res = nullptr;
      complete(out, e, nullptr, e.req.sink() ? result(r) : checked_result(e, result(r)));
    }
    queue.pop_front();
    if (was_front_cancel) {
      grace_timer.cancel();
      resend_timer.cancel();
    }
    after_front_changed(out);
  }

  // Sends the front statement again, at the back (it ran in its own implicit transaction,
  // which failed without effect).
  void resend_front(completions& out, bool retry = true) {
    entry& e = queue.front();
    PQclear(e.res);
    e.res = nullptr;
    e.retried = e.retried || retry;
    queue.splice(queue.end(), queue, queue.begin());
    try {
      send(out, queue.back());
    } catch (...) {
      complete(out, queue.back(), std::current_exception(), {});
      queue.pop_back();
    }
    send_evictions(out);
    after_front_changed(out);
  }

  // Drops the prepared statement `e` named from the cache (the server does not have it).
  void forget_statement(const entry& e) {
    if (!statements || e.stmt_name.empty()) return;
    const auto it = statements->by_hash.find(e.stmt_hash);
    if (it != statements->by_hash.end() && it->second->name == e.stmt_name) {
      statements->erase(e.stmt_hash);
    }
  }

  // The front statement `e`, run prepared, failed with SQLSTATE `state`. True when that was
  // handled here: its Parse failed (every statement that named it gets that error), or the
  // server no longer has it (26000: a DISCARD ALL or DEALLOCATE of someone else; 0A000: its
  // result type changed) and it was sent again, prepared anew, as the synchronous connection
  // does outside a transaction.
  bool prepared_failed(completions& out, entry& e, const char* state, bool may_resend) {
    const std::string_view code = state == nullptr ? "" : state;
    if (e.parse_failed) {
      forget_statement(e);
      failed_parses[e.stmt_name] = result_error(e);
      return false;
    }
    if (code == "26000") {
      if (const auto it = failed_parses.find(e.stmt_name); it != failed_parses.end()) {
        complete(out, e, it->second, {});
        queue.pop_front();
        after_front_changed(out);
        return true;
      }
      statements->clear();  // whatever dropped this one probably dropped them all
    } else if (code == "0A000") {
      statements->erase(e.stmt_hash);
    } else {
      return false;
    }
    if (!may_resend) return false;
    resend_front(out);
    return true;
  }

  // `res`, the binary result of a prepared statement whose rows a row type reads, with the
  // columns that layout was found to match (checked once per prepared statement).
  result checked_result(entry& e, result res) {
    if (e.stmt_name.empty() || e.req.layout() == nullptr || e.req.format() != data_format::binary ||
        !statements) {
      return res;
    }
    const auto it = statements->by_hash.find(e.stmt_hash);
    if (it == statements->by_hash.end() || it->second->name != e.stmt_name) return res;
    const checked_columns* checked = pgorm::detail::check_layout(&*it->second, res, e.req.layout());
    if (checked == nullptr) return res;
    return result(res.release(), checked);
  }

  std::exception_ptr result_error(entry& e) {
    try {
      pgorm::detail::throw_result_error(e.res, pq, e.req.sql(), e.req.params(), secrets);
    } catch (...) {
      return std::current_exception();
    }
  }

  void after_front_changed(completions& out) {
    if (queue.empty()) release_held(out);  // a lone statement ended: what it held back goes
    if (queue.empty()) {
      // Every sync point is in: the backend is idle, where a late interrupt is ignored.
      if (!cancel) stray_cancels = 0;
      failed_parses.clear();  // nothing in flight names those statements any more
      // Nothing is out: leave no wait or timer behind, so that the executor's run() can end
      // (on a result, once its handler has run: see on_ready()).
      if (defer_idle) {
        idle_due = true;
      } else {
        idle();
      }
      return;
    }
    entry& f = queue.front();
    if (f.cancelled != cancel_reason::none && !f.cancel_sent) start_cancel(f);
  }

  // While on_ready() drives: the queue emptying sets idle_due instead of calling idle(), which
  // on_ready() calls once the handlers it found have run, if nothing was queued meanwhile. A
  // handler that runs inline and sends the caller's next statement then finds the deadline
  // timer still armed (for a later deadline: nothing to re-arm) and no wait to redo.
  bool defer_idle = false;
  bool idle_due = false;

  void idle() {
    if ((reading || writing) && !note_waiter) socket.cancel();
    if (timer_at != clock::time_point::max()) {
      deadline_timer.cancel();
      timer_at = clock::time_point::max();
    }
    if (!cancel) {
      grace_timer.cancel();
      resend_timer.cancel();
    }
  }

  // ---- cancellation ----

  void cancel_op(std::uint64_t id, cancel_reason why) {
    completions out;
    {
      std::lock_guard lock(mu);
      if (closed) return;
      const auto it =
          std::find_if(queue.begin(), queue.end(), [&](const entry& e) { return e.id == id; });
      if (it == queue.end()) {
        cancel_behind(out, id, why);
      } else {
        if (!it->op || it->cancelled != cancel_reason::none) return;
        it->cancelled = why;
        if (it == queue.begin()) {
          start_cancel(*it);  // completes when the server ended it (or the grace passed)
        } else {
          // Still behind others: its caller stops waiting now; the server is asked to cancel
          // it once it reaches the front, unless it has finished by then.
          complete(out, *it, make_canceled(why, it->budget, it->req.sql(), false, false), {});
        }
        drive(out);
      }
    }
    run(out);
  }

  void start_cancel(entry& e) {
    if (e.task && (!e.task_started || e.task->stops_itself())) {
      // A COPY not started is never sent; a COPY FROM ends itself (CopyFail) within the grace.
      if (e.task_started && !e.cancel_sent) {
        e.cancel_sent = true;
        arm_grace();
      }
      return;
    }
    if (cancel) return;  // one at a time: the next goes out when this one is acknowledged
    e.cancel_sent = true;
    ++stray_cancels;
    if (!key) {
      // This libpq does not let pgorm cancel without blocking: give the connection up.
      completions out;
      fail_all(out, make_connection_error(
                        "pgorm: cannot cancel a statement on this connection (no cancel key); "
                        "the connection was closed",
                        secrets));
      post_all(out);
      return;
    }
    send_cancel_request();
    arm_grace();
    step_cancel();
  }

  void send_cancel_request() {
    cancel = std::make_unique<pgorm::detail::cancel_request>(*key);
    const pgorm::detail::io_watch w = cancel->watch();
    if (w.fd >= 0) {
      boost::system::error_code ec;
      cancel_socket.close(ec);
      try {
        cancel_socket.assign(duplicate(w.fd));
      } catch (const std::exception&) {
        cancel->step();  // leave it to the grace timer
      }
    }
  }

  // Whether stopping `e` takes a cancel request (a COPY FROM ends itself with CopyFail).
  static bool asks_cancel(const entry& e) noexcept { return !e.task || !e.task->stops_itself(); }

  // The front statement was cancelled by an acknowledged request and still runs: asks again
  // after cancel_resend_after() (the server drops a request that lands while it handles the
  // statement's Bind), within the grace armed for the first request.
  void arm_resend(const entry& e) {
    resend_timer.expires_after(pgorm::detail::cancel_resend_after(e.cancel_resends));
    resend_timer.async_wait(
        [self = shared_from_this(), id = e.id](const boost::system::error_code& ec) {
          if (ec) return;
          std::lock_guard lock(self->mu);
          if (self->closed || self->cancel || self->queue.empty()) return;
          entry& f = self->queue.front();
          if (f.id != id || !f.cancel_sent) return;
          ++f.cancel_resends;
          ++self->stray_cancels;
          self->send_cancel_request();
          self->step_cancel();
        });
  }

  // The cancelled front statement gets cancel_grace to end, else the connection is closed.
  void arm_grace() {
    grace_timer.expires_after(options.cancel_grace);
    grace_timer.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
      if (!ec) self->on_grace_expired();
    });
  }

  void step_cancel() {
    if (!cancel) return;
    if (cancel->done()) {
      const bool acknowledged = cancel->acknowledged();
      boost::system::error_code ignored;
      cancel_socket.close(ignored);
      cancel.reset();
      if (queue.empty()) stray_cancels = 0;  // the backend is idle: a late interrupt is ignored
      // Acknowledged: the statement gets cancel_grace to end (counted from the first request),
      // and is asked again while it runs; failed: likewise, then closed.
      if (!queue.empty() && queue.front().cancel_sent) {
        if (queue.front().cancel_resends == 0) arm_grace();
        if (acknowledged && asks_cancel(queue.front())) arm_resend(queue.front());
      } else {
        grace_timer.cancel();
      }
      if (!queue.empty() && queue.front().cancelled != cancel_reason::none &&
          !queue.front().cancel_sent) {
        start_cancel(queue.front());
      }
      return;
    }
    if (cancel_waiting) return;
    const pgorm::detail::io_watch w = cancel->watch();
    cancel_waiting = true;
    cancel_socket.async_wait(w.what == pgorm::detail::io_wait::read
                                 ? asio::posix::stream_descriptor::wait_read
                                 : asio::posix::stream_descriptor::wait_write,
                             [self = shared_from_this()](const boost::system::error_code& ec) {
                               completions out;
                               {
                                 std::lock_guard lock(self->mu);
                                 self->cancel_waiting = false;
                                 if (ec == asio::error::operation_aborted || self->closed) return;
                                 if (self->cancel) self->cancel->step();
                                 self->step_cancel();
                               }
                               run(out);
                             });
  }

  // The cancelled statement did not end within the grace: the link is dead or black-holed.
  void on_grace_expired() {
    completions out;
    {
      std::lock_guard lock(mu);
      if (closed || queue.empty() || !queue.front().cancel_sent) return;
      // Its row function is running (not the link's fault): the grace starts again after it.
      if (queue.front().id == delivering) return;
      fail_all(out, make_connection_error(
                        fmt::format("pgorm: the server did not end a cancelled statement within "
                                    "{} ms, so the connection ({}) was closed",
                                    options.cancel_grace.count(), description),
                        secrets));
    }
    run(out);
  }

  // ---- deadlines ----

  void arm_deadline(clock::time_point at) {
    if (at == clock::time_point::max() || at >= timer_at) return;
    timer_at = at;
    deadline_timer.expires_at(at);
    deadline_timer.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
      if (!ec) self->on_deadline();
    });
  }

  void on_deadline() {
    std::vector<std::uint64_t> expired;
    {
      std::lock_guard lock(mu);
      if (closed) return;
      timer_at = clock::time_point::max();
      const auto now = clock::now();
      clock::time_point next = clock::time_point::max();
      for (const entry_list* list : {&queue, &behind_task}) {
        for (const entry& e : *list) {
          if (!e.op || e.cancelled != cancel_reason::none) continue;
          if (e.deadline <= now) {
            expired.push_back(e.id);
          } else {
            next = std::min(next, e.deadline);
          }
        }
      }
      arm_deadline(next);
    }
    for (const std::uint64_t id : expired) cancel_op(id, cancel_reason::deadline);
  }

  // ---- socket readiness ----

  void wait_for(pgorm::detail::io_wait w) {
    const auto bits = static_cast<unsigned>(w);
    if ((bits & static_cast<unsigned>(pgorm::detail::io_wait::read)) != 0 && !reading) {
      reading = true;
      socket.wait(shared_from_this(), true, !fresh_send);
    }
    if ((bits & static_cast<unsigned>(pgorm::detail::io_wait::write)) != 0 && !writing) {
      writing = true;
      socket.wait(shared_from_this(), false, true);
    }
  }

  void on_ready(const boost::system::error_code& ec, bool read) {
    completions out;
    bool went_idle = false;
    bool lone = false;
    std::uint64_t seen = 0;
    {
      std::lock_guard lock(mu);
      (read ? reading : writing) = false;
      if (closed) return;
      if (ec && ec != asio::error::operation_aborted) {
        fail_all(out,
                 make_connection_error(fmt::format("pgorm: waiting for the server ({}) failed: {}",
                                                   description, ec.message()),
                                       secrets));
      } else {
        // Cancelled by idle(): a statement sent since then may still need this wait.
        if (!ec && read) {
          input_ready = true;
          fresh_send = false;
          // The backend is sending, so it is past the Bind where a cancel can be dropped
          // (engine.hpp): an acknowledged cancel's resend waits again.
          if (!cancel && !queue.empty() && queue.front().cancel_sent &&
              asks_cancel(queue.front())) {
            arm_resend(queue.front());
          }
        }
        defer_idle = true;
        drive(out);
        defer_idle = false;
        went_idle = std::exchange(idle_due, false);
        seen = queued.load(std::memory_order_relaxed);
        lone = out.size() == 1 && out.front().op && queue.empty() && behind_task.empty() &&
               !exclusive && !closed;
      }
    }
    if (lone) {
      // One statement's result and nothing left in flight: what its handler issues (a
      // coroutine's next statement) is held until it returns, then sent, one statement alone
      // outside pipeline mode.
      lone_run = this;
      run(out);
      lone_run = nullptr;
      {
        std::lock_guard lock(mu);
        if (closed) return;
        if (!behind_task.empty()) {
          release_held(out);
          if (!closed) drive(out);
        } else if (went_idle && queue.empty()) {
          idle();
        }
      }
      run(out);
      return;
    }
    run(out);
    // A statement queued since (a handler sending its caller's next one) keeps the waits and
    // the deadline timer, and whoever ends it goes idle then: no need to look again.
    if (went_idle && queued.load(std::memory_order_relaxed) == seen) {
      std::lock_guard lock(mu);
      if (!closed && queue.empty()) idle();
    }
  }

  // ---- calling handlers (never under mu) ----

  static void run(completions& out) {
    // On each handler's own executor: inline when this thread may run it.
    for (completion& c : out) {
      if (c.report) [[unlikely]]
        c.report->report();
      if (c.sink) {
        hand_rows(c);
      } else if (c.nop) {
        c.nop->complete(false, std::move(c.error), std::move(c.note));
      } else if (c.op) {
        c.op->complete(false, std::move(c.error), std::move(c.res));
      }
    }
    out.clear();
  }
  // A row for a sink: always posted (a sink that ran inline would call back into drive() and
  // nest one frame per row); the row is freed before the next one is read.
  static void hand_rows(completion& c) {
    const asio::any_io_executor ex = c.sink->executor();
    asio::post(ex, [owner = std::move(c.owner), sink = std::move(c.sink), id = c.sink_id,
                    rows = std::move(c.res)]() mutable {
      std::exception_ptr error;
      try {
        sink->on_rows(rows);
      } catch (...) {
        error = std::current_exception();
      }
      rows = result{};
      owner->rows_done(id, std::move(error));
    });
  }
  // For completions found under the mutex on an initiating call: posted, never run inline.
  static void post_all(completions& out) {
    for (completion& c : out) {
      if (c.report) [[unlikely]]
        c.report->report();
      if (c.sink) {
        hand_rows(c);
      } else if (c.nop) {
        c.nop->complete(true, std::move(c.error), std::move(c.note));
      } else if (c.op) {
        c.op->complete(true, std::move(c.error), std::move(c.res));
      }
    }
    out.clear();
  }
};

void submit(const std::shared_ptr<core>& owner, request&& req, std::unique_ptr<exec_op> op) {
  submit(owner, std::make_unique<request>(std::move(req)), std::move(op));
}

void submit(const std::shared_ptr<core>& owner, std::unique_ptr<request> req,
            std::unique_ptr<exec_op> op) {
  // Our own reference: `owner` may live in the initiating coroutine's frame, which another
  // thread destroys as soon as it has run the completion that submit() queued.
  const std::shared_ptr<core> c = owner;
  completions out;
  if (!c) {
    op->complete(true,
                 std::make_exception_ptr(connection_error(
                     "pgorm: the async connection is not connected (default-constructed, moved "
                     "from or closed)")),
                 result{});
    return;
  }
  // With an observer, on_query_start runs here, before the lock (never under it).
  std::unique_ptr<observed_statement> report;
  if (c->options.events != nullptr) [[unlikely]]
    report = observe(c, req->sql(), req->params());
  {
    std::lock_guard lock(c->mu);
    c->submit(out, std::move(req), std::move(op), std::move(report));
  }
  // Completions found while initiating (an error, or results already there for earlier
  // statements): the new statement's own must not run inside its initiating call.
  core::post_all(out);
}

void submit_task(const std::shared_ptr<core>& owner, std::shared_ptr<exclusive_task> task,
                 std::string sql, std::chrono::milliseconds timeout, std::uint64_t pin,
                 std::unique_ptr<exec_op> op, std::unique_ptr<observed_statement> report) {
  const std::shared_ptr<core> c = owner;  // (as submit())
  completions out;
  if (!c) {
    core::refuse(out, std::move(op),
                 std::make_exception_ptr(connection_error(
                     "pgorm: the async connection is not connected (default-constructed, moved "
                     "from or closed)")),
                 std::move(report));
    core::take_reports(out, *task, &out.back().error);
    core::post_all(out);
    return;
  }
  {
    std::lock_guard lock(c->mu);
    c->submit_task(out, std::move(task), request(sql, {}, data_format::text, timeout, pin),
                   std::move(op), std::move(report));
  }
  core::post_all(out);
}

std::unique_ptr<observed_statement> observe(const std::shared_ptr<core>& c, std::string_view sql,
                                            std::span<const param> params) {
  // (options and description are set before the connection is handed out, and never change.)
  if (!c || c->options.events == nullptr) return nullptr;
  return std::make_unique<observed_statement>(c->options.events.get(), c->description, sql, params);
}

cached_statement task_statement(core& c, std::string_view sql, const Oid* types, int n) {
  if (!c.options.prepare || core::drops_prepared(sql)) return {};
  if (!c.statements) c.statements.emplace(c.options.statement_cache_size);
  // By its text (key 0): a task's statements may be rendered at run time.
  const statement_shape shape{sql, 0, nullptr, sql_origin::builder};
  const std::uint64_t h = pgorm::detail::statement_lru::hash(shape, types, n);
  pgorm::detail::statement_entry* found = nullptr;
  switch (c.statements->find(h, shape, types, n, found)) {
    case pgorm::detail::statement_lru::lookup::hit:
      return {found->name, false};
    case pgorm::detail::statement_lru::lookup::collision:
      return {};
    case pgorm::detail::statement_lru::lookup::miss:
      break;
  }
  std::string name = core::new_statement_name();
  c.remember_statement(h, shape, types, n, name);
  return {std::move(name), true};
}

void task_statement_failed(core& c, std::string_view sql, const Oid* types, int n,
                           const std::string& name) {
  if (!c.statements) return;
  const statement_shape shape{sql, 0, nullptr, sql_origin::builder};
  const std::uint64_t h = pgorm::detail::statement_lru::hash(shape, types, n);
  const auto it = c.statements->by_hash.find(h);
  if (it != c.statements->by_hash.end() && it->second->name == name) c.statements->erase(h);
}

std::size_t task_statement_capacity(const core& c) noexcept {
  return c.options.prepare ? std::max<std::size_t>(c.options.statement_cache_size, 1) : 0;
}

const std::vector<std::string>& secrets_of(const std::shared_ptr<core>& c) noexcept {
  static const std::vector<std::string> none;
  return c ? c->secrets : none;
}

void exclusive_task::resume(std::exception_ptr error) const {
  if (const std::shared_ptr<core> c = owner_.lock()) c->rows_done(id_, std::move(error));
}

void wait_notification(const std::shared_ptr<core>& c, std::chrono::milliseconds timeout,
                       std::unique_ptr<notify_op> op) {
  completions out;
  if (!c) {
    op->complete(true,
                 std::make_exception_ptr(connection_error(
                     "pgorm: the async connection is not connected (default-constructed, moved "
                     "from or closed)")),
                 std::nullopt);
    return;
  }
  {
    std::lock_guard lock(c->mu);
    if (!c->closed && c->pq != nullptr && PQconsumeInput(c->pq) != 0) {
      c->collect(out);  // what has arrived (non-blocking read)
    }
    if (!c->notes.empty()) {
      out.push_back({nullptr, nullptr, {}, std::move(op), std::move(c->notes.front())});
      c->notes.pop_front();
    } else if (c->closed || c->pq == nullptr) {
      out.push_back({nullptr,
                     make_connection_error("pgorm: the async connection is closed", c->secrets),
                     {},
                     std::move(op),
                     std::nullopt});
    } else if (c->note_waiter) {
      out.push_back({nullptr,
                     std::make_exception_ptr(usage_error(
                         "pgorm: async_next_notification() is already waiting on this connection; "
                         "one caller at a time takes its notifications")),
                     {},
                     std::move(op),
                     std::nullopt});
    } else if (timeout.count() <= 0) {
      out.push_back({nullptr, nullptr, {}, std::move(op), std::nullopt});  // nothing yet
    } else {
      const std::uint64_t seq = ++c->note_seq;
      auto slot = op->slot();
      if (slot.is_connected()) {
        slot.assign([w = c->weak_from_this(), seq](asio::cancellation_type type) {
          if (type == asio::cancellation_type::none) return;
          if (auto self = w.lock()) self->note_wait_ended(seq, true);
        });
      }
      c->note_waiter = std::move(op);
      if (timeout != no_timeout) {
        c->note_timer.expires_after(timeout);
        c->note_timer.async_wait(
            [w = c->weak_from_this(), seq](const boost::system::error_code& ec) {
              if (ec) return;
              if (auto self = w.lock()) self->note_wait_ended(seq, false);
            });
      }
      c->drive(out);
    }
  }
  core::post_all(out);
}

std::uint64_t pin(const std::shared_ptr<core>& c) {
  if (!c) {
    throw connection_error(
        "pgorm: the async connection is not connected (default-constructed, moved from or "
        "closed)");
  }
  std::lock_guard lock(c->mu);
  if (c->closed) throw connection_error("pgorm: the async connection is closed");
  if (c->pinned != 0) {
    throw usage_error(
        "pgorm: run_transaction() was called on an async connection that is already in a "
        "transaction; PostgreSQL does not nest BEGIN. Nest with tx.savepoint(...) instead, or "
        "run the second transaction on another connection; the running transaction was left as "
        "it was");
  }
  c->pinned = c->next_pin++;
  return c->pinned;
}

void unpin(const std::shared_ptr<core>& c, std::uint64_t id) noexcept {
  if (!c) return;
  std::lock_guard lock(c->mu);
  if (c->pinned == id) c->pinned = 0;
}

// ---- connecting ---------------------------------------------------------------------------------

namespace {

struct connect_op : std::enable_shared_from_this<connect_op> {
  connect_op(asio::any_io_executor e, std::string info, connect_options o,
             std::unique_ptr<connect_op_base> h)
      : ex(e),
        conninfo(std::move(info)),
        options(std::move(o)),
        handler(std::move(h)),
        socket(e),
        timer(e),
        secrets(pgorm::detail::conninfo_secrets(conninfo)) {}
  connect_op(const connect_op&) = delete;
  connect_op& operator=(const connect_op&) = delete;
  ~connect_op() {
    if (pq != nullptr) PQfinish(pq);
  }

  asio::any_io_executor ex;
  std::string conninfo;
  connect_options options;
  connect_options attempt_options;
  std::unique_ptr<connect_op_base> handler;
  asio::posix::stream_descriptor socket;
  int watched = -1;  // the libpq descriptor `socket` duplicates
  asio::steady_timer timer;
  std::vector<std::string> secrets;
  std::vector<std::string> hosts;
  std::size_t next_host = 0;
  std::string errors;
  PGconn* pq = nullptr;
  PostgresPollingStatusType state = PGRES_POLLING_WRITING;
  std::chrono::milliseconds timeout{0};
  bool done = false;
  std::size_t attempt = 0;  // ignores waits of an earlier attempt

  void start() {
    hosts = pgorm::detail::split_hosts(conninfo);
    if (hosts.empty()) hosts.push_back(conninfo);
    next_attempt();
  }

  std::string redacted() const { return pgorm::detail::redact_conninfo(conninfo); }

  void next_attempt() {
    if (next_host == hosts.size()) {
      fail(std::make_exception_ptr(connection_error(pgorm::detail::scrub_secrets(
          hosts.size() > 1
              ? fmt::format("pgorm: no host of {} took the connection: {}", redacted(), errors)
              : errors,
          secrets))));
      return;
    }
    ++attempt;
    const std::string& info = hosts[next_host++];
    if (pq != nullptr) {
      PQfinish(pq);
      pq = nullptr;
    }
    boost::system::error_code ignored;
    socket.close(ignored);
    watched = -1;
    try {
      attempt_options = options;
      pq = pgorm::detail::start_connect(info, attempt_options);
    } catch (...) {
      fail(std::current_exception());  // bad options: no other host would do better
      return;
    }
    if (PQstatus(pq) == CONNECTION_BAD) {
      attempt_failed("cannot connect");
      return;
    }
    timeout = attempt_options.connect_timeout;
    if (timeout.count() <= 0) timeout = pgorm::detail::libpq_connect_timeout(pq);
    timer.cancel();
    if (timeout.count() > 0) {
      timer.expires_after(timeout);
      timer.async_wait([self = shared_from_this(),
                        a = attempt](const boost::system::error_code& ec) {
        if (ec || self->done || a != self->attempt) return;
        self->record(fmt::format("pgorm: connecting to {} timed out after {} ms",
                                 pgorm::detail::redact_conninfo(self->hosts[self->next_host - 1]),
                                 self->timeout.count()));
        self->next_attempt();
      });
    }
    state = PGRES_POLLING_WRITING;
    wait();
  }

  void record(const std::string& error) {
    errors += errors.empty() ? "" : "; ";
    errors += error;
  }

  void attempt_failed(std::string_view what) {
    const std::string message = pgorm::detail::trim_message(PQerrorMessage(pq));
    record(fmt::format("pgorm: {} ({}): {}", what,
                       pgorm::detail::redact_conninfo(hosts[next_host - 1]), message));
    next_attempt();
  }

  void wait() {
    const int fd = PQsocket(pq);
    if (fd < 0) {
      attempt_failed("cannot connect");
      return;
    }
    try {
      if (watched < 0 || !same_socket(fd, socket.native_handle())) {
        boost::system::error_code ignored;
        socket.close(ignored);
        socket.assign(duplicate(fd));
        watched = fd;
      }
    } catch (const std::exception& e) {
      record(e.what());
      next_attempt();
      return;
    }
    socket.async_wait(
        state == PGRES_POLLING_READING ? asio::posix::stream_descriptor::wait_read
                                       : asio::posix::stream_descriptor::wait_write,
        [self = shared_from_this(), a = attempt](const boost::system::error_code& ec) {
          if (self->done || a != self->attempt) return;
          if (ec == asio::error::operation_aborted) return;
          self->poll();
        });
  }

  void poll() {
    state = PQconnectPoll(pq);
    if (state == PGRES_POLLING_FAILED) {
      attempt_failed("cannot connect");
      return;
    }
    if (state != PGRES_POLLING_OK) {
      wait();
      return;
    }
    succeed();
  }

  void succeed() {
    timer.cancel();
    auto c = std::make_shared<core>(ex);
    try {
      if (PQsetnonblocking(pq, 1) != 0) {
        pgorm::detail::throw_connection_error(pq,
                                              "cannot switch the connection to non-blocking "
                                              "mode",
                                              secrets);
      }
      if (PQenterPipelineMode(pq) != 1) {
        pgorm::detail::throw_connection_error(pq, "cannot enter pipeline mode", secrets);
      }
      c->description = pgorm::detail::describe_connection(pq);
      c->notices =
          pgorm::detail::receive_notices(pq, attempt_options.events, c->description, secrets);
      c->key = pgorm::detail::read_cancel_key(pq);
      c->socket.assign(duplicate(PQsocket(pq)));
    } catch (...) {
      fail(std::current_exception());
      return;
    }
    boost::system::error_code ignored;
    socket.close(ignored);
    c->pq = pq;
    pq = nullptr;
    c->options = std::move(attempt_options);
    c->secrets = std::move(secrets);
    done = true;
    deliver(nullptr, core::make(std::move(c)));
  }

  void fail(std::exception_ptr error) {
    done = true;
    timer.cancel();
    boost::system::error_code ignored;
    socket.close(ignored);
    deliver(std::move(error), pgorm::async::connection{});
  }

  void deliver(std::exception_ptr error, pgorm::async::connection conn) {
    auto h = std::move(handler);
    h->complete(false, std::move(error), std::move(conn));
  }
};

}  // namespace

void start_connect(asio::any_io_executor ex, std::string conninfo, connect_options options,
                   std::unique_ptr<connect_op_base> handler) {
  auto op =
      std::make_shared<connect_op>(ex, std::move(conninfo), std::move(options), std::move(handler));
  // Started from the executor, so that the handler never runs inside the initiating call.
  asio::post(ex, [op] { op->start(); });
}

}  // namespace detail

// ---- connection ---------------------------------------------------------------------------------

connection& connection::operator=(connection&& other) noexcept {
  if (this != &other) {
    close();
    core_ = std::move(other.core_);
  }
  return *this;
}

connection::~connection() { close(); }

void connection::close() noexcept {
  if (!core_) return;
  detail::completions out;
  {
    std::lock_guard lock(core_->mu);
    if (!core_->closed) {
      core_->fail_all(out, detail::make_connection_error(
                               "pgorm: the async connection was closed with the statement queued",
                               core_->secrets));
    }
  }
  core_->post_all(out);
  core_.reset();
}

bool connection::is_open() const noexcept {
  if (!core_) return false;
  std::lock_guard lock(core_->mu);
  return !core_->closed && core_->pq != nullptr && PQstatus(core_->pq) == CONNECTION_OK;
}

std::size_t connection::in_flight() const noexcept {
  if (!core_) return 0;
  std::lock_guard lock(core_->mu);
  return core_->queue.size();
}

transaction_status connection::status() const noexcept {
  if (!core_) return transaction_status::unknown;
  std::lock_guard lock(core_->mu);
  return core_->closed ? transaction_status::unknown
                       : pgorm::detail::transaction_status_of(core_->pq);
}

int connection::backend_pid() const noexcept {
  if (!core_) return 0;
  std::lock_guard lock(core_->mu);
  return core_->pq == nullptr ? 0 : PQbackendPID(core_->pq);
}

std::string connection::description() const {
  if (!core_) return {};
  std::lock_guard lock(core_->mu);
  return core_->description;
}

std::chrono::milliseconds connection::default_timeout() const noexcept {
  return core_ ? core_->options.query_timeout : std::chrono::milliseconds{0};
}

connection::executor_type connection::get_executor() const noexcept {
  return core_ ? core_->ex : executor_type{};
}

}  // namespace pgorm::async
