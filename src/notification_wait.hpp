// SPDX-License-Identifier: MIT
// Private to src/: waiting for a notification on a connection, shared by
// connection::wait_for_notification() and pgorm::listener (which also watches an interrupt
// descriptor).
#pragma once

#include <chrono>
#include <optional>

#include "pgorm/connection.hpp"
#include "pgorm/notification.hpp"

namespace pgorm::detail {

/// The next notification queued on `conn`, or the next to arrive before `until`; nullopt at
/// `until`, or when `interrupt_fd` (>= 0) becomes readable first (then `interrupted` is set; the
/// descriptor is not read). Waits through the engine's wait_io(); sends nothing. A `until` in
/// the past takes only what has arrived. Throws connection_error when the connection is lost,
/// once every notification that arrived before is returned.
std::optional<notification> await_notification(connection& conn,
                                               std::chrono::steady_clock::time_point until,
                                               int interrupt_fd, bool& interrupted);

}  // namespace pgorm::detail
