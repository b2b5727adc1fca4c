// SPDX-License-Identifier: MIT
#include "pgorm/error.hpp"

namespace pgorm {

bool sql_error::poisons_connection() const noexcept {
  const auto& f = *fields_;
  if (f.connection_lost) return true;
  if (f.severity == "FATAL" || f.severity == "PANIC") return true;
  // Class 08: connection exception. 57P01-57P03: admin_shutdown, crash_shutdown,
  // cannot_connect_now (PostgreSQL docs, Appendix A "PostgreSQL Error Codes").
  if (f.sqlstate.starts_with("08")) return true;
  return f.sqlstate == "57P01" || f.sqlstate == "57P02" || f.sqlstate == "57P03";
}

}  // namespace pgorm
