// SPDX-License-Identifier: MIT
// The async pool: the synchronous pool's policies (pool_options, jittered lifetimes, reconnect
// backoff, pool_timeout's reasons and texts, health checks, what is kept and what is reset on
// release, pool events, leak detection; the shared parts in src/pool_policy.hpp) driven by
// completions on an Asio executor instead of threads and condition variables.
//
// Read sharing (read_sharing): a builder's read waits in the same queue as acquires; once it
// reaches the front, or while nothing exclusive waits ahead of it, it joins the shared
// connection with the fewest reads in flight (or takes an idle one, which becomes shared). A
// shared connection goes back to the idle list when its last read completes.
//
// One mutex guards the state: calls may come from any thread of a multi-threaded io_context.
// Handlers and observers are never called with it held; acquire completions are always posted.
#include "pgorm/async/pool.hpp"

#include <algorithm>
#include <deque>
#include <list>
#include <mutex>
#include <optional>
#include <random>
#include <vector>

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <fmt/format.h>

#include "../pool_policy.hpp"

namespace pgorm::async {

namespace asio = boost::asio;
using clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

namespace detail {

namespace {

milliseconds to_ms(clock::duration d) noexcept {
  return std::chrono::duration_cast<milliseconds>(d);
}

template <class E>
std::exception_ptr with_cause(E error, const std::exception_ptr& cause) {
  if (cause) {
    try {
      std::rethrow_exception(cause);
    } catch (...) {
      try {
        std::throw_with_nested(std::move(error));
      } catch (...) {
        return std::current_exception();
      }
    }
  }
  return std::make_exception_ptr(std::move(error));
}

}  // namespace

bool poisons(const std::exception_ptr& e) noexcept {
  if (!e) return false;
  try {
    std::rethrow_exception(e);
  } catch (const pgorm::error& x) {
    return x.poisons_connection();
  } catch (...) {
    return false;
  }
}

struct waiter {
  std::uint64_t id = 0;
  std::unique_ptr<acquire_op> op;
  bool reset = true;
  clock::time_point start;
  clock::time_point deadline;
  std::uint64_t failures_before = 0;
  bool unanswered_check = false;
  std::source_location where;  // the acquire site, for leak detection
  // A shared read instead of an acquire: its statement and completion (op is then null).
  std::unique_ptr<request> read;
  std::unique_ptr<exec_op> read_op;
};

// An acquire's completion, collected under the mutex and posted after it.
struct handout {
  std::unique_ptr<acquire_op> op;
  std::exception_ptr error;
  pgorm::async::lease granted;
  std::unique_ptr<exec_op> read_op;  // a shared read's, failing instead (op is then null)
};

// A waiter that fails with `e`.
handout failed(waiter& w, std::exception_ptr e) {
  return {std::move(w.op), std::move(e), {}, std::move(w.read_op)};
}

// A shared read placed on a connection, submitted after the mutex.
struct placed_read {
  std::shared_ptr<core> on;
  std::unique_ptr<request> req;  // by pointer: a request holds its parameters inline (~1 KB)
  std::unique_ptr<exec_op> op;
};

// What a call collected under the mutex, delivered after it: acquire completions (posted) and
// pool events (emitted on this thread, as the synchronous pool does).
struct outbox {
  std::vector<handout> handouts;
  std::vector<std::pair<pool_event, std::string>> events;  // .first.detail views .second
  std::vector<std::string> leaks;                          // to stderr without an observer
  std::vector<placed_read> reads;                          // submitted after the mutex
};

std::string_view reason_name(pool_timeout_reason r) noexcept {
  switch (r) {
    case pool_timeout_reason::exhausted:
      return "exhausted";
    case pool_timeout_reason::unreachable:
      return "unreachable";
    case pool_timeout_reason::connecting:
      break;
  }
  return "connecting";
}

struct pool_state : std::enable_shared_from_this<pool_state> {
  pool_state(asio::any_io_executor e, std::string_view info, pool_options o, read_sharing rs)
      : ex(std::move(e)),
        conninfo(info),
        options(std::move(o)),
        sharing(rs),
        timer(ex),
        rng(std::random_device{}()),
        leaks(options.leak_threshold) {}

