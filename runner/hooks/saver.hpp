// The built-in saver: restore-or-initialize, atomic checkpoints written in the background,
// and tf.train.Saver's retention with the store as the source of truth.
#pragma once

#include <chrono>
#include <cstdint>
#include <exception>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "config/experiment.hpp"
#include "kiln/hook.hpp"
#include "train/checkpoint_keeper.hpp"

namespace kiln::runner {

namespace store {
class Writer;
}

/// What the saver needs besides its [saver] table. The experiment gives the database and
/// init_from; the run, once its row exists, binds the rest (Saver::bind).
struct SaverContext {
  store::Writer* writer = nullptr;    ///< checkpoint rows commit through it, after the summaries
  std::filesystem::path database;     ///< read with a connection of the saver's own
  std::int64_t run_id = 0;
  std::filesystem::path dir;          ///< where checkpoints go: <run dir>/checkpoints
  InitFromSpec init_from;             ///< used only when the run has no checkpoint yet
  std::string run_name;               ///< the experiment's run: prepare() checks init_from unless it has checkpoints
  std::function<double()> clock;      ///< unix seconds; the system clock when empty
};

/// restore_or_initialize(), which the run calls before any hook's begin(): restores the
/// newest checkpoint of this run whose sha256 matches its row (falling back past corrupt
/// ones, with an event), else loads `init_from`'s weights, else keeps the seed's
/// initialization. Saves every N steps or T seconds, on SIGHUP, and at the end. A save
/// copies the state on the training thread (RunContext::capture_state) and writes it on a
/// background thread; the next save first waits for that write, and its error, if any,
/// fails the run there. Priority: after the EMA, before the supervisor.
///
/// As the run's CheckpointKeeper it keeps checkpoints hooks ask for
/// (RunContext::keep_checkpoint("best")): it writes one at that step unless it does anyway,
/// and the newest checkpoint kept for a reason stays whatever max_to_keep says; the one it
/// replaces goes back to the recent ones (and is deleted if it is older than the newest
/// max_to_keep of them). The store's `kept` column holds the reasons (store/checkpoints.hpp),
/// so a resumed run knows its best checkpoint, and `init_from = { from = RUN, best = true }`
/// and `kiln infer --best` find it.
class Saver : public Hook, public CheckpointKeeper {
 public:
  /// [saver]: when to checkpoint and which checkpoints to keep (tf.train.Saver's rule).
  struct Options {
    bool enabled = true;            ///< false: the experiment has no saver (ExperimentSetup builds none)
    std::int64_t every_steps = 0;   ///< 0 disables step-based saves
    double every_secs = 600;        ///< 0 disables time-based saves (the default with every_steps)
    std::int64_t max_to_keep = 5;   ///< 0 keeps every checkpoint
    double keep_every_hours = 0;    ///< 0 disables; else also keep one per this many hours

    /// The [saver] table (empty when the file has none); a bad value is a ConfigError at its key.
    static Options read(const Config& table);
  };

  Saver(Options options, SaverContext context);
  ~Saver() override;

  /// The run's part of the context, once its row exists; `clock` replaces the context's
  /// when given.
  void bind(store::Writer& writer, std::int64_t run_id, std::filesystem::path dir,
            std::function<double()> clock = {});

  int default_priority() const override { return priority::saver; }
  /// An `init_from` naming a run that is not there, a step it has no checkpoint of, or
  /// `best = true` for a run without a best checkpoint (or with a checkpoint file), is a
  /// ConfigError at its key, found before the run starts.
  void prepare(RunContext& run) override;
  /// Restores the latest valid checkpoint, or initializes (from the seed or init_from).
  void restore_or_initialize(RunContext& run);
  void begin(RunContext& run) override;
  void after_step(Step& step) override;
  void end(RunContext& run) override;

  /// Keeps the checkpoint of `step` for `reason` (a lowercase word, not "max_to_keep" or
  /// "keep_every_hours"). Asked before the saver's after_step at that step (priority below
  /// kiln::priority::saver), the saver writes one then unless it does anyway; asked after
  /// its turn, the checkpoint it wrote at that step is marked, or one is written now. An
  /// Error for a bad reason, or for a step that is neither the current one nor saved.
  void keep(std::int64_t step, std::string_view reason) override;

  /// Snapshots now and writes in the background; `reason` goes in the checkpoint's row.
  void save(RunContext& run, const std::string& reason) { save(run, reason, {}); }
  /// Waits for the write in flight; rethrows its error.
  void wait();

  /// The step restored at begin(), if one was.
  std::optional<std::int64_t> restored_step() const { return restored_step_; }

 private:
  double now() const;
  /// init_from's checkpoint file and the sha256 its row gives (empty for a bare file).
  std::pair<std::filesystem::path, std::string> init_from_checkpoint() const;
  /// Whether the run already has checkpoints of its own (it resumes; init_from is not used).
  bool run_has_checkpoints() const;
  bool restore_latest(RunContext& run);
  void initialize(RunContext& run);
  /// As save(run, reason), the checkpoint kept for each of `keeps` once it is recorded.
  void save(RunContext& run, const std::string& reason, std::vector<std::string> keeps);
  void write(const TensorMap& snapshot, std::int64_t step, const std::string& reason,
             const std::vector<std::string>& keeps, double created);
  /// Marks the checkpoint already written at `step` kept for `keeps`, once its write ends.
  void keep_written(std::int64_t step, const std::vector<std::string>& keeps);
  /// The keeps asked for at `step` (none when they were asked for another step); clears them.
  std::vector<std::string> take_keeps(std::int64_t step);
  void event(std::int64_t step, const std::string& kind, const std::string& message);
  void clean_leftovers();

  Options options_;
  SaverContext context_;
  std::int64_t last_saved_step_ = -1;
  std::chrono::steady_clock::time_point last_save_time_;
  std::optional<std::int64_t> restored_step_;
  RunContext* run_ = nullptr;        // from begin(): a keep asked after the saver's turn saves on it
  std::int64_t turn_step_ = -1;      // the step whose after_step (or begin, end) the saver has had
  std::int64_t keep_step_ = -1;      // the step the keeps below were asked at
  std::vector<std::string> keeps_;   // reasons asked for at keep_step_, in order, once each
  std::thread writing_;
  std::exception_ptr write_error_;
  std::optional<TensorMap> init_weights_;  // init_from's checkpoint, read by prepare() for initialize()
};

}  // namespace kiln::runner
