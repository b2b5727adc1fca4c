// expect: pgorm: the related rows must go by another name than their parent rows
#include "pgorm/query.hpp"
#include "pgorm/query/include.hpp"
#include "support/relations_schema.hpp"

// Both the parent and its reports would be "e": the correlation would compare the reports with
// themselves.
auto q = pgorm::select<rt::Employee>().from<rt::Employee, "e">().include(
    pgorm::rel_many<&rt::Employee::manager_id, "e">);