  asio::any_io_executor ex;
  const std::string conninfo;
  const pool_options options;
  const read_sharing sharing;

  mutable std::mutex mu;
  // All below guarded by mu.
  std::deque<std::unique_ptr<pooled>> idle;     // back = most recently returned
  std::vector<std::unique_ptr<pooled>> shared;  // with shared reads in flight (counted in in_use)
  std::size_t reads_now = 0;                    // shared reads in flight, over all of them
  std::list<waiter> waiters;                    // front = longest waiting
  std::uint64_t next_waiter = 1;
  std::size_t in_use = 0;      // leased, being checked or being reset
  std::size_t connecting = 0;  // attempts running
  std::size_t checking = 0;    // idle connections being health-checked (counted in in_use)
  bool closed = false;
  unsigned failures = 0;
  std::uint64_t failure_count = 0;
  clock::time_point next_attempt{};
  std::string last_connect_error;
  std::exception_ptr last_connect_exception;
  asio::steady_timer timer;
  clock::time_point timer_at = clock::time_point::max();
  std::mt19937_64 rng;
  pool_stats totals;
  pgorm::detail::leak_watch leaks;           // leases out, with a leak_threshold
  pgorm::detail::break_suspicion suspicion;  // idle connections to check after a break

  [[nodiscard]] std::size_t total() const { return in_use + idle.size() + connecting; }
  double random_unit() { return std::uniform_real_distribution<double>(0.0, 1.0)(rng); }

  std::unique_ptr<pooled> adopt(connection c) {
    const auto now = clock::now();
    const milliseconds lifetime =
        pgorm::detail::jittered_lifetime(options.max_lifetime, random_unit());
    return std::make_unique<pooled>(
        pooled{std::move(c), now, now + lifetime, now, false, 0, false});
  }

  pgorm::async::lease make_lease(std::unique_ptr<pooled> pc, bool reset) {
    return pgorm::async::lease(shared_from_this(), std::move(pc), reset);
  }

  void flush(outbox& out) const noexcept {
    for (handout& h : out.handouts) {
      if (h.read_op) {
        h.read_op->slot().clear();
        h.read_op->complete(true, std::move(h.error), result{});
        continue;
      }
      h.op->slot().clear();  // the wait is over: a later emit must not find it
      h.op->complete(true, std::move(h.error), std::move(h.granted));
    }
    out.handouts.clear();
    for (placed_read& r : out.reads) {
      r.op->slot().clear();  // the wait is over: the connection takes the slot now
      submit(r.on, std::move(r.req), std::move(r.op));
    }
    out.reads.clear();
    for (auto& [e, text] : out.events) {
      e.detail = text;
      pgorm::detail::emit_pool_event(options, e);
    }
    out.events.clear();
    pgorm::detail::warn_unobserved_leaks(options, out.leaks);
    out.leaks.clear();
  }

  // ---- under mu ----

  // A pool event with the counts of now, for an observer (none: nothing to collect).
  void note(outbox& out, pool_event_kind kind, std::string_view detail = {},
            clock::duration wait = {}) const {
    if (!options.connection.events) return;
    pool_event e{};
    e.kind = kind;
    e.wait = std::chrono::duration_cast<std::chrono::nanoseconds>(wait);
    e.in_use = in_use;
    e.idle = idle.size();
    e.waiting = waiters.size();
    out.events.emplace_back(e, std::string(detail));
  }

  pool_timeout timeout_error(const waiter& w, clock::time_point now) {
    pool_timeout_reason reason = pool_timeout_reason::exhausted;
    if ((failures > 0 && in_use < options.max_size) || w.unanswered_check) {
      reason = pool_timeout_reason::unreachable;
    } else if (connecting > 0) {
      reason = pool_timeout_reason::connecting;
    }
    ++totals.total_timeouts;
    const pool_timeout::counts counts{in_use, idle.size(), waiters.size() - 1, options.max_size};
    return pool_timeout{reason, to_ms(now - w.start), counts, last_connect_error};
  }

