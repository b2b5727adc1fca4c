// SPDX-License-Identifier: MIT
// The code blocks of docs/observability.md, compiled (never run). Each region between
// `doc-begin(name)` and `doc-end(name)` appears verbatim (dedented) in the page; check with
// tools/check_docs.py.

#include <chrono>
#include <memory>
#include <string>

// doc-begin(stderr_logger)
#include <pgorm/pgorm.hpp>

void log_slow_queries(const std::string& url) {
  auto log = std::make_shared<pgorm::stderr_logger>(std::chrono::milliseconds(100));  // slow only
  pgorm::connection conn{url, {.events = log}};
  // pgorm: SELECT 153 us rows=2 params=1 sql=SELECT id, n FROM counter WHERE n = $1
}
// doc-end(stderr_logger)
