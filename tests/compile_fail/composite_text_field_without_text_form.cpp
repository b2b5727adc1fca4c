// expect: pgorm: a composite holding a nested composite or a PostgreSQL enum is sent as text
#include <string_view>

#include "pgorm/composite.hpp"
#include "pgorm/params.hpp"
#include "pgorm/types.hpp"

struct point2 {
  int x;
  int y;
};
struct stamped {  // a nested composite makes it a text parameter; a timestamptz has no text form
  point2 at;
  pgorm::timestamptz when;
};
template <>
struct pgorm::composite_traits<point2> {
  static constexpr std::string_view type_name = "point2";
};
template <>
struct pgorm::composite_traits<stamped> {
  static constexpr std::string_view type_name = "stamped";
};

auto p = pgorm::encode_params(stamped{});
