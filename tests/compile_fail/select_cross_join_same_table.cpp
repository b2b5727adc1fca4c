// SPDX-License-Identifier: MIT
// expect: pgorm: this table is already in the query; join it again under an alias
#include "pgorm/query.hpp"
#include "support/schema.hpp"

auto q = pgorm::select<qt::User>().cross_join<qt::User>();
