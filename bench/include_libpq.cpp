// SPDX-License-Identifier: MIT
// The `include` workload's baseline (bench/include_bench.hpp): hand-written libpq running the
// statement pgorm's include() renders, prepared once, with binary results decoded by hand: the
// users' columns, then each user's sessions from an array of records (array header, then per
// element a record: column count, and per column its type OID, length and bytes), sorted by id
// by hand as pgorm sorts them (the statement has no ORDER BY in its subquery).
#include <cstdint>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <arpa/inet.h>
#include <libpq-fe.h>

#include "include_bench.hpp"

namespace pgorm_bench {
namespace {

constexpr std::int64_t pg_epoch_us = 946'684'800'000'000;

std::int64_t get_i64(const char* p) {
  std::uint64_t v;
  std::memcpy(&v, p, sizeof v);
  return static_cast<std::int64_t>(be64toh(v));
}
std::int32_t get_i32(const char* p) {
  std::uint32_t v;
  std::memcpy(&v, p, sizeof v);
  return static_cast<std::int32_t>(ntohl(v));
}
timestamptz get_ts(const char* p) {
  return timestamptz{std::chrono::microseconds{get_i64(p) + pg_epoch_us}};
}

[[noreturn]] void bad(std::string_view what) {
  throw std::runtime_error("include libpq: " + std::string(what));
}

/// Reads one record column: skips the type OID, returns the bytes (nullptr for NULL).
const char* next_column(const char*& p, const char* end, std::int32_t& length) {
  if (end - p < 8) bad("truncated record");
  length = get_i32(p + 4);
  p += 8;
  if (length < 0) return nullptr;
  if (end - p < length) bad("truncated record");
  const char* data = p;
  p += length;
  return data;
}

/// One session of user `user_id` from one binary record of 4 columns: the statement leaves
/// user_id out of the records (it is the user's id).
void read_session(const char* p, const char* end, std::int64_t user_id, IncSession& s) {
  if (end - p < 4 || get_i32(p) != 4) bad("session record");
  p += 4;
  std::int32_t n = 0;
  s.id = get_i64(next_column(p, end, n));
  s.user_id = user_id;
  const char* token = next_column(p, end, n);
  s.token.assign(token, static_cast<std::size_t>(n));
  s.expires_at = get_ts(next_column(p, end, n));
  const char* ip = next_column(p, end, n);
  if (ip == nullptr) {
    s.ip_address.reset();
  } else {
    s.ip_address.emplace(ip, static_cast<std::size_t>(n));
  }
}

/// Sorts one user's sessions by id, as pgorm does after decoding: the statement leaves the
/// relation's order (by id, a NOT NULL bigint) to the client. An insertion sort: one
/// comparison per session when they come in order.
void sort_by_id(std::vector<IncSession>& sessions) {
  for (std::size_t i = 1; i < sessions.size(); ++i) {
    if (sessions[i].id >= sessions[i - 1].id) continue;
    IncSession moving = std::move(sessions[i]);
    std::size_t j = i;
    do {
      sessions[j] = std::move(sessions[j - 1]);
      --j;
    } while (j != 0 && moving.id < sessions[j - 1].id);
    sessions[j] = std::move(moving);
  }
}

/// The sessions of one user: a one-dimensional array of records (empty, or NULL, for none).
void read_sessions(const PGresult* res, int row, int col, std::int64_t user_id,
                   std::vector<IncSession>& out) {
  out.clear();
  if (PQgetisnull(res, row, col)) return;
  const char* p = PQgetvalue(res, row, col);
  const char* end = p + PQgetlength(res, row, col);
  if (end - p < 12) bad("array header");
  const std::int32_t ndim = get_i32(p);
  if (ndim == 0) return;
  if (ndim != 1 || end - p < 20) bad("array header");
  const std::int32_t count = get_i32(p + 12);
  p += 20;
  out.resize(static_cast<std::size_t>(count));
  for (std::int32_t i = 0; i < count; ++i) {
    if (end - p < 4) bad("array element");
    const std::int32_t length = get_i32(p);
    p += 4;
    if (length < 0 || end - p < length) bad("array element");
    read_session(p, p + length, user_id, out[static_cast<std::size_t>(i)]);
    p += length;
  }
  sort_by_id(out);
}

class include_libpq {
 public:
  include_libpq(const std::string& conninfo, const include_schema& schema)
      : conn_(PQconnectdb(conninfo.c_str())) {
    if (PQstatus(conn_) != CONNECTION_OK) {
      const std::string msg = PQerrorMessage(conn_);
      PQfinish(conn_);
      throw std::runtime_error("libpq connect: " + msg);
    }
    const std::string path = "SET search_path TO " + schema.name;
    PGresult* r = PQexec(conn_, path.c_str());
    bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    PQclear(r);
    const std::string text(include_pgorm_sql());
    if (ok) {
      r = PQprepare(conn_, "include", text.c_str(), 0, nullptr);
      ok = PQresultStatus(r) == PGRES_COMMAND_OK;
      PQclear(r);
    }
    if (!ok) {
      const std::string msg = PQerrorMessage(conn_);
      PQfinish(conn_);
      throw std::runtime_error("prepare: " + msg);
    }
  }
  include_libpq(const include_libpq&) = delete;
  include_libpq& operator=(const include_libpq&) = delete;
  include_libpq(include_libpq&&) = delete;
  include_libpq& operator=(include_libpq&&) = delete;
  ~include_libpq() { PQfinish(conn_); }

