// expect: pgorm: raw SQL must be a string literal
#include <string>

#include "pgorm/query.hpp"

std::string sql = "select 1";
auto q = pgorm::query<std::tuple<int>>(sql);
