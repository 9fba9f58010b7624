// Wall-clock and CPU time of a stretch of work, and how busy other processes kept the machine.
#pragma once

#include <algorithm>
#include <chrono>
#include <ctime>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include <unistd.h>

namespace kiln::bench {

/// The clocks at one instant. Linux only: the machine's busy time comes from /proc/stat.
struct Snapshot {
  std::chrono::steady_clock::time_point wall;
  double cpu = 0;   ///< CPU seconds of this process, every thread (the loader's, the writer's)
  double busy = 0;  ///< CPU seconds every process on the machine has used

  static Snapshot now() {
    Snapshot s;
    s.wall = std::chrono::steady_clock::now();
    timespec ts{};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    s.cpu = static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
    std::ifstream stat("/proc/stat");
    std::string label;
    double user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0;
    stat >> label >> user >> nice >> system >> idle >> iowait >> irq >> softirq >> steal;
    s.busy = (user + nice + system + irq + softirq + steal) / static_cast<double>(sysconf(_SC_CLK_TCK));
    return s;
  }
};

/// What happened between two snapshots.
struct Timing {
  double wall = 0;    ///< seconds
  double cpu = 0;     ///< CPU seconds of this process
  double others = 0;  ///< share of the machine's cores that other processes used, 0..1
  std::vector<double> step_us;  ///< each step's wall time, where the caller recorded them

  Timing() = default;
  Timing(const Snapshot& from, const Snapshot& to)
      : wall(std::chrono::duration<double>(to.wall - from.wall).count()), cpu(to.cpu - from.cpu) {
    const double cores = static_cast<double>(std::max(1u, std::thread::hardware_concurrency()));
    // /proc/stat counts in clock ticks (10 ms): short stretches read 0 or a tick too many.
    others = wall > 0 ? std::clamp((to.busy - from.busy - cpu) / (wall * cores), 0.0, 1.0) : 0.0;
  }
};

inline double median(std::vector<double> values) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const std::size_t n = values.size();
  return n % 2 ? values[n / 2] : 0.5 * (values[n / 2 - 1] + values[n / 2]);
}

/// The value below which a share `p` (0..1) of `sorted` lies (nearest rank).
inline double percentile(const std::vector<double>& sorted, double p) {
  if (sorted.empty()) return 0;
  const auto rank = static_cast<std::size_t>(p * static_cast<double>(sorted.size() - 1) + 0.5);
  return sorted[std::min(rank, sorted.size() - 1)];
}

}  // namespace kiln::bench
