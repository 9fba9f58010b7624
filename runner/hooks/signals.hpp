// Process signals the built-in hooks act on: handlers only record; the loop decides.
#pragma once

namespace kiln::runner {

/// Installs handlers that record SIGINT and SIGTERM (stop after this step) and SIGHUP
/// (save a snapshot and go on), and ignores SIGXFSZ so that a file-size limit makes a write
/// fail with EFBIG instead of killing the process. A second SIGINT or SIGTERM ends the
/// process at once (the default action), unless finishing_run() was called.
void install_signal_handlers();

/// The run's outcome is decided and about to be recorded: from now on SIGINT and SIGTERM
/// are ignored, so the exit code always matches the status recorded for the run (a second
/// Ctrl-C 50 ms after the first used to kill a run already recorded 'stopped').
void finishing_run();

/// The pending stop signal (SIGINT, SIGTERM) or 0; clears it.
int take_stop_signal();
/// Whether a SIGHUP arrived since the last call; clears it.
bool take_snapshot_signal();

/// "SIGINT", "SIGTERM", ...
const char* signal_name(int signal);

}  // namespace kiln::runner
