// expect: pgorm: the declared result type of a SQL function must be a type pgorm reads
#include "pgorm/query.hpp"
#include "pgorm/query/functions.hpp"
#include "support/schema.hpp"

struct not_a_column_type {};
auto e = pgorm::fn<"lower", not_a_column_type>(pgorm::col<&qt::User::email>);
