// SPDX-License-Identifier: MIT
// expect: pgorm: this schema function needs at least one table type
#include "pgorm/schema.hpp"

void create_nothing(pgorm::connection& conn) { pgorm::schema::create<>(conn); }
