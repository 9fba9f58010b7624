// run_trials(): fork and exec each trial with its log file as stdout and stderr, reap them,
// forward the sweep's stop signals, and poll for trials to cut.
#include "sweep/trials.hpp"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <optional>
#include <string_view>
#include <system_error>

#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>


extern char** environ;

namespace kiln::runner::sweep {
namespace {

using Clock = std::chrono::steady_clock;

std::vector<char*> c_strings(std::vector<std::string>& strings) {
  std::vector<char*> out;
  for (std::string& s : strings) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

/// The sweep's environment with `extra` set on top (an inherited variable of the same name is dropped).
std::vector<std::string> environment_with(const std::vector<std::string>& extra) {
  std::vector<std::string> out;
  for (char** entry = environ; *entry; ++entry) {
    const std::string_view text = *entry;
    const std::string_view name = text.substr(0, text.find('=') + 1);
    if (std::none_of(extra.begin(), extra.end(), [&](const std::string& e) { return e.rfind(name, 0) == 0; }))
      out.emplace_back(text);
  }
  out.insert(out.end(), extra.begin(), extra.end());
  return out;
}

class Trials {
 public:
  Trials(const TrialOptions& options, const cli::SignalScope& signals)
      : options_(options), environment_(environment_with(options.environment)), signals_(signals) {}

  int run(const std::vector<TrialJob>& jobs) {
    std::size_t next = 0;
    std::vector<int> free_slots;
    for (int slot = options_.parallel - 1; slot >= 0; --slot) free_slots.push_back(slot);
    // A Ctrl-C while the sweep was checking its keys (the signals already blocked): start nothing.
    const timespec now{0, 0};
    for (int pending = 0; (pending = sigtimedwait(&signals_.waited(), nullptr, &now)) > 0;)
      if (pending != SIGCHLD && !stop_signal_) stop_signal_ = pending;
    Clock::time_point next_poll = Clock::now() + poll_interval();
    while (true) {
      while (!stop_signal_ && next < jobs.size() && !free_slots.empty()) {
        const int slot = free_slots.back();
        free_slots.pop_back();
        start(jobs[next++], slot);
      }
      if (running_.empty()) break;
      // At most a second: a SIGCHLD that went to another thread is still noticed.
      const Clock::duration left = std::clamp(next_poll - Clock::now(), Clock::duration::zero(),
                                              Clock::duration(std::chrono::seconds(1)));
      const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(left).count();
      const timespec timeout{static_cast<time_t>(ns / 1'000'000'000), static_cast<long>(ns % 1'000'000'000)};
      const int signal = sigtimedwait(&signals_.waited(), nullptr, &timeout);
      reap(free_slots);
      if (signal > 0 && signal != SIGCHLD) {
        if (!stop_signal_) stop_signal_ = signal;
        for (const RunningTrial& trial : running_) kill(trial.pid, signal);
      } else if (Clock::now() >= next_poll) {
        next_poll = Clock::now() + poll_interval();
        if (options_.poll && !stop_signal_)
          for (std::int64_t number : options_.poll(running_))
            for (const RunningTrial& trial : running_)
              if (trial.number == number) kill(trial.pid, SIGTERM);
      }
    }
    return stop_signal_ ? 128 + *stop_signal_ : 0;
  }

 private:
  Clock::duration poll_interval() const {
    return std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(options_.poll_seconds));
  }

  void start(const TrialJob& job, int slot) {
    std::vector<std::string> argv_strings = options_.argv(job, slot);
    std::vector<char*> argv = c_strings(argv_strings);
    std::vector<char*> envp = c_strings(environment_);
    const int log = open(job.log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (log < 0) throw std::system_error(errno, std::generic_category(), "cannot open " + job.log.string());
    std::fflush(nullptr);
    const pid_t parent = getpid();
    const pid_t pid = fork();
    if (pid < 0) {
      const int error = errno;
      close(log);
      throw std::system_error(error, std::generic_category(), "fork");
    }
    if (pid == 0) {
      // Its own group: a terminal's Ctrl-C reaches the sweep alone, which passes it on.
      setpgid(0, 0);
      prctl(PR_SET_PDEATHSIG, SIGTERM);
      if (getppid() != parent) _exit(1);
      signals_.restore();
      const int null = open("/dev/null", O_RDONLY);
      if (null >= 0) dup2(null, STDIN_FILENO);
      dup2(log, STDOUT_FILENO);
      dup2(log, STDERR_FILENO);
      execve(options_.program.c_str(), argv.data(), envp.data());
      const std::string message = fmt::format("error: cannot run {}: {}\n", options_.program, std::strerror(errno));
      [[maybe_unused]] const ssize_t written = write(STDERR_FILENO, message.data(), message.size());
      _exit(127);
    }
    close(log);
    setpgid(pid, pid);
    RunningTrial trial{job.number, job.run, pid, slot};
    running_.push_back(trial);
    if (options_.started) options_.started(trial);
  }

  void reap(std::vector<int>& free_slots) {
    for (auto trial = running_.begin(); trial != running_.end();) {
      int status = 0;
      pid_t pid = 0;
      while ((pid = waitpid(trial->pid, &status, WNOHANG)) < 0 && errno == EINTR) {
      }
      if (pid == 0) {
        ++trial;
        continue;
      }
      const RunningTrial ended = *trial;
      trial = running_.erase(trial);
      free_slots.push_back(ended.slot);
      if (options_.ended) options_.ended(ended, pid == ended.pid ? cli::exit_code(status) : 1);
    }
  }

  const TrialOptions& options_;
  std::vector<std::string> environment_;
  const cli::SignalScope& signals_;
  std::vector<RunningTrial> running_;
  std::optional<int> stop_signal_;
};

}  // namespace

int run_trials(const TrialOptions& options, const std::vector<TrialJob>& jobs, const cli::SignalScope& signals) {
  if (options.parallel < 1) throw std::invalid_argument("run_trials: parallel must be 1 or more");
  Trials trials(options, signals);
  return trials.run(jobs);
}

}  // namespace kiln::runner::sweep
