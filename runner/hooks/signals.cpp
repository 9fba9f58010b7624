// Process signals the supervisor acts on: handlers only record; the loop decides.
#include "hooks/signals.hpp"

#include <atomic>
#include <csignal>

namespace kiln::runner {
namespace {

std::atomic<int> g_pending{0};

extern "C" void record_signal(int signal) {
  g_pending.store(signal);
  // Restore the default so that a second Ctrl-C stops a run that does not respond.
  std::signal(signal, SIG_DFL);
}

}  // namespace

void install_stop_signals() {
  struct sigaction action = {};
  action.sa_handler = record_signal;
  sigemptyset(&action.sa_mask);
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
}

int take_stop_signal() { return g_pending.exchange(0); }

const char* signal_name(int signal) {
  switch (signal) {
    case SIGINT: return "SIGINT";
    case SIGTERM: return "SIGTERM";
    case SIGHUP: return "SIGHUP";
    default: return "signal";
  }
}

}  // namespace kiln::runner
