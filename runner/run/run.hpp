// Run: one run's lifecycle, from the experiment to its final status in the store.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "run/setup.hpp"
#include "store/run_store.hpp"

namespace kiln::runner {

namespace store {
class Writer;
}
class Saver;
class StoreRecorder;

struct RunOptions {
  bool fresh = false;             ///< a new run (name-2, name-3 ...) instead of resuming this one
  bool handle_signals = true;     ///< SIGINT/SIGTERM stop the run, SIGHUP saves (kiln run)
  std::function<double()> clock;  ///< the saver's clock, unix seconds (tests); the system's when empty
  /// A data-parallel run's backend and every rank's host, in rank order (its world is the
  /// setup's), recorded in `runs`; empty for one process.
  std::string backend;
  std::vector<std::string> hosts;
};

/// How a run ended, for whoever started it to report.
struct RunOutcome {
  std::string name;
  std::filesystem::path run_dir;
  /// "completed", "stopped" or "failed"; "done" when the run had already reached
  /// max_steps and nothing was trained.
  std::string status;
  std::string error;         ///< a failed run's "step N: what (in hook 'x', after_step)"
  std::string unrecorded;    ///< why the final status could not be recorded, or ""
  std::string stop_reason;   ///< a stopped run's reason
  std::string device;        ///< where it trained: "cpu, torch 1.13.0, fp32" (describe_line)
  std::int64_t step = 0;     ///< the run's global step at the end
  std::int64_t steps_run = 0;
  double seconds = 0;        ///< training time in this process
  bool marked_completed = false;  ///< "done": the run had crashed after its final checkpoint
};

/// One run of an experiment built by ExperimentSetup: finds it in the store (running the
/// experiment again resumes its run, as tf.train.Supervisor did with its logdir), creates or
/// resumes its row, binds the saver, restores (or initializes) before any hook's begin(),
/// trains, and records how it ended. `kiln run` and the tests use it.
///
///     ExperimentSetup setup("experiments/mlp.toml", {});
///     Run run(setup, {});
///     RunOutcome outcome = run.execute();
///
/// The constructor throws (a kiln::Error: exit 2) for what is wrong before the run's row
/// is touched: the run is alive in another process, its directory is outside the runs
/// folder. From execute() on, every failure is the run's: it ends 'failed' with the step and
/// the hook, and execute() returns.
class Run {
 public:
  Run(ExperimentSetup& setup, RunOptions options);
  ~Run();
  Run(const Run&) = delete;
  Run& operator=(const Run&) = delete;

  RunOutcome execute();

  /// The run's row (0 before execute() created it) and its store, for tests.
  std::int64_t id() const { return run_id_; }
  store::RunStore& store() { return store_; }
  /// The writer of the run's summaries while execute() runs (tests drive it afterwards).
  store::Writer* writer() { return writer_.get(); }
  /// The keys of the experiment that differ from the resumed run's recorded ones.
  const std::vector<std::string>& changed_keys() const { return changed_; }

 private:
  /// A run that already reached max_steps: nothing to train (and a crashed one that had
  /// saved its final checkpoint is marked completed). Empty when there is training to do.
  std::optional<RunOutcome> already_done();
  /// The run directory in the runs folder, its checkpoints and experiment copy in it.
  void check_paths() const;
  /// Creates or resumes the row and writes the experiment copy; the outcome when that fails.
  std::optional<RunOutcome> record_start();
  RunOutcome train();

  ExperimentSetup& setup_;
  RunOptions options_;
  std::string device_line_;  // describe_line() of the trainer's device, once recorded
  store::RunStore store_;
  std::string name_;
  std::optional<store::RunStore::ExistingRun> existing_;
  std::vector<std::string> changed_;
  std::filesystem::path run_dir_;
  std::int64_t run_id_ = 0;
  std::unique_ptr<store::Writer> writer_;
  std::unique_ptr<StoreRecorder> recorder_;
};

/// "a, b and 3 more": keys in one line.
std::string describe_keys(const std::vector<std::string>& keys);

}  // namespace kiln::runner
