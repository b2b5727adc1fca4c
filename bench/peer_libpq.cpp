// SPDX-License-Identifier: MIT
// The baseline: hand-written libpq, as a careful engineer would write it. Statements are
// prepared once (PQprepare) and run with PQexecPrepared; parameters and results travel in
// binary and are decoded by hand; the pipeline uses libpq's pipeline mode; bulk insert is a
// hand-encoded binary COPY.
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <memory>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <arpa/inet.h>
#include <libpq-fe.h>

#include "bench.hpp"

namespace pgorm_bench {
namespace {

// Microseconds from 1970-01-01 to 2000-01-01: binary timestamps count from 2000 (PG docs 8.5).
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
void put_i64(char* p, std::int64_t v) {
  const std::uint64_t be = htobe64(static_cast<std::uint64_t>(v));
  std::memcpy(p, &be, sizeof be);
}
void put_i32(char* p, std::int32_t v) {
  const std::uint32_t be = htonl(static_cast<std::uint32_t>(v));
  std::memcpy(p, &be, sizeof be);
}
void append_i32(std::string& out, std::int32_t v) {
  char b[4];
  put_i32(b, v);
  out.append(b, 4);
}
void append_i16(std::string& out, std::int16_t v) {
  const std::uint16_t be = htons(static_cast<std::uint16_t>(v));
  char b[2];
  std::memcpy(b, &be, 2);
  out.append(b, 2);
}

/// Owns a PGresult.
struct result_ptr {
  PGresult* res;
  explicit result_ptr(PGresult* r) : res(r) {}
  result_ptr(const result_ptr&) = delete;
  result_ptr& operator=(const result_ptr&) = delete;
  ~result_ptr() { PQclear(res); }
};

[[noreturn]] void fail(PGconn* conn, std::string_view what) {
  throw std::runtime_error(std::string(what) + ": " + PQerrorMessage(conn));
}

void check(PGconn* conn, const result_ptr& r, ExecStatusType expected, std::string_view what) {
  if (PQresultStatus(r.res) != expected) fail(conn, what);
}

std::string_view value(const PGresult* res, int row, int col) {
  return {PQgetvalue(res, row, col), static_cast<std::size_t>(PQgetlength(res, row, col))};
}

timestamptz get_ts(const char* p) {
  return timestamptz{std::chrono::microseconds{get_i64(p) + pg_epoch_us}};
}

/// Decodes the 6 columns of users from `col` onwards.
void read_user(const PGresult* res, int row, int col, User& u) {
  u.id = get_i64(PQgetvalue(res, row, col));
  u.email.assign(value(res, row, col + 1));
  if (PQgetisnull(res, row, col + 2)) {
    u.name.reset();
  } else {
    u.name.emplace(value(res, row, col + 2));
  }
  u.age = get_i32(PQgetvalue(res, row, col + 3));
  u.is_email_verified = *PQgetvalue(res, row, col + 4) != 0;
  u.created_at = get_ts(PQgetvalue(res, row, col + 5));
}

/// How a libpq peer runs several point selects: plain (pipelined() in one pipeline,
/// concurrent_selects() one at a time), serial (pipelined() one at a time too), or pipeline
/// (concurrent_selects() in pipelines of `concurrency` selects).
enum class mode { plain, serial, pipeline };

class libpq_peer final : public peer {
 public:
  explicit libpq_peer(const std::string& conninfo, mode m = mode::plain)
      : conn_(PQconnectdb(conninfo.c_str())), mode_(m) {
    if (PQstatus(conn_) != CONNECTION_OK) {
      const std::string msg = PQerrorMessage(conn_);
      PQfinish(conn_);
      throw std::runtime_error("libpq connect: " + msg);
    }
    prepare("point", sql::point_select, 1, {20});
    prepare("session", sql::session_lookup, 1, {25});
    prepare("insert", sql::insert_returning, 5, {25, 25, 23, 16, 1184});
    prepare("scan", sql::scan, 0, {});
  }
  libpq_peer(const libpq_peer&) = delete;
  libpq_peer& operator=(const libpq_peer&) = delete;
  libpq_peer(libpq_peer&&) = delete;
  libpq_peer& operator=(libpq_peer&&) = delete;
  ~libpq_peer() override { PQfinish(conn_); }

  std::int64_t point_select(std::int64_t id) override {
    char key[8];
    put_i64(key, id);
    const char* values[1] = {key};
    const int lengths[1] = {8};
    const int formats[1] = {1};
    const result_ptr r(PQexecPrepared(conn_, "point", 1, values, lengths, formats, 1));
    check(conn_, r, PGRES_TUPLES_OK, "point select");
    if (PQntuples(r.res) == 0) return 0;
    User u;
    read_user(r.res, 0, 0, u);
    return u.age + static_cast<std::int64_t>(u.email.size());
  }

