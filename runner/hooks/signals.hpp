// Process signals the supervisor acts on: handlers only record; the loop decides.
#pragma once

namespace kiln::runner {

/// Installs handlers for SIGINT and SIGTERM that record the signal. A second SIGINT or
/// SIGTERM while the first is pending ends the process at once (the default action).
void install_stop_signals();

/// The pending stop signal (SIGINT, SIGTERM) or 0; clears it.
int take_stop_signal();

/// "SIGINT", "SIGTERM", ...
const char* signal_name(int signal);

}  // namespace kiln::runner
