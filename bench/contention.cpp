// kiln_bench_contention: the main job's step beside a busy process, against the same step on
// an idle machine, with kiln's default settings.
//
// Users train on machines that do other things. With one of two cores taken by another
// process, a step with the default settings may cost at most 1.5x its idle time (issue
// "Hardening", point 8): a thread count or a wait policy that assumes the machine is kiln's
// alone made it 3x. Each round runs the real `kiln run experiments/pix2pix.toml` twice, once
// with the machine idle and once beside a process that spins on one core, and compares the
// median `time/step_ms` of the two runs; the rounds alternate which goes first.
//
//   ./build/bench/kiln_bench_contention                 # 3 rounds of 2 x 60 steps
//   ./build/bench/kiln_bench_contention --max-ratio 1.5 # exit 1 above it
//   ./build/bench/kiln_bench_contention --set experiment.threads=2   # a setting to compare
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <sqlite3.h>

#include "timing.hpp"

namespace {

namespace fs = std::filesystem;
using kiln::bench::median;

struct Options {
  int steps = 60;
  int warmup = 10;
  int rounds = 3;
  std::vector<std::string> sets;
  double max_ratio = 0;
};

/// A child process that spins on a core until it is killed: "another process" at full load.
class BusyProcess {
 public:
  BusyProcess() {
    std::fflush(stdout);  // or the child would inherit, and one day write, what is buffered
    pid_ = fork();
    if (pid_ == 0) {
      volatile unsigned long long n = 0;
      for (;;) n = n + 1;
    }
    if (pid_ < 0) throw std::runtime_error("fork failed");
  }
  ~BusyProcess() {
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }
  BusyProcess(const BusyProcess&) = delete;
  BusyProcess& operator=(const BusyProcess&) = delete;

