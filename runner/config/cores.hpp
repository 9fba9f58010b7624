// How many CPU cores this process may actually use: its affinity mask and its cgroup's quota.
#pragma once

namespace kiln::runner {

/// The cores this process may run on (sched_getaffinity), lowered to the CPU quota of its
/// cgroup (cpu.max, as containers and `systemd-run -p CPUQuota=` set it), at least 1.
/// `taskset -c 0 kiln run ...` therefore counts 1, where hardware_concurrency() counts all.
int usable_cores();

}  // namespace kiln::runner