  // Hands idle connections to waiters, checks the ones idle too long, starts connection
  // attempts for the rest, and re-arms the timer.
  void serve(outbox& out) {
    const auto now = clock::now();
    while (!closed && !waiters.empty() && !idle.empty()) {
      std::unique_ptr<pooled> pc = std::move(idle.back());
      idle.pop_back();
      if (now >= pc->expires || !pc->conn.is_open()) {
        ++totals.total_closed;
        if (now < pc->expires) suspicion.broke(now);  // broken: its siblings may be too
        note(out, pool_event_kind::evict, now >= pc->expires ? "lifetime" : "broken");
        continue;  // closed as pc goes
      }
      if (!pc->checked && (now - pc->last_used > options.health_check_after ||
                           suspicion.suspects(pc->last_used, now))) {
        check(std::move(pc), waiters.front());
        continue;
      }
      pc->checked = false;
      waiter w = std::move(waiters.front());
      waiters.pop_front();
      ++in_use;
      ++totals.total_acquired;
      note(out, pool_event_kind::acquire, {}, now - w.start);
      if (w.read) {  // the connection becomes shared
        pooled& on = *pc;
        shared.push_back(std::move(pc));
        place(on, std::move(w.read), std::move(w.read_op), out);
        continue;
      }
      leaks.leased(pc.get(), now, w.where);
      out.handouts.push_back({std::move(w.op), nullptr, make_lease(std::move(pc), w.reset), {}});
    }
    // Reads at the front join shared connections; none skips an exclusive waiter, so that
    // shared connections drain and it gets the first one that does.
    while (!closed && !waiters.empty() && waiters.front().read) {
      pooled* on = least_busy(now);
      if (on == nullptr) break;
      waiter w = std::move(waiters.front());
      waiters.pop_front();
      place(*on, std::move(w.read), std::move(w.read_op), out);
    }
    fail_on_connect_failure(out);
    start_attempts(now);
    arm_timer();
  }

  // The open shared connection with the fewest reads in flight, below per_connection and
  // within its lifetime (none: nullptr).
  pooled* least_busy(clock::time_point now) const {
    pooled* best = nullptr;
    for (const auto& pc : shared) {
      if (pc->retired || pc->reads >= sharing.per_connection || now >= pc->expires) continue;
      if (best != nullptr && pc->reads >= best->reads) continue;
      if (pc->conn.is_open()) best = pc.get();
    }
    return best;
  }

  // Sends `req` on the shared connection `on` (after the mutex); `op` learns its outcome after
  // the pool has counted the read done.
  void place(pooled& on, std::unique_ptr<request> req, std::unique_ptr<exec_op> op, outbox& out);

  // A shared read on `pc` completed with `e`: when it was the last, the connection goes back
  // to the idle list, or is closed (poisoned, broken, past its lifetime, pool closed).
  void read_done(pooled* pc, const std::exception_ptr& e) {
    outbox out;
    std::unique_ptr<pooled> drop;
    {
      std::lock_guard lock(mu);
      --pc->reads;
      --reads_now;
      if (poisons(e)) pc->retired = true;
      if (pc->reads == 0) {
        const auto it =
            std::find_if(shared.begin(), shared.end(),
                         [pc](const std::unique_ptr<pooled>& p) { return p.get() == pc; });
        std::unique_ptr<pooled> back = std::move(*it);
        shared.erase(it);
        const pgorm::detail::returned_connection facts{.poisoned = back->retired,
                                                       .open = back->conn.is_open(),
                                                       .expired = clock::now() >= back->expires,
                                                       .pool_closed = closed};
        drop = take_back(std::move(back), pgorm::detail::close_reason(facts), out);
        serve(out);
      } else if (!waiters.empty()) {
        serve(out);  // room for a read that waits
      }
    }
    drop.reset();
    flush(out);
  }

  // A connection back from a lease or from its last shared read: kept idle, or closed for
  // `why` (close_reason(); "" keeps it). Returns it when closed (to destroy after the mutex).
  std::unique_ptr<pooled> take_back(std::unique_ptr<pooled> pc, std::string_view why, outbox& out) {
    --in_use;
    if (why.empty() && closed) why = "pool closed";
    note(out, pool_event_kind::release);
    if (why.empty()) {
      pc->last_used = clock::now();
      idle.push_back(std::move(pc));
      return nullptr;
    }
    ++totals.total_closed;
    // A broken connection hints that its idle siblings broke too (server restart).
    if (pgorm::detail::break_suspicion::hints_at_break(why)) suspicion.broke(clock::now());
    note(out, pool_event_kind::evict, why);
    return pc;
  }

