// expect: pgorm: JSON operators apply to jsonb expressions
#include "pgorm/query.hpp"
#include "pgorm/query/json_ops.hpp"
#include "support/schema.hpp"

// email is text, not jsonb.
auto e = pgorm::json_get_text(pgorm::col<&qt::User::email>, "a");
