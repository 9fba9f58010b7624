// run_trials(): a sweep's trials as child processes, K at a time, their output in log files,
// the sweep's SIGINT/SIGTERM/SIGHUP forwarded to them. Torch-free.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include <sys/types.h>

#include "cli/child_signals.hpp"

namespace kiln::runner::sweep {

/// One trial to start: what runs, where its stdout and stderr go (appended).
struct TrialJob {
  std::int64_t number = 0;
  std::string run;
  std::filesystem::path log;
};

/// A started trial, as the poll callback sees it.
struct RunningTrial {
  std::int64_t number = 0;
  std::string run;
  pid_t pid = -1;
  int slot = 0;  ///< 0..parallel-1: which share of the cores, or which GPU
};

struct TrialOptions {
  std::string program;  ///< the file each trial executes (execve, no PATH search)
  int parallel = 1;
  /// Each trial's argv (argv[0] included) for the slot it takes.
  std::function<std::vector<std::string>(const TrialJob&, int slot)> argv;
  /// Added to each trial's environment ("NAME=value").
  std::vector<std::string> environment;
  std::function<void(const RunningTrial&)> started;
  /// A trial's end: its exit code (128 + S when signal S killed it).
  std::function<void(const RunningTrial&, int exit_code)> ended;
  /// Called every poll_seconds while trials run; returns the trials to stop (SIGTERM).
  std::function<std::vector<std::int64_t>(const std::vector<RunningTrial>&)> poll;
  double poll_seconds = 2;
};

/// Runs `jobs` in order, `parallel` at a time, each in its own process group with
/// PR_SET_PDEATHSIG (SIGTERM when the sweep dies, even by SIGKILL). A SIGINT, SIGTERM or SIGHUP
/// to the sweep goes to every running trial (they checkpoint and stop) and starts no more;
/// returns 128 + that signal once they have ended, else 0. Call it from the process's only
/// thread, as launch_local(), with `signals` made before any other thread (threads that a
/// LibTorch or a plugin started earlier inherit its mask, so no signal goes to them).
int run_trials(const TrialOptions& options, const std::vector<TrialJob>& jobs, const cli::SignalScope& signals);

}  // namespace kiln::runner::sweep