  std::int64_t session_lookup(const std::string& token) override {
    const char* values[1] = {token.c_str()};
    const int lengths[1] = {static_cast<int>(token.size())};
    const int formats[1] = {1};
    const result_ptr r(PQexecPrepared(conn_, "session", 1, values, lengths, formats, 1));
    check(conn_, r, PGRES_TUPLES_OK, "session lookup");
    if (PQntuples(r.res) == 0) return 0;
    Session s;
    s.id = get_i64(PQgetvalue(r.res, 0, 0));
    s.user_id = get_i64(PQgetvalue(r.res, 0, 1));
    s.token.assign(value(r.res, 0, 2));
    s.expires_at = get_ts(PQgetvalue(r.res, 0, 3));
    if (PQgetisnull(r.res, 0, 4)) {
      s.ip_address.reset();
    } else {
      s.ip_address.emplace(value(r.res, 0, 4));
    }
    User u;
    read_user(r.res, 0, 5, u);
    return s.user_id + u.age;
  }

  std::int64_t insert_returning(const User& row) override {
    char age[4];
    put_i32(age, row.age);
    const char verified = row.is_email_verified ? 1 : 0;
    char created[8];
    put_i64(created, row.created_at.time_since_epoch().count() - pg_epoch_us);
    const char* values[5] = {row.email.c_str(), row.name ? row.name->c_str() : nullptr, age,
                             &verified, created};
    const int lengths[5] = {static_cast<int>(row.email.size()),
                            row.name ? static_cast<int>(row.name->size()) : 0, 4, 1, 8};
    const int formats[5] = {1, 1, 1, 1, 1};
    const result_ptr r(PQexecPrepared(conn_, "insert", 5, values, lengths, formats, 1));
    check(conn_, r, PGRES_TUPLES_OK, "insert returning");
    return get_i64(PQgetvalue(r.res, 0, 0));
  }

  std::int64_t pipelined(std::span<const std::int64_t> ids) override {
    if (mode_ == mode::serial) {  // the same selects one round trip each: what pipelining saves
      std::int64_t sum = 0;
      for (const std::int64_t id : ids) sum += point_select(id);
      return sum;
    }
    return pipeline_batch(ids);
  }

  std::int64_t concurrent_selects(std::span<const std::int64_t> ids, int concurrency) override {
    if (mode_ != mode::pipeline) return peer::concurrent_selects(ids, concurrency);
    // What a careful engineer does with `concurrency` selects known together: one pipeline of
    // them, one sync point, then the results in order.
    const auto batch = static_cast<std::size_t>(concurrency);
    std::int64_t sum = 0;
    for (std::size_t at = 0; at < ids.size(); at += batch) {
      sum += pipeline_batch(ids.subspan(at, std::min(batch, ids.size() - at)));
    }
    return sum;
  }

  /// The point selects of `ids` in one pipeline with one sync point.
  std::int64_t pipeline_batch(std::span<const std::int64_t> ids) {
    keys_.resize(ids.size() * 8);
    if (PQenterPipelineMode(conn_) != 1) fail(conn_, "enter pipeline mode");
    const int lengths[1] = {8};
    const int formats[1] = {1};
    for (std::size_t i = 0; i < ids.size(); ++i) {
      char* key = keys_.data() + i * 8;
      put_i64(key, ids[i]);
      const char* values[1] = {key};
      if (PQsendQueryPrepared(conn_, "point", 1, values, lengths, formats, 1) != 1) {
        fail(conn_, "pipeline send");
      }
    }
    if (PQpipelineSync(conn_) != 1) fail(conn_, "pipeline sync");
    std::int64_t sum = 0;
    User u;
    for (std::size_t i = 0; i < ids.size(); ++i) {
      const result_ptr r(PQgetResult(conn_));
      check(conn_, r, PGRES_TUPLES_OK, "pipelined select");
      if (PQntuples(r.res) == 1) {
        read_user(r.res, 0, 0, u);
        sum += u.age + static_cast<std::int64_t>(u.email.size());
      }
      PQclear(PQgetResult(conn_));  // the NULL that ends each statement's results
    }
    {
      const result_ptr r(PQgetResult(conn_));
      check(conn_, r, PGRES_PIPELINE_SYNC, "pipeline sync result");
    }
    if (PQexitPipelineMode(conn_) != 1) fail(conn_, "exit pipeline mode");
    return sum;
  }

  std::int64_t scan() override {
    const result_ptr r(PQexecPrepared(conn_, "scan", 0, nullptr, nullptr, nullptr, 1));
    check(conn_, r, PGRES_TUPLES_OK, "scan");
    const int n = PQntuples(r.res);
    std::vector<User> rows(static_cast<std::size_t>(n));
    for (int i = 0; i < n; ++i) read_user(r.res, i, 0, rows[static_cast<std::size_t>(i)]);
    return static_cast<std::int64_t>(rows.size());
  }

  void prepare_bulk(std::span<const User> rows) override { bulk_ = rows; }

