// expect: pgorm: groups_between\(\) needs a window with order_by\(\)
#include "pgorm/query.hpp"
#include "pgorm/query/window.hpp"
#include "support/schema.hpp"

// GROUPS counts peer groups, which only an ORDER BY defines.
constexpr auto sql = decltype(pgorm::select(
    pgorm::col<&qt::Account::id>,
    pgorm::over(pgorm::count(),
                pgorm::window().groups_between(pgorm::preceding<1>, pgorm::current_row))))::sql();
