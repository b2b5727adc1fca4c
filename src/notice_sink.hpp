// SPDX-License-Identifier: MIT
// Private to src/: where a connection's server notices go (libpq's notice receiver), so that
// NOTICE/WARNING messages reach the observer (observer::on_notice) instead of stderr.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <libpq-fe.h>

#include "pgorm/observer.hpp"

namespace pgorm::detail {

/// What the notice receiver of one libpq connection needs. Heap-allocated and owned by the
/// connection, so that the receiver's argument stays valid when the connection object moves.
struct notice_sink {
  std::shared_ptr<observer> events;  // none: notices are dropped (the default, quiet)
  std::string server;                // connection::description()
  std::vector<std::string> secrets;  // scrubbed from every text passed on
};

/// Installs the receiver on `conn` and returns its sink; the connection keeps the sink alive
/// for as long as `conn` is open.
std::shared_ptr<notice_sink> receive_notices(PGconn* conn, std::shared_ptr<observer> events,
                                             std::string server, std::vector<std::string> secrets);

/// The last FATAL or PANIC message (severity, SQLSTATE and text, passwords masked) that a
/// notice receiver got on this thread since clear_last_words(). libpq hands an idle
/// connection's error messages, such as the server's reason for closing it, to the notice
/// receiver, on the thread that reads the socket; a wait clears this before reading, so that
/// after a lost connection the reason can be told.
void clear_last_words() noexcept;
std::string take_last_words();

}  // namespace pgorm::detail
