// SPDX-License-Identifier: MIT
// The `include` workload's pgorm contenders (bench/include_bench.hpp): include() in one
// statement, the N+1 loop a user writes without it, and a flat left join folded by hand.
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "include_bench.hpp"
#include "pgorm/pgorm.hpp"
#include "pgorm/query/include.hpp"

using pgorm_bench::IncSession;
using pgorm_bench::IncUser;

template <>
struct pgorm::table_traits<IncUser> {
  static constexpr std::string_view name = "inc_users";
  static constexpr auto primary_key = pgorm::key(&IncUser::id);
};

template <>
struct pgorm::table_traits<IncSession> {
  static constexpr std::string_view name = "inc_sessions";
  static constexpr auto primary_key = pgorm::key(&IncSession::id);
  static constexpr auto foreign_keys =
      pgorm::foreign_keys(pgorm::foreign_key(&IncSession::user_id, &IncUser::id));
};

namespace pgorm_bench {
namespace {

using pgorm::col;

// 1,000 users; user u has (u * 7919) % 21 sessions: 0 to 20, about 10 on average.
constexpr std::string_view setup_sql = R"(
  drop table if exists inc_sessions, inc_users;
  create table inc_users (id bigint primary key, email text not null, name text,
    age integer not null, is_email_verified boolean not null, created_at timestamptz not null);
  create table inc_sessions (id bigint primary key,
    user_id bigint not null references inc_users(id), token text not null,
    expires_at timestamptz not null, ip_address text);
  insert into inc_users select i, 'user' || i || '@example.com',
    case when i % 3 = 0 then null else 'User ' || i end, 20 + i % 50, i % 2 = 0,
    timestamptz '2024-01-01 00:00:00+00' + i * interval '1 minute'
    from generate_series(1, 1000) as i;
  insert into inc_sessions select row_number() over (order by u, s), u, md5(u || '-' || s),
    timestamptz '2030-01-01 00:00:00+00' + s * interval '1 hour',
    case when s % 4 = 0 then null else '10.0.' || (u % 256) || '.' || s end
    from generate_series(1, 1000) as u, generate_series(1, 20) as s where s <= (u * 7919) % 21;
  analyze inc_users;
  analyze inc_sessions;
)";

/// A connection to `conninfo` whose search_path is `schema`.
pgorm::connection connect_to(const std::string& conninfo, const include_schema& schema) {
  pgorm::connection conn{conninfo};
  conn.exec("SET search_path TO " + schema.name);
  return conn;
}

auto include_query() {
  return pgorm::select<IncUser>()
      .order_by(col<&IncUser::id>)
      .include(pgorm::rel<&IncSession::user_id>.order_by(col<&IncSession::id>));
}

std::int64_t rows_of(const std::vector<IncUserSessions>& out) {
  std::int64_t n = 0;
  for (const auto& u : out) n += 1 + static_cast<std::int64_t>(u.sessions.size());
  return n;
}

/// pgorm include(): one statement, the tree decoded from arrays of records.
struct include_peer {
  pgorm::connection conn;
  std::int64_t run() {
    const auto rows = include_query().all(conn);
    std::int64_t n = 0;
    for (const auto& r : rows) n += 1 + static_cast<std::int64_t>(r.get<1>().size());
    return n;
  }
  std::vector<IncUserSessions> load() {
    std::vector<IncUserSessions> out;
    for (auto& [u, sessions] : include_query().all(conn)) {
      out.push_back({std::move(u), std::move(sessions)});
    }
    return out;
  }
};

/// N+1: the users, then one select of sessions per user.
struct n_plus_1_peer {
  pgorm::connection conn;
  std::int64_t run() { return rows_of(load()); }
  std::vector<IncUserSessions> load() {
    std::vector<IncUserSessions> out;
    for (IncUser& u : pgorm::select<IncUser>().order_by(col<&IncUser::id>).all(conn)) {
      std::vector<IncSession> sessions = pgorm::select<IncSession>()
                                             .where(col<&IncSession::user_id> == u.id)
                                             .order_by(col<&IncSession::id>)
                                             .all(conn);
      out.push_back({std::move(u), std::move(sessions)});
    }
    return out;
  }
};

/// One flat left join (a user repeated on each of its sessions), folded by hand.
struct join_fold_peer {
  pgorm::connection conn;
  std::int64_t run() { return rows_of(load()); }
  std::vector<IncUserSessions> load() {
    std::vector<IncUserSessions> out;
    auto rows = pgorm::select<IncUser, IncSession>()
                    .left_join<IncSession>(col<&IncSession::user_id> == col<&IncUser::id>)
                    .order_by(col<&IncUser::id>, col<&IncSession::id>)
                    .all(conn);
    for (auto& [u, s] : rows) {
      if (out.empty() || out.back().user.id != u.id) out.push_back({std::move(u), {}});
      if (s) out.back().sessions.push_back(std::move(*s));
    }
    return out;
  }
};

}  // namespace

std::string_view include_pgorm_sql() { return decltype(include_query())::sql(); }

std::vector<include_schema> include_schemas() {
  return {{"include", "public", "user_id"}, {"include_fk_id_index", "inc_fk_id", "user_id, id"}};
}

std::vector<include_contender> make_include_pgorm_contenders(const std::string& conninfo,
                                                             const include_schema& schema) {
  {
    pgorm::connection setup{conninfo};
    setup.exec("CREATE SCHEMA IF NOT EXISTS " + schema.name);
    setup.exec("SET search_path TO " + schema.name);
    // The index before the rows, as an application's migration creates it.
    setup.exec(std::string(setup_sql).replace(
        setup_sql.find("  insert"), 0,
        "  create index on inc_sessions (" + schema.session_index + ");\n"));
  }
  auto inc = std::make_shared<include_peer>(include_peer{connect_to(conninfo, schema)});
  auto n1 = std::make_shared<n_plus_1_peer>(n_plus_1_peer{connect_to(conninfo, schema)});
  auto fold = std::make_shared<join_fold_peer>(join_fold_peer{connect_to(conninfo, schema)});
  return {{"pgorm", [inc] { return inc->run(); }, [inc] { return inc->load(); },
           inc->conn.backend_pid()},
          {"pgorm_n_plus_1", [n1] { return n1->run(); }, [n1] { return n1->load(); },
           n1->conn.backend_pid()},
          {"pgorm_join_fold", [fold] { return fold->run(); }, [fold] { return fold->load(); },
           fold->conn.backend_pid()}};
}

}  // namespace pgorm_bench
