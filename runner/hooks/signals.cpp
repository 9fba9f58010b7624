// Process signals the built-in hooks act on: handlers only record; the loop decides.
#include "hooks/signals.hpp"

#include <atomic>
#include <csignal>

namespace kiln::runner {
namespace {

std::atomic<int> g_stop{0};
std::atomic<int> g_stops{0};  // stop signals received, taken or not
std::atomic<bool> g_snapshot{false};
std::atomic<bool> g_finishing{false};

extern "C" void record_stop(int signal) {
  if (g_finishing.load()) return;  // the outcome is being recorded: too late to change it
  if (g_stops.fetch_add(1) > 0) {
    // A second Ctrl-C stops a run that does not respond: the default action, now.
    std::signal(signal, SIG_DFL);
    std::raise(signal);
    return;
  }
  g_stop.store(signal);
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
  g_stop = 0;
  g_stops = 0;
  g_finishing = false;
  handle(SIGINT, record_stop);
  handle(SIGTERM, record_stop);
  handle(SIGHUP, record_snapshot);
  handle(SIGXFSZ, SIG_IGN);
}

void finishing_run() { g_finishing.store(true); }

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
