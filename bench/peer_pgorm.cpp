// SPDX-License-Identifier: MIT
// The pgorm peer: each workload written the way the docs teach (find, select/join, insert with
// returning, pipeline::add_each, select().all(), insert(range) / copy_in, transaction()).
#include <cstdint>
#include <memory>
#include <string>
#include <tuple>
#include <vector>

#include "bench.hpp"
#include "pgorm/pgorm.hpp"
#include "pgorm_tables.hpp"

namespace pgorm_bench {

/// users_bulk has the columns of users; a distinct struct names the other table.
struct BulkUser {
  std::int64_t id = 0;
  std::string email;
  std::optional<std::string> name;
  std::int32_t age = 0;
  bool is_email_verified = false;
  timestamptz created_at{};
};

// The pgbench tables (pgbench -i); the filler columns are left unmapped.
struct Account {
  std::int32_t aid;
  std::int32_t bid;
  std::int32_t abalance;
};
struct Teller {
  std::int32_t tid;
  std::int32_t bid;
  std::int32_t tbalance;
};
struct Branch {
  std::int32_t bid;
  std::int32_t bbalance;
};
struct History {
  std::int32_t tid;
  std::int32_t bid;
  std::int32_t aid;
  std::int32_t delta;
  pgorm::defaulted<pgorm::timestamp> mtime{};  // CURRENT_TIMESTAMP, as the libpq peer
};

}  // namespace pgorm_bench

template <>
struct pgorm::table_traits<pgorm_bench::BulkUser> {
  static constexpr std::string_view name = "users_bulk";
  static constexpr auto primary_key = pgorm::identity(&pgorm_bench::BulkUser::id);
};
template <>
struct pgorm::table_traits<pgorm_bench::Account> {
  static constexpr std::string_view name = "pgbench_accounts";
  static constexpr auto primary_key = pgorm::key(&pgorm_bench::Account::aid);
};
template <>
struct pgorm::table_traits<pgorm_bench::Teller> {
  static constexpr std::string_view name = "pgbench_tellers";
  static constexpr auto primary_key = pgorm::key(&pgorm_bench::Teller::tid);
};
template <>
struct pgorm::table_traits<pgorm_bench::Branch> {
  static constexpr std::string_view name = "pgbench_branches";
  static constexpr auto primary_key = pgorm::key(&pgorm_bench::Branch::bid);
};
template <>
struct pgorm::table_traits<pgorm_bench::History> {
  static constexpr std::string_view name = "pgbench_history";
  static constexpr auto defaults =
      pgorm::defaults(pgorm::default_sql(&pgorm_bench::History::mtime, "CURRENT_TIMESTAMP"));
};

namespace pgorm_bench {
namespace {

using pgorm::col;

enum class variant { plain, copy_in, serial };

class pgorm_peer final : public peer {
 public:
  pgorm_peer(const std::string& conninfo, variant v) : conn_(conninfo), variant_(v) {}

  std::int64_t point_select(std::int64_t id) override {
    const std::optional<User> u = pgorm::find<User>(conn_, id);
    return u ? u->age + static_cast<std::int64_t>(u->email.size()) : 0;
  }

  std::int64_t session_lookup(const std::string& token) override {
    const auto found =
        pgorm::select<Session, User>()
            .join<User>(col<&User::id> == col<&Session::user_id>)
            .where(col<&Session::token> == token && col<&Session::expires_at> > pgorm::now())
            .first(conn_);
    if (!found) return 0;
    const auto& [s, u] = *found;
    return s.user_id + u.age;
  }

  std::int64_t insert_returning(const User& row) override {
    const auto [id] = pgorm::insert(row).returning(col<&User::id>).one(conn_);
    return id;
  }

  std::int64_t pipelined(std::span<const std::int64_t> ids) override {
    std::int64_t sum = 0;
    if (variant_ == variant::serial) {
      for (const std::int64_t id : ids) sum += point_select(id);
      return sum;
    }
    pgorm::pipeline p{conn_};
    const auto handles = p.add_each(
        ids, [](std::int64_t id) { return pgorm::select<User>().where(col<&User::id> == id); });
    p.run();
    for (const auto& h : handles) {
      if (const std::optional<User> u = h.first()) {
        sum += u->age + static_cast<std::int64_t>(u->email.size());
      }
    }
    return sum;
  }

  std::int64_t scan() override {
    const std::vector<User> rows = pgorm::select<User>().all(conn_);
    return static_cast<std::int64_t>(rows.size());
  }

  void prepare_bulk(std::span<const User> rows) override {
    bulk_.clear();
    bulk_.reserve(rows.size());
    for (const User& u : rows) {
      bulk_.push_back(BulkUser{0, u.email, u.name, u.age, u.is_email_verified, u.created_at});
    }
  }

  std::int64_t bulk_insert() override {
    if (variant_ == variant::copy_in) return pgorm::copy_in(conn_, bulk_);
    return pgorm::insert(bulk_).exec(conn_);
  }

  std::int64_t tpcb(const tpcb_args& a) override {
    return conn_.transaction([&](pgorm::transaction& tx) {
      tx.update<Account>()
          .set(col<& Account::abalance> = col<&Account::abalance> + a.delta)
          .where(col<&Account::aid> == a.aid)
          .exec();
      const auto [balance] =
          tx.select(col<&Account::abalance>).where(col<&Account::aid> == a.aid).one();
      tx.update<Teller>()
          .set(col<& Teller::tbalance> = col<&Teller::tbalance> + a.delta)
          .where(col<&Teller::tid> == a.tid)
          .exec();
      tx.update<Branch>()
          .set(col<& Branch::bbalance> = col<&Branch::bbalance> + a.delta)
          .where(col<&Branch::bid> == a.bid)
          .exec();
      tx.insert(History{.tid = a.tid, .bid = a.bid, .aid = a.aid, .delta = a.delta}).exec();
      return static_cast<std::int64_t>(balance);
    });
  }

 private:
  pgorm::connection conn_;
  variant variant_;
  std::vector<BulkUser> bulk_;
};

}  // namespace

std::unique_ptr<peer> make_pgorm_peer(const std::string& conninfo) {
  return std::make_unique<pgorm_peer>(conninfo, variant::plain);
}
std::unique_ptr<peer> make_pgorm_copy_in_peer(const std::string& conninfo) {
  return std::make_unique<pgorm_peer>(conninfo, variant::copy_in);
}
std::unique_ptr<peer> make_pgorm_serial_peer(const std::string& conninfo) {
  return std::make_unique<pgorm_peer>(conninfo, variant::serial);
}

/// The SQL pgorm renders for each workload, printed by `pgorm_bench --show-sql`.
std::vector<std::string> pgorm_sql_texts() {
  std::vector<std::string> out;
  out.push_back(pgorm::select<User>().where(col<&User::id> == std::int64_t{1}).to_sql().sql);
  out.push_back(pgorm::select<Session, User>()
                    .join<User>(col<&User::id> == col<&Session::user_id>)
                    .where(col<&Session::token> == std::string("t") &&
                           col<&Session::expires_at> > pgorm::now())
                    .to_sql()
                    .sql);
  out.push_back(pgorm::insert(User{}).returning(col<&User::id>).to_sql().sql);
  out.push_back(pgorm::select<User>().to_sql().sql);
  out.push_back(pgorm::insert(History{}).to_sql().sql);
  return out;
}

}  // namespace pgorm_bench
