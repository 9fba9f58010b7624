// launch_local(): fork and exec the workers of `kiln run --nproc N`, forward signals to them,
// reap them, and stop the others once one has failed.
#include "cli/launch.hpp"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <optional>
#include <stdexcept>
#include <string_view>
#include <system_error>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "cli/child_signals.hpp"
#include "config/experiment.hpp"

extern char** environ;

namespace kiln::runner::cli {
namespace {

using Clock = std::chrono::steady_clock;

/// The variables the launcher sets for each worker: never the launcher's own values.
constexpr std::string_view kWorldVariables[] = {"RANK",        "WORLD_SIZE",  "LOCAL_RANK",       "LOCAL_WORLD_SIZE",
                                                "MASTER_ADDR", "MASTER_PORT", "KILN_LAUNCHER_PID"};

std::string env_or(const char* name, const std::string& fallback) {
  const char* value = std::getenv(name);
  return value && *value ? value : fallback;
}

/// A TCP port free on 127.0.0.1 now; rank 0 binds it a moment later, as under torchrun.
std::string free_port() {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw std::system_error(errno, std::generic_category(), "cannot find a free port: socket");
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  if (bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    const int error = errno;
    close(fd);
    throw std::system_error(error, std::generic_category(), "cannot find a free port on 127.0.0.1");
  }
  close(fd);
  return std::to_string(ntohs(address.sin_port));
}

/// argv or envp for execve: pointers into `strings`, then a null.
std::vector<char*> c_strings(std::vector<std::string>& strings) {
  std::vector<char*> out;
  for (std::string& s : strings) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

Clock::duration seconds(double value) {
  // Capped, so that a huge grace cannot overflow the clock's arithmetic: 30 years is forever.
  return std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(std::min(value, 1e9)));
}

timespec to_timespec(Clock::duration duration) {
  const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(duration).count();
  return timespec{static_cast<time_t>(ns / 1'000'000'000), static_cast<long>(ns % 1'000'000'000)};
}

struct Worker {
  int rank = 0;
  pid_t pid = -1;
  bool running = false;
  int wait_status = 0;  ///< once it has ended
  std::vector<std::string> environment;
};

/// One launch: the workers, their signals, and the escalation after a failure.
class Launch {
 public:
  Launch(const LaunchOptions& options, const std::string& master_addr, const std::string& master_port)
      : options_(options), argv_(options.argv), launcher_(getpid()) {
    // The environment is built before any fork: a forked child only calls what is async-signal-safe.
    std::vector<std::string> inherited;
    for (char** entry = environ; *entry; ++entry) {
      const std::string_view text = *entry;
      const std::string_view name = text.substr(0, text.find('='));
      if (std::find(std::begin(kWorldVariables), std::end(kWorldVariables), name) == std::end(kWorldVariables))
        inherited.emplace_back(text);
    }
    for (int rank = 0; rank < options.nproc; ++rank) {
      Worker worker;
      worker.rank = rank;
      worker.environment = inherited;
      const std::string size = std::to_string(options.nproc);
      for (const auto& [name, value] :
           {std::pair<const char*, std::string>{"RANK", std::to_string(rank)}, {"WORLD_SIZE", size},
            {"LOCAL_RANK", std::to_string(rank)}, {"LOCAL_WORLD_SIZE", size}, {"MASTER_ADDR", master_addr},
            {"MASTER_PORT", master_port}, {"KILN_LAUNCHER_PID", std::to_string(launcher_)}})
        worker.environment.push_back(fmt::format("{}={}", name, value));
      workers_.push_back(std::move(worker));
    }
  }

  int run() {
    std::fflush(nullptr);  // nothing buffered here is written twice or after the workers' lines
    for (Worker& worker : workers_) {
      try {
        start(worker);
      } catch (const std::system_error& e) {
        fail(kExitFailed, fmt::format("cannot start rank {}: {}", worker.rank, e.what()));
        // The started ones stop as after a Ctrl-C; their ends are not failures to report.
        quiet_ = true;
        terminated_at_ = Clock::now();
        signal_running(SIGTERM);
        wait_for_all();
        return kExitFailed;
      }
    }
    wait_for_all();
    if (const int rank0 = exit_code(workers_[0].wait_status); rank0 != 0) return rank0;
    return first_failure_of_others_ ? exit_code(workers_[*first_failure_of_others_].wait_status) : kExitOk;
  }