 private:
  pid_t pid_ = -1;
};

/// Runs `kiln args...` in `cwd`, its output to /dev/null; throws unless it exits 0.
void run_kiln(const std::vector<std::string>& args, const fs::path& cwd) {
  std::fflush(stdout);
  const pid_t pid = fork();
  if (pid == 0) {
    if (chdir(cwd.c_str()) != 0) _exit(127);
    std::FILE* null = std::freopen("/dev/null", "w", stdout);
    (void)null;
    std::vector<char*> argv;
    std::string binary = KILN_BINARY;
    argv.push_back(binary.data());
    std::vector<std::string> copy = args;
    for (std::string& arg : copy) argv.push_back(arg.data());
    argv.push_back(nullptr);
    execv(binary.c_str(), argv.data());
    _exit(127);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    throw std::runtime_error(fmt::format("kiln {} failed (status {})", fmt::join(args, " "), status));
}

/// The per-step times (ms) a run recorded, after its warm-up steps.
std::vector<double> step_times(const fs::path& db, int warmup) {
  sqlite3* handle = nullptr;
  if (sqlite3_open_v2(db.c_str(), &handle, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK)
    throw std::runtime_error("cannot open " + db.string());
  sqlite3_stmt* select = nullptr;
  sqlite3_prepare_v2(handle, "SELECT value FROM summaries WHERE tag = 'time/step_ms' AND step > ?1 ORDER BY step", -1,
                     &select, nullptr);
  sqlite3_bind_int(select, 1, warmup);
  std::vector<double> out;
  while (sqlite3_step(select) == SQLITE_ROW) out.push_back(sqlite3_column_double(select, 0));
  sqlite3_finalize(select);
  sqlite3_close(handle);
  return out;
}

/// CPU seconds of the children this process has waited for.
double children_cpu() {
  rusage usage{};
  getrusage(RUSAGE_CHILDREN, &usage);
  return static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
         1e-6 * static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec);
}

struct Measured {
  double ms = 0;      ///< median step
  double others = 0;  ///< share of the machine other processes used meanwhile
};

Measured measure(const Options& options, bool busy, int index) {
  const fs::path dir = fs::temp_directory_path() / fmt::format("kiln-bench-contention-{}-{}", getpid(), index);
  fs::remove_all(dir);
  fs::create_directories(dir);
  std::vector<std::string> args = {"run", fs::path(KILN_SOURCE_DIR) / "experiments/pix2pix.toml",
                                   "--set", fmt::format("experiment.max_steps={}", options.steps),
                                   "--set", "supervisor.summary_every_steps=1",
                                   "--set", "supervisor.log_every_steps=0",
                                   "--set", "saver.enabled=false"};
  for (const std::string& set : options.sets) args.insert(args.end(), {"--set", set});
  Measured out;
  {
    std::unique_ptr<BusyProcess> neighbour;
    if (busy) neighbour = std::make_unique<BusyProcess>();
    // (its CPU time is the machine's, not a child's this process has waited for: it is
    // reaped only when `neighbour` goes, after the measurement)
    const auto from = kiln::bench::Snapshot::now();
    const double kiln_from = children_cpu();
    run_kiln(args, dir);
    const auto to = kiln::bench::Snapshot::now();
    // Timing counts this process's CPU as its own; kiln ran in a child, and so did the
    // busy process, which is not "other" either when it was asked for.
    const kiln::bench::Timing timing(from, to);
    const double cores = static_cast<double>(std::max(1u, std::thread::hardware_concurrency()));
    const double kiln_cpu = children_cpu() - kiln_from;
    out.others = std::max(0.0, timing.others - kiln_cpu / (timing.wall * cores) - (busy ? 1.0 / cores : 0.0));
  }
  out.ms = median(step_times(dir / "runs/kiln.db", options.warmup));
  fs::remove_all(dir);
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  Options options;
  CLI::App app("pix2pix's step beside a busy process, against the idle step (kiln's defaults)");
  app.add_option("--steps", options.steps, "steps per run")->check(CLI::PositiveNumber);
  app.add_option("--warmup", options.warmup, "first steps of each run left out")->check(CLI::NonNegativeNumber);
  app.add_option("--rounds", options.rounds, "idle + busy pairs")->check(CLI::PositiveNumber);
  app.add_option("--set", options.sets, "an experiment override for every run (KEY=VALUE)");
  app.add_option("--max-ratio", options.max_ratio, "exit 1 when busy/idle is above this");
  CLI11_PARSE(app, argc, argv);
  if (options.warmup >= options.steps) {
    fmt::print(stderr, "error: --warmup must be below --steps\n");
    return 2;
  }

  fmt::print("kiln_bench_contention: experiments/pix2pix.toml, {} steps per run ({} left out), {} rounds{}\n",
             options.steps, options.warmup, options.rounds,
             options.sets.empty() ? ", default settings" : fmt::format(", --set {}", fmt::join(options.sets, " --set ")));
  fmt::print("{} cores; busy: one other process spinning on a core\n\n", std::thread::hardware_concurrency());
  fmt::print("round   idle ms/step  (others)   busy ms/step  (others)   busy/idle\n");
  std::vector<double> ratios, idle_ms, busy_ms, idle_others;
  int index = 0;
  for (int round = 1; round <= options.rounds; ++round) {
    // Alternate which goes first, so that a drift of the machine hits both.
    Measured idle, busy;
    if (round % 2) {
      idle = measure(options, false, index++);
      busy = measure(options, true, index++);
    } else {
      busy = measure(options, true, index++);
      idle = measure(options, false, index++);
    }
    ratios.push_back(busy.ms / idle.ms);
    idle_ms.push_back(idle.ms);
    busy_ms.push_back(busy.ms);
    idle_others.push_back(idle.others);
    fmt::print("{:5}   {:12.1f}  ({:5.0f}%)   {:12.1f}  ({:5.0f}%)   {:9.3f}\n", round, idle.ms, 100 * idle.others,
               busy.ms, 100 * busy.others, ratios.back());
    std::fflush(stdout);
  }
  const double ratio = median(ratios);
  fmt::print("median  {:12.1f}              {:12.1f}              {:9.3f}\n", median(idle_ms), median(busy_ms), ratio);
  if (median(idle_others) > 0.05)
    fmt::print("warning: other processes used {:.0f}% of the machine during the idle runs: measure again when it is idle\n",
               100 * median(idle_others));
  if (options.max_ratio > 0) {
    const bool ok = ratio <= options.max_ratio;
    fmt::print("\nbusy/idle = {:.3f}, target <= {}: {}\n", ratio, options.max_ratio, ok ? "ok" : "TOO SLOW");
    return ok ? 0 : 1;
  }
  return 0;
}
