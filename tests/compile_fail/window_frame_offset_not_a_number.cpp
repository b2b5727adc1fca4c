// expect: pgorm: a run-time frame offset is a number
#include <optional>

#include "pgorm/query.hpp"
#include "pgorm/query/window.hpp"
#include "support/schema.hpp"

// A frame offset cannot be NULL: std::optional is refused.
auto b = pgorm::preceding_by(std::optional<int>{2});