 private:
  /// Forks and execs `worker`; throws std::system_error when it cannot run the program (the
  /// child that failed to exec is still reaped with the others).
  void start(Worker& worker) {
    std::vector<char*> argv = c_strings(argv_);
    std::vector<char*> envp = c_strings(worker.environment);
    // Rank 0 starts the workers' process group; the others join it.
    const pid_t group = workers_[0].pid > 0 ? workers_[0].pid : 0;
    // The child writes exec's errno here; a successful exec closes it (O_CLOEXEC): EOF.
    int exec_error[2];
    if (pipe2(exec_error, O_CLOEXEC) != 0) throw std::system_error(errno, std::generic_category(), "pipe2");
    const pid_t pid = fork();
    if (pid < 0) {
      const int error = errno;
      close(exec_error[0]);
      close(exec_error[1]);
      throw std::system_error(error, std::generic_category(), "fork");
    }
    if (pid == 0) {
      close(exec_error[0]);
      setpgid(0, group);
      prctl(PR_SET_PDEATHSIG, SIGTERM);
      // The launcher died before the line above: nothing would ever stop this worker.
      if (getppid() != launcher_) _exit(kExitFailed);
      signals_.restore();
      execve(options_.program.c_str(), argv.data(), envp.data());
      const int error = errno;
      [[maybe_unused]] const ssize_t written = write(exec_error[1], &error, sizeof error);
      _exit(127);
    }
    close(exec_error[1]);
    // Here too: the group exists before the next fork, whichever of the two ran first.
    setpgid(pid, group == 0 ? pid : group);
    worker.pid = pid;
    worker.running = true;
    int error = 0;
    ssize_t n = 0;
    while ((n = read(exec_error[0], &error, sizeof error)) < 0 && errno == EINTR) {
    }
    close(exec_error[0]);
    if (n == static_cast<ssize_t>(sizeof error)) throw std::system_error(error, std::generic_category(), options_.program);
  }

  void wait_for_all() {
    while (std::any_of(workers_.begin(), workers_.end(), [](const Worker& w) { return w.running; })) {
      int signal = -1;
      if (const std::optional<Clock::time_point> due = deadline()) {
        const Clock::duration left = *due - Clock::now();
        if (left <= Clock::duration::zero()) {
          escalate();
          continue;
        }
        const timespec timeout = to_timespec(left);
        signal = sigtimedwait(&signals_.waited(), nullptr, &timeout);
      } else {
        signal = sigwaitinfo(&signals_.waited(), nullptr);
      }
      // -1: the deadline came (looked at again above) or EINTR.
      if (signal == SIGCHLD) reap();
      else if (signal > 0) signal_running(signal);
    }
  }

  /// Reaps every worker that has ended, reporting the abnormal ends.
  void reap() {
    for (Worker& worker : workers_) {
      if (!worker.running) continue;
      int status = 0;
      pid_t pid = 0;
      while ((pid = waitpid(worker.pid, &status, WNOHANG)) < 0 && errno == EINTR) {
      }
      if (pid == 0) continue;  // still running
      worker.running = false;
      // -1 (ECHILD): reaped elsewhere, against launch_local's contract; its status is lost.
      worker.wait_status = pid == worker.pid ? status : W_EXITCODE(kExitFailed, 0);
      if (exit_code(worker.wait_status) == 0) continue;
      // Status 2: a usage or configuration error, said by the worker itself or by rank 0.
      const bool explained = WIFEXITED(worker.wait_status) && WEXITSTATUS(worker.wait_status) == kExitUsage;
      if (!quiet_ && !explained) report(worker);
      if (worker.rank != 0 && !first_failure_of_others_) first_failure_of_others_ = worker.rank;
      if (!failed_at_) {
        failed_at_ = Clock::now();
        failed_rank_ = worker.rank;
      }
    }
  }

  static void report(const Worker& worker) {
    const int status = worker.wait_status;
    if (WIFSIGNALED(status))
      fmt::print(stderr, "kiln: rank {} (pid {}) was killed by {}{}\n", worker.rank, worker.pid,
                 signal_name(WTERMSIG(status)), WCOREDUMP(status) ? " (core dumped)" : "");
    else
      fmt::print(stderr, "kiln: rank {} (pid {}) exited with status {}\n", worker.rank, worker.pid,
                 WEXITSTATUS(status));
  }

  void signal_running(int signal) {
    // Only unreaped pids: none of them can have been reused.
    for (const Worker& worker : workers_)
      if (worker.running) kill(worker.pid, signal);
  }

  /// When the next step of stopping the workers is due, if one is.
  std::optional<Clock::time_point> deadline() const {
    if (killed_) return std::nullopt;
    if (terminated_at_) return *terminated_at_ + seconds(options_.kill_seconds);
    if (failed_at_) return *failed_at_ + seconds(options_.grace_seconds);
    return std::nullopt;
  }