  std::vector<IncUserSessions> load() {
    PGresult* res = PQexecPrepared(conn_, "include", 0, nullptr, nullptr, nullptr, 1);
    const std::unique_ptr<PGresult, void (*)(PGresult*)> guard(res, PQclear);
    if (PQresultStatus(res) != PGRES_TUPLES_OK || PQnfields(res) != 7) {
      throw std::runtime_error(std::string("include: ") + PQerrorMessage(conn_));
    }
    const int rows = PQntuples(res);
    std::vector<IncUserSessions> out(static_cast<std::size_t>(rows));
    for (int r = 0; r < rows; ++r) {
      IncUserSessions& o = out[static_cast<std::size_t>(r)];
      IncUser& u = o.user;
      u.id = get_i64(PQgetvalue(res, r, 0));
      u.email.assign(PQgetvalue(res, r, 1), static_cast<std::size_t>(PQgetlength(res, r, 1)));
      if (PQgetisnull(res, r, 2)) {
        u.name.reset();
      } else {
        u.name.emplace(PQgetvalue(res, r, 2), static_cast<std::size_t>(PQgetlength(res, r, 2)));
      }
      u.age = get_i32(PQgetvalue(res, r, 3));
      u.is_email_verified = *PQgetvalue(res, r, 4) != 0;
      u.created_at = get_ts(PQgetvalue(res, r, 5));
      read_sessions(res, r, 6, u.id, o.sessions);
    }
    return out;
  }

  [[nodiscard]] int backend_pid() const { return PQbackendPID(conn_); }

  std::int64_t run() {
    std::int64_t n = 0;
    for (const IncUserSessions& u : load()) n += 1 + static_cast<std::int64_t>(u.sessions.size());
    return n;
  }

 private:
  PGconn* conn_;
};

}  // namespace

include_contender make_include_libpq_contender(const std::string& conninfo,
                                               const include_schema& schema) {
  auto p = std::make_shared<include_libpq>(conninfo, schema);
  return {"libpq", [p] { return p->run(); }, [p] { return p->load(); }, p->backend_pid()};
}

std::vector<include_contender> make_include_contenders(const std::string& conninfo,
                                                       const include_schema& schema) {
  std::vector<include_contender> all = make_include_pgorm_contenders(conninfo, schema);
  all.push_back(make_include_libpq_contender(conninfo, schema));
  const std::vector<IncUserSessions> expected = all.front().load();
  std::size_t sessions = 0;
  for (const auto& u : expected) sessions += u.sessions.size();
  if (expected.size() != 1000 || sessions == 0) bad("the include workload's data is missing");
  for (const auto& c : all) {
    if (c.load() != expected) bad(c.name + " loads other data than pgorm's include()");
  }
  return all;
}

}  // namespace pgorm_bench
