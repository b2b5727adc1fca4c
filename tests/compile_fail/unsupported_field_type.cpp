// SPDX-License-Identifier: MIT
// A field type without a codec: the first error names it and points to docs/types.md.
// expect: std::vector<std::vector<int[,> ].*pgorm: .*read from a column.*types\.md
#include <vector>

#include "pgorm/types.hpp"

void read_matrix(const pgorm::result& res, std::vector<std::vector<int>>& out) {
  pgorm::read_field(res, 0, 0, out, {"t", "matrix"});
}
