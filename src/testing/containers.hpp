// SPDX-License-Identifier: MIT
// Private to src/testing/: what container_server.cpp knows about the container engine, shared
// with pgbouncer.cpp, which can run PgBouncer from the same images (pgbouncer_options::
// container_version).
#pragma once

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

namespace pgorm::testing::containers {

/// The label every container of pgorm::testing carries, valued with its state directory:
/// `pgorm-test-server reap` and CI's leftover check look for it.
inline constexpr const char* label = "pgorm.test-server";

struct engine_result {
  int exit_code = -1;  // -1: killed by a signal (or by the deadline)
  bool timed_out = false;
  std::string output;  // stdout and stderr, interleaved
};

/// Runs `args` (searched in PATH) with `extra_env` added to the environment, output in an
/// anonymous file (conmon may keep a pipe open forever), killed at `timeout`. Throws
/// server_error only when the program cannot be started.
engine_result run(const std::vector<std::string>& args, std::chrono::milliseconds timeout,
                  const std::vector<std::string>& extra_env = {});

/// `engine`, else env PGORM_CONTAINER_ENGINE, else "podman".
std::string engine_or_default(const std::string& engine);
/// True when `program` is an absolute path or found in PATH.
bool installed(const std::string& program);

/// The options every `<engine> run` of pgorm::testing takes before the image: `--runtime`
/// (container_options::runtime's default) and the `--ulimit`s root may set here.
std::vector<std::string> run_options(const std::string& runtime = {});

/// Makes pgorm's image of PostgreSQL `version` present (tools/containers/pgorm-pg-image ensure;
/// env PGORM_CONTAINER_IMAGE wins) and returns its name. Throws server_error with the script's
/// output when it fails.
std::string ensure_image(const std::string& version, const std::string& engine,
                         const std::filesystem::path& script, std::chrono::seconds timeout);

}  // namespace pgorm::testing::containers
