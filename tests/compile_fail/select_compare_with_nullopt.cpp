// expect: pgorm: compare with NULL through is_null\(\) or is_not_null\(\)
#include <optional>

#include "pgorm/query.hpp"
#include "support/schema.hpp"

auto c = pgorm::col<&qt::User::name> == std::nullopt;