  std::int64_t bulk_insert() override {
    {
      const std::string copy = std::string(sql::copy_bulk) + " (FORMAT binary)";
      const result_ptr r(PQexec(conn_, copy.c_str()));
      check(conn_, r, PGRES_COPY_IN, "copy start");
    }
    constexpr std::size_t chunk = 256 * 1024;
    std::string buf;
    buf.reserve(chunk + 4096);
    buf.append("PGCOPY\n\377\r\n\0", 11);
    append_i32(buf, 0);  // flags
    append_i32(buf, 0);  // header extension length
    for (const User& u : bulk_) {
      append_i16(buf, 5);
      append_i32(buf, static_cast<std::int32_t>(u.email.size()));
      buf.append(u.email);
      if (u.name) {
        append_i32(buf, static_cast<std::int32_t>(u.name->size()));
        buf.append(*u.name);
      } else {
        append_i32(buf, -1);
      }
      append_i32(buf, 4);
      append_i32(buf, u.age);
      append_i32(buf, 1);
      buf.push_back(u.is_email_verified ? '\1' : '\0');
      append_i32(buf, 8);
      char ts[8];
      put_i64(ts, u.created_at.time_since_epoch().count() - pg_epoch_us);
      buf.append(ts, 8);
      if (buf.size() >= chunk) {
        if (PQputCopyData(conn_, buf.data(), static_cast<int>(buf.size())) != 1) {
          fail(conn_, "copy data");
        }
        buf.clear();
      }
    }
    append_i16(buf, -1);
    if (PQputCopyData(conn_, buf.data(), static_cast<int>(buf.size())) != 1) {
      fail(conn_, "copy data");
    }
    if (PQputCopyEnd(conn_, nullptr) != 1) fail(conn_, "copy end");
    const result_ptr r(PQgetResult(conn_));
    check(conn_, r, PGRES_COMMAND_OK, "copy");
    const std::int64_t n = std::stoll(PQcmdTuples(r.res));
    PQclear(PQgetResult(conn_));
    return n;
  }

  std::int64_t tpcb(const tpcb_args& a) override {
    if (!tpcb_prepared_) {
      prepare("t_acc", sql::tpcb_update_account, 2, {23, 23});
      prepare("t_bal", sql::tpcb_select_balance, 1, {23});
      prepare("t_tel", sql::tpcb_update_teller, 2, {23, 23});
      prepare("t_bra", sql::tpcb_update_branch, 2, {23, 23});
      prepare("t_his", sql::tpcb_insert_history, 4, {23, 23, 23, 23});
      tpcb_prepared_ = true;
    }
    char delta[4];
    char aid[4];
    char tid[4];
    char bid[4];
    put_i32(delta, a.delta);
    put_i32(aid, a.aid);
    put_i32(tid, a.tid);
    put_i32(bid, a.bid);
    const int len2[2] = {4, 4};
    const int fmt4[4] = {1, 1, 1, 1};
    const int len4[4] = {4, 4, 4, 4};
    simple("BEGIN");
    {
      const char* v[2] = {delta, aid};
      command("t_acc", 2, v, len2, fmt4);
    }
    std::int64_t balance = 0;
    {
      const char* v[1] = {aid};
      const result_ptr r(PQexecPrepared(conn_, "t_bal", 1, v, len2, fmt4, 1));
      check(conn_, r, PGRES_TUPLES_OK, "tpcb select");
      balance = get_i32(PQgetvalue(r.res, 0, 0));
    }
    {
      const char* v[2] = {delta, tid};
      command("t_tel", 2, v, len2, fmt4);
    }
    {
      const char* v[2] = {delta, bid};
      command("t_bra", 2, v, len2, fmt4);
    }
    {
      const char* v[4] = {tid, bid, aid, delta};
      command("t_his", 4, v, len4, fmt4);
    }
    simple("END");
    return balance;
  }

 private:
  void prepare(const char* name, std::string_view text, int n, std::vector<Oid> types) {
    const std::string s(text);
    const result_ptr r(
        PQprepare(conn_, name, s.c_str(), n, types.empty() ? nullptr : types.data()));
    check(conn_, r, PGRES_COMMAND_OK, name);
  }
  void simple(const char* text) {
    const result_ptr r(PQexec(conn_, text));
    check(conn_, r, PGRES_COMMAND_OK, text);
  }
  void command(const char* name, int n, const char* const* v, const int* len, const int* fmt) {
    const result_ptr r(PQexecPrepared(conn_, name, n, v, len, fmt, 1));
    if (PQresultStatus(r.res) != PGRES_COMMAND_OK) {
      const std::string msg = PQerrorMessage(conn_);
      simple("ROLLBACK");
      throw std::runtime_error(std::string(name) + ": " + msg);
    }
  }

  PGconn* conn_;
  std::vector<char> keys_;
  std::span<const User> bulk_;
  bool tpcb_prepared_ = false;
  mode mode_ = mode::plain;
};

}  // namespace

std::unique_ptr<peer> make_libpq_peer(const std::string& conninfo) {
  return std::make_unique<libpq_peer>(conninfo);
}
std::unique_ptr<peer> make_libpq_serial_peer(const std::string& conninfo) {
  return std::make_unique<libpq_peer>(conninfo, mode::serial);
}
std::unique_ptr<peer> make_libpq_pipeline_peer(const std::string& conninfo) {
  return std::make_unique<libpq_peer>(conninfo, mode::pipeline);
}

}  // namespace pgorm_bench
