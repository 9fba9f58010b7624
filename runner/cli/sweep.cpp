// `kiln sweep EXP.toml`: many trials of one experiment, each an ordinary run, K at a time.
// The plan and the processes are runner/sweep's; here: the keys checked against the
// experiment (its plugins included) before any trial starts, the store, the terminal.
#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <thread>

#include <signal.h>

#include <fmt/format.h>
#include <torch/cuda.h>

#include "cli/child_signals.hpp"
#include "cli/commands.hpp"
#include "config/cores.hpp"
#include "config/experiment.hpp"
#include "config/sweep_table.hpp"
#include "run/setup.hpp"
#include "store/json_text.hpp"
#include "store/run_store.hpp"
#include "store/schema.hpp"
#include "store/sweeps.hpp"
#include "sweep/median.hpp"
#include "sweep/plan.hpp"
#include "sweep/trials.hpp"

namespace kiln::runner::cli {
namespace {

using sweep::SweepPlan;
using sweep::Trial;

/// The experiment file as the sweep records it: absolute, so that `kiln sweep exp.toml`,
/// `./exp.toml` and `$PWD/exp.toml` are one sweep. A sweep recorded under another spelling of
/// the same file (an older kiln stored the path as given) keeps its own.
std::string recorded_experiment(store::Database& db, const std::string& sweep_name, const std::filesystem::path& file) {
  const std::string absolute = std::filesystem::absolute(file).lexically_normal().string();
  if (const std::optional<store::SweepRow> recorded = store::find_sweep(db, sweep_name)) {
    std::error_code error;
    if (recorded->experiment != absolute && std::filesystem::equivalent(recorded->experiment, file, error))
      return recorded->experiment;
  }
  return absolute;
}

std::vector<std::string> assignments(const SweepPlan& plan, const Trial& trial) {
  std::vector<std::string> out = plan.set;
  for (const auto& [key, value] : trial.overrides) out.push_back(fmt::format("{}={}", key, value));
  out.push_back(fmt::format("experiment.name={}", trial.run));
  return out;
}

/// Builds `trial` as `kiln validate` does, without training; an error about a swept key is
/// rewritten to point at the flag or the [sweep] line that declared it.
void check_trial(const SweepPlan& plan, const Trial& trial) {
  try {
    ExperimentSetup setup(plan.experiment, assignments(plan, trial));
  } catch (const ConfigError& e) {
    const std::string text = e.what();
    for (const auto& [key, value] : trial.overrides) {
      const std::string prefix = fmt::format("--set {}={}: ", key, value);
      if (text.rfind(prefix, 0) != 0) continue;
      const std::vector<const SweptKey*> keys = plan.keys();
      const auto declared = std::find_if(keys.begin(), keys.end(), [&](const SweptKey* k) { return k->key == key; });
      const std::string origin = (*declared)->origin;
      const bool flag = origin.rfind("--", 0) == 0;
      throw Error(fmt::format("{}: {}{}", origin, flag ? "" : fmt::format("{}={}: ", key, value),
                              text.substr(prefix.size())));
    }
    throw;
  }
}

/// Trial 1, then for each swept key each value trial 1 lacks (on trial 1's other values):
/// every key, and every grid and choice value, is built once before anything runs.
void check_keys(const SweepPlan& plan) {
  const Trial& first = plan.trials.front();
  check_trial(plan, first);
  for (std::size_t i = 0; i < first.overrides.size(); ++i) {
    const std::string& key = first.overrides[i].first;
    std::vector<std::string> values;
    for (const auto* list : {&plan.grid, &plan.choice})
      for (const SweptKey& swept : *list)
        if (swept.key == key) values = swept.values;
    for (const std::string& value : values) {
      if (value == first.overrides[i].second) continue;
      Trial variant = first;
      variant.overrides[i].second = value;
      check_trial(plan, variant);
    }
  }
}

std::string overrides_json(const Trial& trial) {
  std::map<std::string, std::string> sorted(trial.overrides.begin(), trial.overrides.end());
  std::vector<std::string> items;
  for (const auto& [key, value] : sorted)
    items.push_back(fmt::format("{}:{}", store::json_string(key), store::json_string(value)));
  return fmt::format("{{{}}}", fmt::join(items, ","));
}

std::string overrides_text(const Trial& trial) {
  std::vector<std::string> items;
  for (const auto& [key, value] : trial.overrides) items.push_back(fmt::format("{}={}", key, value));
  return fmt::format("{}", fmt::join(items, " "));
}

bool sets_key(const SweepPlan& plan, const std::string& key) {
  const auto named = [&](const std::string& assignment) { return assignment.rfind(key + "=", 0) == 0; };
  const std::vector<const SweptKey*> keys = plan.keys();
  return std::any_of(plan.set.begin(), plan.set.end(), named) ||
         std::any_of(keys.begin(), keys.end(), [&](const SweptKey* k) { return k->key == key; });
}

/// The last "error: ..." line a trial wrote to its log: why it failed before its run had a row.
std::string last_error_line(const std::filesystem::path& log) {
  std::ifstream in(log);
  std::string line, found;
  while (std::getline(in, line))
    if (line.rfind("error: ", 0) == 0) found = line.substr(7);
  return found;
}

std::optional<store::TrialRow> trial_row(store::Database& db, std::int64_t sweep_id, std::int64_t number) {
  for (store::TrialRow& row : store::sweep_trials(db, sweep_id))
    if (row.trial == number) return row;
  return std::nullopt;
}

std::string metric_text(const SweepPlan& plan, const store::TrialRow& row) {
  if (!plan.metric || !row.best_value) return "";
  return fmt::format(", {} {:.5g} at step {}", *plan.metric, *row.best_value, row.best_step.value_or(0));
}

/// Waits until no job's run is still alive from an earlier sweep: one killed with SIGKILL left
/// its trials to stop on their own (PR_SET_PDEATHSIG sends them SIGTERM: they checkpoint and
/// end), and `kiln run` refuses to resume a run whose process is alive. Returns the signal
/// (SIGINT, SIGTERM, SIGHUP: blocked, so pending) that ended the wait, else 0.
int wait_for_earlier_trials(const std::filesystem::path& database, const std::vector<sweep::TrialJob>& jobs) {
  constexpr auto kPatience = std::chrono::seconds(300);
  store::RunStore runs(database);
  const auto deadline = std::chrono::steady_clock::now() + kPatience;
  for (const sweep::TrialJob& job : jobs) {
    bool said = false;
    for (;;) {
      const std::optional<store::RunStore::ExistingRun> run = runs.find_run(job.run);
      if (!run || !run->alive) break;
      if (std::chrono::steady_clock::now() > deadline)
        throw Error(fmt::format("trial {} is still running (pid {} on {}) after {} s: stop it, then run the same "
                                "command again",
                                job.run, run->pid, run->host, kPatience.count()));
      if (!said) {
        fmt::print("trial {} is still running (pid {}), from an earlier sweep: waiting for it to stop\n", job.run,
                   run->pid);
        std::fflush(stdout);
        said = true;
      }
      sigset_t pending;
      sigemptyset(&pending);
      sigpending(&pending);
      for (const int signal : {SIGINT, SIGTERM, SIGHUP})
        if (sigismember(&pending, signal)) return signal;
      std::this_thread::sleep_for(std::chrono::milliseconds(250));
    }
  }
  return 0;
}

/// $KILN_SWEEP_POLL_SECONDS: how often median stopping reads the database (2 s; tests of
/// short trials poll faster).
double poll_seconds(double fallback) {
  const char* text = std::getenv("KILN_SWEEP_POLL_SECONDS");
  if (!text || !*text) return fallback;
  char* end = nullptr;
  const double seconds = std::strtod(text, &end);
  if (*end != '\0' || !(seconds > 0))
    throw Error(fmt::format("KILN_SWEEP_POLL_SECONDS='{}': expected a number of seconds above 0", text));
  return seconds;
}

void print_ranking(const SweepPlan& plan, const std::vector<store::TrialRow>& rows) {
  if (!plan.metric) {
    fmt::print("no --metric: see the trials with kiln sweep show {}\n", plan.name);
    return;
  }
  fmt::print("best by {}:\n", *plan.metric);
  std::size_t shown = 0;
  for (const store::TrialRow& row : rows) {
    if (!row.rank || shown == 5) break;
    ++shown;
    const Trial& trial = plan.trials[static_cast<std::size_t>(row.trial - 1)];
    fmt::print("  {}. {}  {:.5g} at step {}  {}\n", *row.rank, row.run, *row.best_value, row.best_step.value_or(0),
               overrides_text(trial));
  }
  if (rows.size() > shown) fmt::print("all {} trials: kiln sweep show {}\n", rows.size(), plan.name);
}

}  // namespace

int sweep(const SweepArgs& args) {
  // Before anything starts a thread (the checks load plugins and LibTorch): every thread then
  // blocks the signals the trials' loop waits for, so none of them is lost to another thread.
  const SignalScope signals;
  const ExperimentSpec base = load_experiment(args.experiment, args.overrides);
  SweepTable table;
  if (base.document->root().contains("sweep")) table = read_sweep_table(base.document->root().table("sweep"));
  sweep::SweepFlags flags;
  flags.set = args.overrides;
  flags.grid = args.grid;
  flags.uniform = args.uniform;
  flags.log_uniform = args.log_uniform;
  flags.choice = args.choice;
  flags.random = args.random;
  flags.seed = args.seed;
  flags.parallel = args.parallel;
  flags.name = args.name;
  flags.metric = args.metric;
  flags.mode = args.mode;
  flags.median_stop = args.median_stop;
  SweepPlan plan = sweep::make_plan(args.experiment, flags, table, base.name, base.seed);
  if (plan.median_stop && !plan.metric) throw Error("--median-stop needs a metric to compare: give --metric TAG");
  check_keys(plan);

  // Each trial's share: the cores split on the CPU (unless threads are set), one GPU each on CUDA.
  const bool cuda_device = base.device == "cuda" || (base.device == "auto" && torch::cuda::is_available());
  const int gpus = cuda_device ? static_cast<int>(torch::cuda::device_count()) : 0;
  const bool split_threads = !cuda_device && base.threads == 0 && !sets_key(plan, "experiment.threads");
  const int threads = std::max(1, usable_cores() / static_cast<int>(plan.parallel));

  store::Database db(base.database);
  store::migrate(db);
  store::SweepRow wanted;
  wanted.name = plan.name;
  wanted.experiment = recorded_experiment(db, plan.name, args.experiment);
  plan.experiment = wanted.experiment;  // the spec names it too
  wanted.spec = plan.spec_json();
  wanted.metric = plan.metric;
  wanted.mode = plan.mode;
  wanted.trials = static_cast<std::int64_t>(plan.trials.size());
  std::vector<store::TrialRow> trial_rows;
  for (const Trial& trial : plan.trials) {
    store::TrialRow row;
    row.trial = trial.number;
    row.run = trial.run;
    row.overrides = overrides_json(trial);
    trial_rows.push_back(std::move(row));
  }
  const store::SweepRow recorded = store::record_sweep(db, wanted, trial_rows);

  // Resume: completed and cut trials are kept; the others start, or resume their run.
  std::vector<sweep::TrialJob> jobs;
  std::int64_t kept = 0;
  const std::filesystem::path logs = base.runs_dir;
  std::filesystem::create_directories(logs);
  for (const store::TrialRow& row : store::sweep_trials(db, recorded.id)) {
    if (row.status == "completed" || row.cut_step) {
      ++kept;
      continue;
    }
    jobs.push_back({row.trial, row.run, logs / (row.run + ".log")});
  }
  std::sort(jobs.begin(), jobs.end(), [](const sweep::TrialJob& a, const sweep::TrialJob& b) { return a.number < b.number; });
  const std::size_t total = plan.trials.size();
  fmt::print("sweep {}: {} trials, {} at a time{}; logs in {}\n", plan.name, total, plan.parallel,
             kept ? fmt::format(", {} already done", kept) : "", logs.string());

  sweep::TrialOptions options;
  options.program = "/proc/self/exe";
  options.parallel = static_cast<int>(plan.parallel);
  options.environment = {fmt::format("KILN_SWEEP_ID={}", recorded.id)};
  options.argv = [&](const sweep::TrialJob& job, int slot) {
    std::vector<std::string> argv = {"kiln", "run", args.experiment.string()};
    std::vector<std::string> sets = assignments(plan, plan.trials[static_cast<std::size_t>(job.number - 1)]);
    if (split_threads) sets.push_back(fmt::format("experiment.threads={}", threads));
    if (gpus > 0 && base.device.rfind("cuda:", 0) != 0 && !sets_key(plan, "experiment.device"))
      sets.push_back(fmt::format("experiment.device=\"cuda:{}\"", slot % gpus));
    for (const std::string& set : sets) {
      argv.push_back("--set");
      argv.push_back(set);
    }
    return argv;
  };
  options.started = [&](const sweep::RunningTrial& trial) {
    fmt::print("trial {}/{} {} started: {}\n", trial.number, total, trial.run,
               overrides_text(plan.trials[static_cast<std::size_t>(trial.number - 1)]));
    std::fflush(stdout);
  };
  std::vector<std::string> errors;
  options.ended = [&](const sweep::RunningTrial& trial, int code) {
    const std::optional<store::TrialRow> row = trial_row(db, recorded.id, trial.number);
    // No run yet: a trial stopped by a signal before it began one is stopped, not failed.
    const bool signalled = code > 128;
    const std::string status = row && !row->status.empty() ? row->status : signalled ? "stopped" : "failed";
    std::string line = fmt::format("trial {}/{} {} {}", trial.number, total, trial.run, status);
    if (row && row->cut_step) line += fmt::format(" (cut at step {})", *row->cut_step);
    if (row) line += metric_text(plan, *row);
    if (code != 0 && status != "stopped" && !(row && row->cut_step)) {
      std::string error = row && !row->error.empty() ? row->error : last_error_line(logs / (trial.run + ".log"));
      if (error.empty()) error = fmt::format("exit code {}", code);
      line += fmt::format(": {} (log: {})", error, (logs / (trial.run + ".log")).string());
      errors.push_back(fmt::format("{}: {}", trial.run, error));
    }
    fmt::print("{}\n", line);
    std::fflush(stdout);
  };
  if (plan.median_stop) {
    options.poll_seconds = poll_seconds(options.poll_seconds);
    options.poll = [&](const std::vector<sweep::RunningTrial>& running) {
      return sweep::median_cuts(db, plan, recorded.id, running);
    };
  }
  if (const int signal = wait_for_earlier_trials(base.database, jobs)) {
    fmt::print("sweep {} stopped ({}) before its trials started\n", plan.name, signal_name(signal));
    return 128 + signal;
  }
  const int stopped = sweep::run_trials(options, jobs, signals);
  if (stopped) {
    fmt::print("sweep {} stopped: run the same command again to resume it\n", plan.name);
    return stopped;
  }

  const std::vector<store::TrialRow> rows = store::sweep_trials(db, recorded.id);
  const auto done = std::count_if(rows.begin(), rows.end(), [](const store::TrialRow& r) {
    return r.status == "completed" || r.cut_step;
  });
  print_ranking(plan, rows);
  if (done == 0) return fail(kExitFailed, fmt::format("every trial failed; the first: {}", errors.empty() ? "?" : errors.front()));
  if (static_cast<std::size_t>(done) < rows.size())
    return fail(kExitFailed, fmt::format("{} of {} trials did not complete; rerun the same command to retry them",
                                         rows.size() - static_cast<std::size_t>(done), rows.size()));
  return kExitOk;
}

}  // namespace kiln::runner::cli
