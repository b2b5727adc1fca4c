// SPDX-License-Identifier: MIT
// A field type without a codec: the first error names it and points to docs/types.md.
// expect: std::(__cxx11::)?list<int[,> ].*pgorm: .*read from a column.*types\.md
#include <list>

#include "pgorm/types.hpp"

void read_list(const pgorm::result& res, std::list<int>& out) {
  pgorm::read_field(res, 0, 0, out, {"t", "items"});
}
