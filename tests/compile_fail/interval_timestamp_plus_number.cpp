// expect: pgorm: arithmetic \(\+ - \* / %\) applies to numeric expressions only, and to dates,
// timestamps and intervals
#include "pgorm/query.hpp"
#include "support/schema.hpp"

// A timestamp plus a bare number has no unit: add a std::chrono duration or a pgorm::interval.
auto e = pgorm::col<&qt::Session::expires_at> + 1;
