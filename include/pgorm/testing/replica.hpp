// SPDX-License-Identifier: MIT
#pragma once

/// \file
/// A throwaway streaming replica of a pgorm::testing::server, for tests of read replicas and
/// failover against real PostgreSQL streaming replication. See docs/testing.md, "Replicas".
///
/// Example:
/// ```
/// pgorm::testing::server primary;
/// auto standby = pgorm::testing::start_replica(primary);  // pg_basebackup -R, then start
/// pgorm::connection{primary.conninfo()}.exec("create table t (id int)");
/// pgorm::testing::wait_for_replay(primary, standby);      // t is now visible on the standby
/// pgorm::testing::promote(standby);                       // pg_ctl promote: now writable
/// ```

#include <chrono>

#include "pgorm/export.hpp"
#include "pgorm/testing/server.hpp"

namespace pgorm::testing {

/// Starts a hot-standby streaming replica of `primary`: a new cluster whose data directory is
/// a base backup (`pg_basebackup -R -X stream -c fast`, run as the server's user) of the
/// primary, started on its own port and socket directory. It returns once the replica accepts
/// read-only connections, as a pgorm::testing::server that owns the replica: stop(), start(),
/// crash(), conninfo() and the destructor (which deletes it) work as for any server.
///
/// - The primary must be running and accept replication connections from its superuser over
///   its Unix socket (or TCP when it was created with tcp): a server with the default
///   options does (wal_level "replica", max_wal_senders 10 and initdb's `replication` lines of
///   pg_hba.conf are PostgreSQL's defaults). Its password, if any, is used through a passfile,
///   never a command line.
/// - `options` describe the replica as they would a server (port, tcp, settings, run_as,
///   base_dir, timeout); `bindir` defaults to the primary's, `password` to the primary's
///   (the replica has the primary's roles). local_auth and host_auth are not used: the
///   replica's pg_hba.conf is the primary's.
/// - pg_basebackup runs within `options.timeout`; past it, it is killed and this throws.
/// - The replica's primary_conninfo names the primary's socket directory (or 127.0.0.1) and
///   port: it reconnects when the primary restarts on the same port.
///
/// Throws server_error (with pg_basebackup's output or the replica's log) on failure, after
/// deleting what it created.
PGORM_API server start_replica(const server& primary, server_options options = {});

/// Waits until `replica` has replayed all the WAL that `primary` had written when this was
/// called (pg_last_wal_replay_lsn() >= the primary's pg_current_wal_insert_lsn(), which includes
/// commits not yet flushed with synchronous_commit off), polling every few
/// milliseconds. Throws server_error when `timeout` passes first (naming both positions), or
/// when `replica` is not a standby (it was promoted, or is not a replica).
///
/// Example: `pgorm::testing::wait_for_replay(primary, standby, std::chrono::seconds(10));`
PGORM_API void wait_for_replay(const server& primary, const server& replica,
                               std::chrono::milliseconds timeout = std::chrono::seconds(30));

/// Promotes the standby `replica` to a primary (`pg_ctl promote -w`) and returns once it
/// accepts writes (pg_is_in_recovery() is false). Throws server_error when it is not a
/// standby, or when it is still in recovery after `timeout`.
///
/// Example: `primary.stop(pgorm::testing::shutdown_mode::immediate); promote(standby);`
PGORM_API void promote(const server& replica,
                       std::chrono::seconds timeout = std::chrono::seconds(60));

}  // namespace pgorm::testing
