// expect: pgorm: in\(\) values must have the expression's type
#include <string>
#include <vector>

#include "pgorm/query.hpp"
#include "support/schema.hpp"

auto c = pgorm::col<&qt::User::id>.in(std::vector<std::string>{"1"});
