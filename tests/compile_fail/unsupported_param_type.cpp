// SPDX-License-Identifier: MIT
// A parameter type without a codec: the first error names it and points to docs/types.md.
// expect: <void ?\*(, .*"|>': )pgorm: .*cannot be a statement parameter.*docs/types\.md
#include "pgorm/params.hpp"

void send_pointer(void* p) {
  auto params = pgorm::encode_params(42, p);
  (void)params;
}