  // A round trip on a connection idle longer than health_check_after, within what is left of
  // the front waiter's deadline: it goes back to the idle list as fresh, or is closed.
  void check(std::unique_ptr<pooled> pc, waiter& front) {
    ++in_use;
    ++checking;
    const auto left =
        std::max(milliseconds(1), std::chrono::ceil<milliseconds>(front.deadline - clock::now()));
    connection& c = pc->conn;
    const std::uint64_t for_waiter = front.id;
    auto done = [self = shared_from_this(), pc = std::move(pc), for_waiter](
                    const std::exception_ptr& e, const result& /*r*/) mutable {
      outbox out;
      {
        std::lock_guard lock(self->mu);
        --self->in_use;
        --self->checking;
        if (!e && !self->closed) {
          pc->checked = true;  // handed out next without another check
          pc->last_used = clock::now();
          self->idle.push_back(std::move(pc));
        } else {
          ++self->totals.total_closed;
          const bool out_of_time = e && clock::now() >= self->deadline_of(for_waiter);
          if (out_of_time) {
            for (waiter& w : self->waiters) {
              if (w.id == for_waiter) w.unanswered_check = true;
            }
          }
          if (e && !out_of_time) self->suspicion.broke(clock::now());
          self->note(out, pool_event_kind::evict,
                     !e            ? "pool closed"
                     : out_of_time ? "unchecked"
                                   : "broken");
        }
        self->serve(out);
      }
      pc.reset();
      self->flush(out);
    };
    // An empty query, unnamed (not a statement for the connection's cache, unlike
    // async_exec() with parameters).
    submit(access::core_of(c), request("", {}, data_format::text, left),
           std::make_unique<op_impl<decltype(done), std::exception_ptr, result>>(std::move(done),
                                                                                 c.get_executor()));
  }

  clock::time_point deadline_of(std::uint64_t id) const {
    for (const waiter& w : waiters) {
      if (w.id == id) return w.deadline;
    }
    return clock::time_point::max();
  }

  // An attempt failed while these waiters waited, none is running and nothing is idle: they
  // fail now with the cause rather than wait out their timeout (as the synchronous pool).
  void fail_on_connect_failure(outbox& out) {
    if (failures == 0 || connecting > 0 || !idle.empty()) return;
    for (auto it = waiters.begin(); it != waiters.end();) {
      if (it->failures_before == failure_count) {
        ++it;
        continue;
      }
      out.handouts.push_back(failed(
          *it,
          with_cause(pool_connect_error{fmt::format(
                         "pgorm: the pool could not open a connection: {}", last_connect_error)},
                     last_connect_exception)));
      it = waiters.erase(it);
    }
  }

  // As the synchronous pool: one attempt per waiter and per missing min_idle connection, less
  // the idle ones and the attempts running, within max_size; after a failure one at a time,
  // once the backoff has passed.
  void start_attempts(clock::time_point now) {
    if (closed) return;
    const std::size_t wanted = waiters.size() + options.min_idle;
    const std::size_t have = idle.size() + connecting + checking;
    if (wanted <= have || total() >= options.max_size) return;
    std::size_t n = std::min(wanted - have, options.max_size - total());
    if (failures > 0) n = connecting == 0 && now >= next_attempt ? 1 : 0;
    for (; n > 0; --n) {
      ++connecting;
      connection::async_connect(ex, conninfo, options.connection,
                                [self = shared_from_this()](std::exception_ptr e, connection c) {
                                  self->connected(std::move(e), std::move(c));
                                });
    }
  }

  // ---- completions ----

