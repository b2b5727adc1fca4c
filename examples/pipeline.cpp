// SPDX-License-Identifier: MIT
// 256 point selects and an insert in one round trip, each with its own typed result.
#include <cstdio>
#include <vector>

#include <pgorm/pgorm.hpp>
#include <pgorm/testing/server.hpp>

struct Item {
  std::int64_t id = 0;
  std::string label;
};

template <>
struct pgorm::table_traits<Item> {
  static constexpr auto primary_key = pgorm::key(&Item::id);
};

int main() {
  using pgorm::col;
  pgorm::testing::server pg;
  pgorm::connection conn{pg.conninfo()};
  pgorm::schema::create<Item>(conn);
  std::vector<Item> items;
  for (std::int64_t i = 1; i <= 256; ++i) items.push_back({i, "item " + std::to_string(i)});
  conn.insert(items).exec();

  pgorm::pipeline p{conn};
  std::vector<pgorm::pipeline_result<Item>> lookups;
  for (std::int64_t id = 1; id <= 256; ++id) {
    lookups.push_back(p.add(pgorm::select<Item>().where(col<&Item::id> == id)));
  }
  auto added = p.add(pgorm::insert(Item{257, "added in the same round trip"}).returning_all());
  p.run();  // one round trip for all 257 statements

  std::size_t found = 0;
  for (auto& r : lookups) found += r.first().has_value() ? 1 : 0;
  std::printf("%zu of 256 items found; inserted: %s\n", found, added.one().label.c_str());
  return found == 256 ? 0 : 1;
}
