// `kiln run --nproc N`: N local worker processes with torchrun's environment, their signals
// forwarded and their ends collected, as `torchrun --standalone` does. Torch-free, in the front.
#pragma once

#include <string>
#include <vector>

#include "cli/commands.hpp"

namespace kiln::runner::cli {

/// What launch_local() starts: `nproc` processes of one program, worker r told its place by
/// RANK=r, WORLD_SIZE=nproc, LOCAL_RANK=r, LOCAL_WORLD_SIZE=nproc, MASTER_ADDR, MASTER_PORT and
/// KILN_LAUNCHER_PID (the launcher's pid), on top of the launcher's own environment.
struct LaunchOptions {
  int nproc = 1;
  /// The file each worker executes: execve, no shell, no PATH search.
  std::string program;
  /// Each worker's argv, argv[0] included; passed as it is.
  std::vector<std::string> argv;
  /// Empty: $MASTER_ADDR, else 127.0.0.1.
  std::string master_addr;
  /// Empty: $MASTER_PORT, else a free TCP port (port 0 bound on 127.0.0.1, then closed).
  std::string master_port;
  /// After a worker ended abnormally (a non-zero status, a signal), how long the others have
  /// to end by themselves (their process group fails) before they get SIGTERM.
  double grace_seconds = 300;
  /// After that SIGTERM, how long before SIGKILL.
  double kill_seconds = 15;
};

/// Starts the workers and waits for every one of them; returns the exit code: rank 0's when
/// it is not 0, else the first abnormal one of the others', else 0 (a worker killed by signal
/// S counts as 128 + S). Each abnormal end is one line on stderr ("kiln: rank 1 (pid 1234)
/// exited with status 3", "... was killed by SIGKILL"), except an exit with status 2 (a kiln
/// worker's usage or configuration error, which it or rank 0 has said already).
///
/// The workers share one new process group, so a terminal's Ctrl-C reaches the launcher
/// alone, which forwards SIGINT, SIGTERM and SIGHUP to every live worker, once per signal it
/// receives (those it was started ignoring it keeps ignoring). Each worker gets SIGTERM when
/// the launcher's thread dies (PR_SET_PDEATHSIG), even by SIGKILL. A worker that cannot be
/// started stops the started ones: one "error:" line, exit code 1.
///
/// Blocks SIGINT, SIGTERM, SIGHUP and SIGCHLD while it runs (and sets SIGCHLD to its default
/// action, so that workers can be reaped), and gives the workers the signal mask and SIGCHLD
/// action it found. Call it from the process's only thread (other threads would take the
/// signals it waits for), in a process that reaps no children behind its back.
///
///     LaunchOptions options;
///     options.nproc = 2;
///     options.program = "/bin/sh";
///     options.argv = {"sh", "-c", "echo $RANK of $WORLD_SIZE"};
///     int code = launch_local(options);
int launch_local(const LaunchOptions& options);

/// `args` (a whole command line) without `--nproc N` and `--nproc=N`: what each worker of
/// `kiln run --nproc N` runs. Arguments after `--` are kept as they are.
std::vector<std::string> without_nproc(const std::vector<std::string>& args);

/// `kiln run --nproc N` with N > 1: refused with kExitUsage where RANK is set (a launcher such
/// as torchrun started this process), else this kiln's own command line (/proc/self/cmdline)
/// without --nproc, run by N workers of /proc/self/exe (launch_local).
int launch_run(const RunArgs& args);

}  // namespace kiln::runner::cli