  void connected(std::exception_ptr error, connection c) {
    outbox out;
    std::unique_ptr<pooled> drop;
    std::string description;
    if (!error && options.connection.events) {
      try {
        description = c.description();
      } catch (...) {  // NOLINT(bugprone-empty-catch): the event goes without it
      }
    }
    {
      std::lock_guard lock(mu);
      --connecting;
      if (!error) {
        failures = 0;
        ++totals.total_opened;
        note(out, pool_event_kind::connect, description);
        auto pc = adopt(std::move(c));
        if (closed) {
          ++totals.total_closed;
          drop = std::move(pc);
        } else {
          idle.push_back(std::move(pc));
        }
      } else if (!closed) {
        ++failures;
        ++failure_count;
        ++totals.total_connect_failures;
        try {
          std::rethrow_exception(error);
        } catch (const std::exception& x) {
          last_connect_error = x.what();
        } catch (...) {
          last_connect_error = "pgorm: connecting failed";
        }
        last_connect_exception = error;
        note(out, pool_event_kind::connect_failed, last_connect_error);
        next_attempt = clock::now() +
                       pgorm::detail::reconnect_delay(failures, options.reconnect_backoff,
                                                      options.reconnect_backoff_max, random_unit());
      }
      serve(out);
    }
    drop.reset();
    flush(out);
  }

  // A lease's connection is back; `why` (close_reason()) says why it is closed, "" keeps it.
  void returned(std::unique_ptr<pooled> pc, std::string_view why) {
    outbox out;
    {
      std::lock_guard lock(mu);
      leaks.returned(pc.get());
      pc = take_back(std::move(pc), why, out);
      serve(out);
    }
    pc.reset();
    flush(out);
  }

  // ---- the timer: waiters' deadlines, the reconnect backoff, idle and lifetime eviction ----

  void arm_timer() {
    clock::time_point at = clock::time_point::max();
    for (const waiter& w : waiters) at = std::min(at, w.deadline);
    if (!waiters.empty() && failures > 0 && connecting == 0 && total() < options.max_size) {
      at = std::min(at, next_attempt);
    }
    at = std::min(at, leaks.next_due());
    if (!idle.empty() || options.min_idle > 0) {
      const milliseconds shortest = std::min(options.idle_timeout, options.max_lifetime);
      at = std::min(at,
                    clock::now() + std::clamp(shortest / 4, milliseconds(10), milliseconds(1000)));
    }
    if (closed || at == clock::time_point::max()) {
      if (timer_at != clock::time_point::max()) timer.cancel();
      timer_at = clock::time_point::max();
      return;
    }
    if (at >= timer_at) return;
    timer_at = at;
    timer.expires_at(at);
    timer.async_wait([w = weak_from_this()](const boost::system::error_code& ec) {
      if (ec) return;
      if (auto self = w.lock()) self->on_timer();
    });
  }

  void on_timer() {
    outbox out;
    std::vector<std::pair<std::unique_ptr<pooled>, std::string_view>> doomed;
    {
      std::lock_guard lock(mu);
      timer_at = clock::time_point::max();
      if (closed) return;
      const auto now = clock::now();
      for (auto it = waiters.begin(); it != waiters.end();) {
        if (now < it->deadline) {
          ++it;
          continue;
        }
        pool_timeout error = timeout_error(*it, now);
        const pool_timeout_reason reason = error.reason();
        const auto waited = now - it->start;
        out.handouts.push_back(
            failed(*it, with_cause(std::move(error), reason == pool_timeout_reason::unreachable
                                                         ? last_connect_exception
                                                         : nullptr)));
        it = waiters.erase(it);
        note(out, pool_event_kind::timeout, reason_name(reason), waited);
      }
      for (auto it = idle.begin(); it != idle.end();) {
        if (now >= (*it)->expires) {
          doomed.emplace_back(std::move(*it), "lifetime");
          it = idle.erase(it);
        } else {
          ++it;
        }
      }
      while (idle.size() > options.min_idle &&
             now - idle.front()->last_used > options.idle_timeout) {
        doomed.emplace_back(std::move(idle.front()), "idle");
        idle.pop_front();
      }
      totals.total_closed += doomed.size();
      for (const auto& d : doomed) note(out, pool_event_kind::evict, d.second);
      out.leaks = leaks.overdue(now);
      for (const auto& text : out.leaks) note(out, pool_event_kind::leak_suspected, text);
      serve(out);
    }
    doomed.clear();
    flush(out);
  }

