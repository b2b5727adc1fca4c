// SPDX-License-Identifier: MIT
// Transfers between accounts under SERIALIZABLE, from four threads at once: conflicting
// transactions fail with serialization_failure and the retry policy runs them again, so the
// total is always right.
#include <cstdio>
#include <thread>
#include <vector>

#include <pgorm/pgorm.hpp>
#include <pgorm/testing/server.hpp>

struct Account {
  std::int64_t id = 0;
  std::int64_t balance = 0;
};

template <>
struct pgorm::table_traits<Account> {
  static constexpr auto primary_key = pgorm::key(&Account::id);
  static constexpr auto checks = pgorm::check("balance_not_negative", "balance >= 0");
};

int main() {
  using pgorm::col;
  pgorm::testing::server pg;
  pgorm::pool db{pg.conninfo(), {.max_size = 4}};
  db.with_connection([](pgorm::connection& c) {
    pgorm::schema::create<Account>(c);
    c.insert(std::vector<Account>{{1, 1000}, {2, 1000}}).exec();
  });

  const auto transfer = [&](std::int64_t from, std::int64_t to, std::int64_t amount) {
    db.transaction(
        [&](pgorm::transaction& tx) {
          const Account a = tx.find<Account>(from).value();
          tx.update<Account>()
              .set(col<& Account::balance> = a.balance - amount)
              .where(col<&Account::id> == from)
              .exec();
          tx.update<Account>()
              .set(col<& Account::balance> = col<&Account::balance> + amount)
              .where(col<&Account::id> == to)
              .exec();
        },
        {.isolation = pgorm::isolation_level::serializable, .retry = {.max_attempts = 50}});
  };

  std::vector<std::thread> clients;
  for (int t = 0; t < 4; ++t) {
    clients.emplace_back([&, t] {
      for (int i = 0; i < 25; ++i) transfer(t % 2 == 0 ? 1 : 2, t % 2 == 0 ? 2 : 1, 3);
    });
  }
  for (auto& c : clients) c.join();

  // An overdraft violates the CHECK constraint: the transaction rolls back as a whole.
  try {
    transfer(1, 2, 1'000'000);
  } catch (const pgorm::check_violation& e) {
    std::printf("overdraft refused by %s\n", e.constraint().c_str());
  }

  const auto total = std::get<0>(db.select(pgorm::sum(col<&Account::balance>)).one()).value();
  std::printf("total after 100 concurrent transfers: %s\n", total.str().c_str());
  return total.str() == "2000" ? 0 : 1;
}
