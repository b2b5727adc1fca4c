// SPDX-License-Identifier: MIT
// The SOCI peer (built when soci/soci.h and the PostgreSQL backend are found): a prepared
// soci::statement with into()/use() bindings for point selects and inserts, and a
// rowset<row> for the scan, as SOCI's documentation shows. SOCI reads text format; its
// std::tm has whole seconds.
#include <chrono>
#include <cstdint>
#include <ctime>
#include <memory>
#include <string>
#include <vector>

#include <soci/postgresql/soci-postgresql.h>
#include <soci/soci.h>

#include "bench.hpp"

namespace pgorm_bench {
namespace {

timestamptz from_tm(std::tm tm) { return timestamptz{std::chrono::seconds{timegm(&tm)}}; }

class soci_peer final : public peer {
 public:
  explicit soci_peer(const std::string& conninfo)
      : sql_(*soci::factory_postgresql(), conninfo),
        point_((sql_.prepare << std::string(sql::point_select)
                                    .replace(std::string(sql::point_select).find("$1"), 2, ":id"),
                soci::into(out_.id), soci::into(out_.email), soci::into(name_, name_ind_),
                soci::into(out_.age), soci::into(verified_), soci::into(created_),
                soci::use(id_))) {}

  std::int64_t point_select(std::int64_t id) override {
    id_ = id;
    if (!point_.execute(true)) return 0;
    User u;
    u.id = out_.id;
    u.email = out_.email;
    if (name_ind_ == soci::i_ok) u.name = name_;
    u.age = out_.age;
    u.is_email_verified = verified_ != 0;
    u.created_at = from_tm(created_);
    return u.age + static_cast<std::int64_t>(u.email.size());
  }

  std::int64_t scan() override {
    const soci::rowset<soci::row> rs = (sql_.prepare << std::string(sql::scan));
    std::vector<User> rows;
    for (const soci::row& r : rs) {
      User u;
      u.id = r.get<long long>(0);
      u.email = r.get<std::string>(1);
      if (r.get_indicator(2) == soci::i_ok) u.name = r.get<std::string>(2);
      u.age = r.get<int>(3);
      u.is_email_verified = r.get<int>(4) != 0;
      u.created_at = from_tm(r.get<std::tm>(5));
      rows.push_back(std::move(u));
    }
    return static_cast<std::int64_t>(rows.size());
  }

 private:
  struct fetched {
    long long id = 0;
    std::string email;
    int age = 0;
  };
  soci::session sql_;
  fetched out_;
  std::string name_;
  soci::indicator name_ind_ = soci::i_null;
  int verified_ = 0;
  std::tm created_{};
  long long id_ = 0;
  soci::statement point_;
};

}  // namespace

std::unique_ptr<peer> make_soci_peer(const std::string& conninfo) {
  return std::make_unique<soci_peer>(conninfo);
}

}  // namespace pgorm_bench
