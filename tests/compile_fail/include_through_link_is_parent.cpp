// expect: pgorm: a join table links two other tables
#include <cstdint>
#include <optional>
#include <string_view>

#include "pgorm/query.hpp"
#include "pgorm/query/include.hpp"

// Two foreign keys of a table to itself are not a join table: the parent would be read as one.
struct Person {
  std::int64_t id;
  std::optional<std::int64_t> mother_id;
  std::optional<std::int64_t> father_id;
};
template <>
struct pgorm::table_traits<Person> {
  static constexpr std::string_view name = "people";
  static constexpr auto primary_key = pgorm::key(&Person::id);
  static constexpr auto foreign_keys =
      pgorm::foreign_keys(pgorm::foreign_key(&Person::mother_id, &Person::id),
                          pgorm::foreign_key(&Person::father_id, &Person::id));
};

auto q =
    pgorm::select<Person>().include(pgorm::rel_through<&Person::mother_id, &Person::father_id>);
