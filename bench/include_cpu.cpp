// SPDX-License-Identifier: MIT
// The `include` workload's CPU split (bench/include_bench.hpp): the CPU time one load costs the
// client thread and the server backend serving its connection, read from the kernel's
// scheduler statistics around each load. Unlike rows/s it hardly depends on what else runs on
// the machine, so it gives the ratio a quiet pinned machine approaches (docs/performance.md,
// "include: why 3x N+1 is missed on a quiet machine").
#include <algorithm>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include "include_bench.hpp"

namespace pgorm_bench {
namespace {

/// Nanoseconds the task has run on a CPU (the first field of its schedstat file), or a
/// negative value when the file cannot be read.
double run_ns(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "r");
  if (f == nullptr) return -1;
  double ns = -1;
  if (std::fscanf(f, "%lf", &ns) != 1) ns = -1;
  std::fclose(f);
  return ns;
}

/// Whether `pid` is a local PostgreSQL process: a backend of a server on another host has no
/// process here (or another process has its number).
bool is_local_backend(int pid) {
  std::FILE* f = std::fopen(("/proc/" + std::to_string(pid) + "/comm").c_str(), "r");
  if (f == nullptr) return false;
  char name[32] = {};
  const bool read = std::fgets(name, sizeof name, f) != nullptr;
  std::fclose(f);
  return read && std::string_view(name).starts_with("postgres");
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

std::vector<include_cpu> measure_include_cpu(const std::vector<include_contender>& contenders,
                                             int loads) {
  const std::string self = "/proc/thread-self/schedstat";
  if (run_ns(self) < 0) return {};
  for (const include_contender& c : contenders) {
    if (c.backend_pid <= 0 || !is_local_backend(c.backend_pid)) return {};
  }
  std::vector<std::vector<double>> client(contenders.size());
  std::vector<std::vector<double>> backend(contenders.size());
  for (int i = 0; i < loads; ++i) {
    for (std::size_t k = 0; k != contenders.size(); ++k) {
      const include_contender& c = contenders[k];
      const std::string server = "/proc/" + std::to_string(c.backend_pid) + "/schedstat";
      const double client0 = run_ns(self);
      const double backend0 = run_ns(server);
      (void)c.op();
      backend[k].push_back((run_ns(server) - backend0) / 1e6);
      client[k].push_back((run_ns(self) - client0) / 1e6);
    }
  }
  std::vector<include_cpu> out;
  for (std::size_t k = 0; k != contenders.size(); ++k) {
    out.push_back({contenders[k].name, median(client[k]), median(backend[k])});
  }
  return out;
}

}  // namespace pgorm_bench
