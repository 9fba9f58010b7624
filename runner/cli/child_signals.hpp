// What a process that runs kiln children needs of signals: the ones it forwards, a scope that
// blocks them for sigtimedwait, and a child's end as an exit code. Used by `kiln run --nproc`'s
// launcher (cli/launch.cpp) and by `kiln sweep`'s trials (sweep/trials.cpp).
#pragma once

#include <csignal>
#include <string>

#include <pthread.h>
#include <sys/wait.h>

#include <fmt/format.h>

namespace kiln::runner::cli {

/// The signals passed on to the children.
inline constexpr int kForwarded[] = {SIGINT, SIGTERM, SIGHUP};

/// A wait status as an exit code: 128 + S for death by signal S, as a shell says.
inline int exit_code(int wait_status) {
  return WIFSIGNALED(wait_status) ? 128 + WTERMSIG(wait_status) : WEXITSTATUS(wait_status);
}

inline std::string signal_name(int signal) {
  const char* abbreviation = sigabbrev_np(signal);
  return abbreviation ? fmt::format("SIG{}", abbreviation) : fmt::format("signal {}", signal);
}

/// While it lives, the forwarded signals and SIGCHLD are blocked (sigtimedwait takes them)
/// and SIGCHLD has its default action (an inherited SIG_IGN would reap the children behind
/// waitpid's back). restore() puts back what it found: in a child before exec, and here at
/// the end.
class SignalScope {
 public:
  SignalScope() {
    sigemptyset(&waited_);
    sigaddset(&waited_, SIGCHLD);
    // A signal the parent was started ignoring (nohup's SIGHUP) stays ignored, children included.
    for (int signal : kForwarded) {
      struct sigaction current {};
      if (sigaction(signal, nullptr, &current) == 0 && current.sa_handler != SIG_IGN) sigaddset(&waited_, signal);
    }
    pthread_sigmask(SIG_BLOCK, &waited_, &saved_mask_);
    struct sigaction default_action {};
    default_action.sa_handler = SIG_DFL;
    sigemptyset(&default_action.sa_mask);
    sigaction(SIGCHLD, &default_action, &saved_child_action_);
  }
  ~SignalScope() {
    // Taken, not delivered: a stop asked for once every child had ended has nothing left to
    // stop, and the parent returns its children's exit code rather than dying of it.
    const timespec now{0, 0};
    while (sigtimedwait(&waited_, nullptr, &now) > 0) {
    }
    restore();
  }
  SignalScope(const SignalScope&) = delete;
  SignalScope& operator=(const SignalScope&) = delete;

  /// Async-signal-safe: a forked child calls it before exec.
  void restore() const noexcept {
    sigaction(SIGCHLD, &saved_child_action_, nullptr);
    pthread_sigmask(SIG_SETMASK, &saved_mask_, nullptr);
  }

  const sigset_t& waited() const { return waited_; }

 private:
  sigset_t waited_{};
  sigset_t saved_mask_{};
  struct sigaction saved_child_action_ {};
};

}  // namespace kiln::runner::cli