  /// SIGTERM to the workers still running grace_seconds after a failure, SIGKILL kill_seconds later.
  void escalate() {
    std::vector<int> ranks;
    for (const Worker& worker : workers_)
      if (worker.running) ranks.push_back(worker.rank);
    const std::string running = fmt::format("rank{} {}", ranks.size() == 1 ? "" : "s", fmt::join(ranks, ", "));
    if (!terminated_at_) {
      fmt::print(stderr, "kiln: {} still running {:g} s after rank {} ended: sending SIGTERM\n", running,
                 options_.grace_seconds, failed_rank_);
      signal_running(SIGTERM);
      terminated_at_ = Clock::now();
    } else {
      fmt::print(stderr, "kiln: {} still running {:g} s after SIGTERM: sending SIGKILL\n", running,
                 options_.kill_seconds);
      signal_running(SIGKILL);
      killed_ = true;
    }
  }

  const LaunchOptions& options_;
  std::vector<std::string> argv_;
  const pid_t launcher_;
  std::vector<Worker> workers_;
  SignalScope signals_;
  bool quiet_ = false;  ///< the launcher stops the workers itself: their ends are not news
  std::optional<Clock::time_point> failed_at_;
  int failed_rank_ = 0;
  std::optional<int> first_failure_of_others_;  ///< the first rank other than 0 to end abnormally
  std::optional<Clock::time_point> terminated_at_;
  bool killed_ = false;
};

/// This process's own command line, as it was given (/proc/self/cmdline).
std::vector<std::string> own_command_line() {
  std::ifstream file("/proc/self/cmdline", std::ios::binary);
  const std::string text((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  if (text.empty()) throw std::runtime_error("cannot read kiln's own command line from /proc/self/cmdline");
  std::vector<std::string> args;
  for (std::size_t begin = 0; begin < text.size();) {
    const std::size_t end = std::min(text.find('\0', begin), text.size());
    args.push_back(text.substr(begin, end - begin));
    begin = end + 1;
  }
  return args;
}

}  // namespace

int launch_local(const LaunchOptions& options) {
  if (options.nproc < 1) throw std::invalid_argument(fmt::format("launch_local: nproc is {}, not 1 or more", options.nproc));
  if (options.program.empty() || options.argv.empty())
    throw std::invalid_argument("launch_local: no program, or no argv (argv[0] included)");
  if (!(options.grace_seconds >= 0) || !(options.kill_seconds >= 0))
    throw std::invalid_argument("launch_local: grace_seconds and kill_seconds must be 0 or more");
  const std::string addr = options.master_addr.empty() ? env_or("MASTER_ADDR", "127.0.0.1") : options.master_addr;
  std::string port = options.master_port.empty() ? env_or("MASTER_PORT", "") : options.master_port;
  if (port.empty()) {
    try {
      port = free_port();
    } catch (const std::system_error& e) {
      return fail(kExitFailed, e.what());
    }
  }
  Launch launch(options, addr, port);
  return launch.run();
}

std::vector<std::string> without_nproc(const std::vector<std::string>& args) {
  std::vector<std::string> out;
  for (auto arg = args.begin(); arg != args.end(); ++arg) {
    if (*arg == "--") {
      out.insert(out.end(), arg, args.end());
      break;
    }
    if (*arg == "--nproc") {
      if (std::next(arg) != args.end()) ++arg;  // and its value
      continue;
    }
    if (arg->rfind("--nproc=", 0) == 0) continue;
    out.push_back(*arg);
  }
  return out;
}

int launch_run(const RunArgs& args) {
  // Already one of several: torchrun's worker, or a task of an srun step of more than one
  // (each would start its own N). `srun -n 1 kiln run --nproc 4` is one launcher, as intended.
  const char* step_tasks = std::getenv("SLURM_STEP_NUM_TASKS");
  if (std::getenv("RANK") || (std::getenv("SLURM_PROCID") && step_tasks && std::string(step_tasks) != "1"))
    return fail(kExitUsage, "--nproc starts its own processes; under torchrun or srun, leave it out");
  // The file and its --set overrides read once, here: one that does not parse is one error
  // (exit 2) before any process starts, not the same error from every rank.
  (void)load_experiment(args.experiment, args.overrides);
  LaunchOptions options;
  options.nproc = args.nproc;
  options.program = "/proc/self/exe";  // this very executable, wherever its file went since
  options.argv = without_nproc(own_command_line());
  return launch_local(options);
}

}  // namespace kiln::runner::cli
