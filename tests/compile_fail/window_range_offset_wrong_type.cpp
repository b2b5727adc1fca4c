// expect: pgorm: a range_between\(\) offset must measure the ORDER BY value
#include "pgorm/query.hpp"
#include "pgorm/query/window.hpp"
#include "support/schema.hpp"

// A timestamp is measured by an interval, not by a bare number.
constexpr auto sql = decltype(pgorm::select(pgorm::over(
    pgorm::count(), pgorm::window()
                        .order_by(pgorm::col<&qt::Session::expires_at>)
                        .range_between(pgorm::preceding<10>, pgorm::current_row))))::sql();
