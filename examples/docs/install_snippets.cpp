// SPDX-License-Identifier: MIT
// The code block of docs/install.md, compiled (never run). The region between
// `doc-begin(name)` and `doc-end(name)` appears verbatim (dedented) in the page; check with
// tools/check_docs.py.

// doc-begin(version)
#include <iostream>
#include <string_view>

#include <pgorm/version.hpp>

#if PGORM_VERSION < PGORM_VERSION_OF(0, 1, 0)
#error "this program needs pgorm 0.1 or later"
#endif

int check_pgorm_version() {
  // PGORM_VERSION_STRING: the headers this file was compiled with; library_version(): the
  // libpgorm the program runs with (they differ when a shared library was replaced).
  if (pgorm::library_version() != std::string_view(PGORM_VERSION_STRING)) {
    std::cerr << "compiled against pgorm " << PGORM_VERSION_STRING << ", running with "
              << pgorm::library_version() << '\n';
    return 1;
  }
  return 0;
}
// doc-end(version)
