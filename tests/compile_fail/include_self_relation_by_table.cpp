// expect: pgorm: a table's relation to itself has two directions
#include "pgorm/query.hpp"
#include "pgorm/query/include.hpp"
#include "support/relations_schema.hpp"

// rt_employee.manager_id references rt_employee: the manager, or the reports? Name the column:
// pgorm::rel<&rt::Employee::manager_id> or pgorm::rel_many<&rt::Employee::manager_id>.
auto q = pgorm::select<rt::Employee>().include<rt::Employee>();