  // The acquire `id` was cancelled through its slot: it stops waiting now.
  void cancel_waiter(std::uint64_t id) {
    outbox out;
    {
      std::lock_guard lock(mu);
      const auto it = std::find_if(waiters.begin(), waiters.end(),
                                   [id](const waiter& w) { return w.id == id; });
      if (it == waiters.end()) return;
      out.handouts.push_back(
          failed(*it, std::make_exception_ptr(boost::system::system_error(
                          asio::error::operation_aborted,
                          "pgorm: the acquire was cancelled while it waited for a connection"))));
      waiters.erase(it);
      arm_timer();
    }
    flush(out);
  }

  void close() noexcept {
    outbox out;
    std::deque<std::unique_ptr<pooled>> doomed;
    {
      std::lock_guard lock(mu);
      if (closed) return;
      closed = true;
      doomed.swap(idle);
      totals.total_closed += doomed.size();
      for (std::size_t i = 0; i < doomed.size(); ++i) {
        note(out, pool_event_kind::evict, "pool closed");
      }
      for (waiter& w : waiters) {
        out.handouts.push_back(failed(
            w, std::make_exception_ptr(
                   usage_error("pgorm: the async pool was closed while this acquire waited"))));
      }
      waiters.clear();
      timer.cancel();
      timer_at = clock::time_point::max();
    }
    doomed.clear();
    flush(out);
  }
};

// A shared read's completion: the pool counts the read done (and may take the connection
// back), then the awaiter's operation completes.
class shared_read_op final : public exec_op {
 public:
  shared_read_op(std::shared_ptr<pool_state> state, pooled* on, std::unique_ptr<exec_op> inner)
      : state_(std::move(state)), on_(on), inner_(std::move(inner)) {}
  void complete(bool defer, std::exception_ptr e, result r) override {
    state_->read_done(on_, e);
    state_.reset();
    inner_->complete(defer, std::move(e), std::move(r));
  }
  [[nodiscard]] asio::cancellation_slot slot() const noexcept override { return inner_->slot(); }

