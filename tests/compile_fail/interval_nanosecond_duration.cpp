// expect: pgorm: an interval has microsecond precision
#include <chrono>

#include "pgorm/query.hpp"
#include "support/schema.hpp"

auto e = pgorm::col<&qt::Session::expires_at> + std::chrono::nanoseconds(1500);
