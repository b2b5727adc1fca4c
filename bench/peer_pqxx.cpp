// SPDX-License-Identifier: MIT
// The libpqxx peer (built when pkg-config finds libpqxx): prepared statements through
// exec_prepared, a nontransaction for single statements (no BEGIN/COMMIT round trips), a
// pqxx::work for TPC-B. libpqxx 6 and 7 read results in text format; fields convert with
// as<T>(), and timestamps are parsed by hand (libpqxx has no timestamptz conversion).
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <pqxx/pqxx>

#include "bench.hpp"

namespace pgorm_bench {
namespace {

void read_user(const pqxx::row& row, pqxx::row::size_type col, User& u) {
  u.id = row[col].as<std::int64_t>();
  u.email = row[col + 1].c_str();
  if (row[col + 2].is_null()) {
    u.name.reset();
  } else {
    u.name.emplace(row[col + 2].c_str(), row[col + 2].size());
  }
  u.age = row[col + 3].as<std::int32_t>();
  u.is_email_verified = row[col + 4].as<bool>();
  u.created_at =
      parse_timestamptz_text(std::string_view(row[col + 5].c_str(), row[col + 5].size()));
}

std::string timestamptz_text(timestamptz t) {
  using namespace std::chrono;
  const auto day = floor<days>(t);
  const year_month_day ymd{day};
  const hh_mm_ss<microseconds> tod{t - day};
  return fmt::format("{:04}-{:02}-{:02} {:02}:{:02}:{:02}.{:06}+00", static_cast<int>(ymd.year()),
                     static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                     tod.hours().count(), tod.minutes().count(), tod.seconds().count(),
                     tod.subseconds().count());
}

class pqxx_peer final : public peer {
 public:
  explicit pqxx_peer(const std::string& conninfo) : conn_(conninfo) {
    conn_.prepare("point", std::string(sql::point_select));
    conn_.prepare("session", std::string(sql::session_lookup));
    conn_.prepare("insert", std::string(sql::insert_returning));
    conn_.prepare("scan", std::string(sql::scan));
    conn_.prepare("t_acc", std::string(sql::tpcb_update_account));
    conn_.prepare("t_bal", std::string(sql::tpcb_select_balance));
    conn_.prepare("t_tel", std::string(sql::tpcb_update_teller));
    conn_.prepare("t_bra", std::string(sql::tpcb_update_branch));
    conn_.prepare("t_his", std::string(sql::tpcb_insert_history));
  }

  std::int64_t point_select(std::int64_t id) override {
    pqxx::nontransaction tx(conn_);
    const pqxx::result r = tx.exec_prepared("point", id);
    if (r.empty()) return 0;
    User u;
    read_user(r[0], 0, u);
    return u.age + static_cast<std::int64_t>(u.email.size());
  }

  std::int64_t session_lookup(const std::string& token) override {
    pqxx::nontransaction tx(conn_);
    const pqxx::result r = tx.exec_prepared("session", token);
    if (r.empty()) return 0;
    const pqxx::row row = r[0];
    Session s;
    s.id = row[0].as<std::int64_t>();
    s.user_id = row[1].as<std::int64_t>();
    s.token = row[2].c_str();
    s.expires_at = parse_timestamptz_text(std::string_view(row[3].c_str(), row[3].size()));
    if (row[4].is_null()) {
      s.ip_address.reset();
    } else {
      s.ip_address.emplace(row[4].c_str(), row[4].size());
    }
    User u;
    read_user(row, 5, u);
    return s.user_id + u.age;
  }

  std::int64_t insert_returning(const User& row) override {
    pqxx::nontransaction tx(conn_);
    const char* name = row.name ? row.name->c_str() : nullptr;
    const pqxx::result r =
        tx.exec_prepared("insert", row.email, name, row.age, row.is_email_verified,
                         timestamptz_text(row.created_at));
    return r[0][0].as<std::int64_t>();
  }

  std::int64_t scan() override {
    pqxx::nontransaction tx(conn_);
    const pqxx::result r = tx.exec_prepared("scan");
    std::vector<User> rows(r.size());
    std::size_t i = 0;
    for (const auto& row : r) read_user(row, 0, rows[i++]);
    return static_cast<std::int64_t>(rows.size());
  }

  std::int64_t tpcb(const tpcb_args& a) override {
    pqxx::work tx(conn_);
    tx.exec_prepared("t_acc", a.delta, a.aid);
    const pqxx::result r = tx.exec_prepared("t_bal", a.aid);
    const auto balance = r[0][0].as<std::int64_t>();
    tx.exec_prepared("t_tel", a.delta, a.tid);
    tx.exec_prepared("t_bra", a.delta, a.bid);
    tx.exec_prepared("t_his", a.tid, a.bid, a.aid, a.delta);
    tx.commit();
    return balance;
  }

 private:
  pqxx::connection conn_;
};

}  // namespace

std::unique_ptr<peer> make_pqxx_peer(const std::string& conninfo) {
  return std::make_unique<pqxx_peer>(conninfo);
}

}  // namespace pgorm_bench