 private:
  std::shared_ptr<pool_state> state_;
  pooled* on_;  // in state_->shared until this read (among others) is done
  std::unique_ptr<exec_op> inner_;
};

void pool_state::place(pooled& on, std::unique_ptr<request> req, std::unique_ptr<exec_op> op,
                       outbox& out) {
  ++on.reads;
  ++reads_now;
  out.reads.push_back({pgorm::async::detail::access::core_of(on.conn), std::move(req),
                       std::make_unique<shared_read_op>(shared_from_this(), &on, std::move(op))});
}

bool shares_reads(const std::shared_ptr<pool_state>& state) noexcept {
  return state->sharing.per_connection > 0;
}

// Queues `w` (an acquire, or a shared read waiting for room) with its deadline, lets its
// cancellation slot take it out of the queue, and serves the queue. Under state->mu.
void queue_waiter(const std::shared_ptr<pool_state>& state, waiter&& w, clock::time_point start,
                  milliseconds timeout, asio::cancellation_slot slot, outbox& out) {
  w.id = state->next_waiter++;
  w.start = start;
  w.deadline = start + timeout;
  w.failures_before = state->failure_count;
  if (slot.is_connected()) {
    slot.assign([weak = std::weak_ptr<pool_state>(state), id = w.id](asio::cancellation_type type) {
      if (type == asio::cancellation_type::none) return;
      if (auto self = weak.lock()) self->cancel_waiter(id);
    });
  }
  state->waiters.push_back(std::move(w));
  state->serve(out);
}

void start_shared_read(const std::shared_ptr<pool_state>& state, std::unique_ptr<request> req,
                       std::unique_ptr<exec_op> op) {
  outbox out;
  {
    std::lock_guard lock(state->mu);
    const auto now = clock::now();
    pooled* on = nullptr;
    if (state->closed) {
      out.handouts.push_back(
          {nullptr,
           std::make_exception_ptr(usage_error("pgorm: a read on a closed async pool")),
           {},
           std::move(op)});
    } else if (state->waiters.empty() && state->idle.empty() &&
               (on = state->least_busy(now)) != nullptr) {
      state->place(*on, std::move(req), std::move(op), out);  // nothing waits: join at once
    } else {
      waiter w;
      w.read = std::move(req);
      w.read_op = std::move(op);
      const asio::cancellation_slot slot = w.read_op->slot();
      queue_waiter(state, std::move(w), now, state->options.acquire_timeout, slot, out);
    }
  }
  state->flush(out);
}

void start_acquire(const std::shared_ptr<pool_state>& state, milliseconds timeout, bool reset,
                   std::unique_ptr<acquire_op> op, std::source_location where) {
  outbox out;
  {
    std::lock_guard lock(state->mu);
    if (state->closed) {
      out.handouts.push_back(
          {std::move(op),
           std::make_exception_ptr(usage_error("pgorm: acquire on a closed async pool")),
           {},
           {}});
    } else {
      waiter w;
      w.op = std::move(op);
      w.reset = reset;
      w.where = where;
      const asio::cancellation_slot slot = w.op->slot();
      queue_waiter(state, std::move(w), clock::now(),
                   timeout.count() > 0 ? timeout : state->options.acquire_timeout, slot, out);
    }
  }
  state->flush(out);
}

void give_back(const std::shared_ptr<pool_state>& state, std::unique_ptr<pooled> pc, bool poisoned,
               bool reset) noexcept {
  pgorm::detail::returned_connection facts{
      .poisoned = poisoned, .open = pc->conn.is_open(), .expired = clock::now() >= pc->expires};
  facts.in_transaction = facts.open && pc->conn.status() != transaction_status::idle;
  {
    std::lock_guard lock(state->mu);
    facts.pool_closed = state->closed;
  }
  std::string_view why = pgorm::detail::close_reason(facts);
  if (why.empty() && pgorm::detail::resets_before_reuse(reset, state->options)) {
    // The borrower ran raw SQL: DISCARD ALL drops its session state (settings, temporary
    // tables, prepared statements, advisory locks, LISTEN) before the next borrower.
    const milliseconds t = state->options.reset_timeout;
    connection& c = pc->conn;
    try {
      c.async_exec(
          "DISCARD ALL", {}, data_format::text, t,
          [state, pc = std::move(pc)](const std::exception_ptr& e, const result& /*r*/) mutable {
            state->returned(std::move(pc), e ? "reset failed" : "");
          });
      return;
    } catch (...) {  // no memory for the operation: closed below
      why = "reset failed";
    }
  }
  state->returned(std::move(pc), why);
}

const std::shared_ptr<pool_state>& pool_access::state_of(const pool& p) noexcept {
  return p.state_;
}

}  // namespace detail

// ---- pool ---------------------------------------------------------------------------------------

pool::pool(executor_type ex, std::string_view conninfo, pool_options options,
           read_sharing sharing) {
  if (options.max_size == 0) throw usage_error("pgorm: pool_options::max_size must be at least 1");
  if (options.min_idle > options.max_size) {
    throw usage_error(fmt::format("pgorm: pool_options::min_idle ({}) exceeds max_size ({})",
                                  options.min_idle, options.max_size));
  }
  state_ =
      std::make_shared<detail::pool_state>(std::move(ex), conninfo, std::move(options), sharing);
  if (state_->options.min_idle > 0) {
    detail::outbox out;
    std::lock_guard lock(state_->mu);
    state_->serve(out);  // starts the min_idle attempts; nobody waits yet
  }
}

pool::~pool() { close(); }

pool_stats pool::stats() const {
  std::lock_guard lock(state_->mu);
  pool_stats s = state_->totals;
  s.in_use = state_->in_use;
  s.idle = state_->idle.size();
  s.waiting = state_->waiters.size();
  return s;
}

void pool::close() noexcept { state_->close(); }

bool pool::closed() const noexcept {
  std::lock_guard lock(state_->mu);
  return state_->closed;
}

const pool_options& pool::options() const noexcept { return state_->options; }

pool::executor_type pool::get_executor() const noexcept { return state_->ex; }

const read_sharing& pool::sharing() const noexcept { return state_->sharing; }

std::size_t pool::reads_in_flight() const {
  std::lock_guard lock(state_->mu);
  return state_->reads_now;
}

}  // namespace pgorm::async
