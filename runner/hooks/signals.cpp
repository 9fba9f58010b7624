// Process signals the built-in hooks act on: handlers only record; the loop decides.
#include "hooks/signals.hpp"

#include <atomic>
#include <csignal>

namespace kiln::runner {
namespace {

std::atomic<int> g_stop{0};
std::atomic<bool> g_snapshot{false};

extern "C" void record_stop(int signal) {
  g_stop.store(signal);
  // Restore the default so that a second Ctrl-C stops a run that does not respond.
  std::signal(signal, SIG_DFL);
}

extern "C" void record_snapshot(int) { g_snapshot.store(true); }

void handle(int signal, void (*handler)(int)) {
  struct sigaction action = {};
  action.sa_handler = handler;
  sigemptyset(&action.sa_mask);
  sigaction(signal, &action, nullptr);
}

}  // namespace

void install_signal_handlers() {
  handle(SIGINT, record_stop);
  handle(SIGTERM, record_stop);
  handle(SIGHUP, record_snapshot);
  handle(SIGXFSZ, SIG_IGN);
}

int take_stop_signal() { return g_stop.exchange(0); }

bool take_snapshot_signal() { return g_snapshot.exchange(false); }

const char* signal_name(int signal) {
  switch (signal) {
    case SIGINT: return "SIGINT";
    case SIGTERM: return "SIGTERM";
    case SIGHUP: return "SIGHUP";
    default: return "signal";
  }
}

}  // namespace kiln::runner
