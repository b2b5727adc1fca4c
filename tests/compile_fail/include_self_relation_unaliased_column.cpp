// expect: pgorm: the related rows of a table's relation to itself go by an alias
#include <string>

#include "pgorm/query.hpp"
#include "pgorm/query/include.hpp"
#include "support/relations_schema.hpp"

// col<&rt::Employee::name> is the parent's column here: the reports need an alias,
// rel_many<&rt::Employee::manager_id, "reports">, and col<&rt::Employee::name, "reports">.
auto q = pgorm::select<rt::Employee>().include(pgorm::rel_many<&rt::Employee::manager_id>.where(
    pgorm::col<&rt::Employee::name> == std::string("Ann")));
