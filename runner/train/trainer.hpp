// The training loop: builds an experiment's objects from plugins and runs its phased steps.
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <functional>
#include <memory>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <torch/optim/optimizer.h>

#include "config/experiment.hpp"
#include "config/world.hpp"
#include "kiln/kiln.hpp"
#include "train/device.hpp"
#include "train/loader.hpp"
#include "train/lr_schedule.hpp"
#include "train/readout.hpp"
#include "train/recorder.hpp"
#include "train/step_values.hpp"

namespace kiln::runner {

class BatchCopier;
struct CapturedStep;
class GradScaler;
class NonFinitePolicy;
class PluginHost;
class ProcessGroup;

/// One optimizer's share of a step: its parameter group, its losses and its update. Hooks
/// reach it as a PhaseHandle (RunContext::phase).
struct Phase final : PhaseHandle {
  OptimizerSpec spec;
  std::vector<torch::Tensor> params;
  std::unique_ptr<torch::optim::Optimizer> optimizer;
  std::vector<std::pair<std::size_t, double>> losses;  ///< index into the trainer's losses, weight
  std::unique_ptr<GradScaler> scaler;  ///< fp16 only: the phase's loss scale
  std::unique_ptr<PhaseSchedule> schedule;  ///< the optimizer's `schedule`; null: none
  std::vector<double> base_lrs;             ///< each group's configured rate, what the schedule scales
  std::optional<double> clip_norm;          ///< the optimizer's `clip_norm`: the bound of the gradients' L2 norm
  std::optional<double> clip_value;         ///< the optimizer's `clip_value`: each gradient within [-v, v]
  Phase();
  Phase(Phase&&) noexcept;
  Phase& operator=(Phase&&) noexcept;
  ~Phase() override;

  // PhaseHandle
  const std::string& name() const override { return spec.name; }
  const std::vector<torch::Tensor>& parameters() const override { return params; }
  std::size_t param_groups() const override;
  double lr(std::size_t group) const override;
  void set_lr(double lr, std::optional<std::size_t> group) override;
};

struct NamedLoss {
  std::string name;
  std::shared_ptr<Loss> loss;
};

struct OrderedHook {
  std::string name;
  int priority;
  std::shared_ptr<Hook> hook;
};

/// Builds every object an experiment names (seeding torch first, so initial weights follow
/// the seed) and runs the loop of docs/architecture.md, "One training step". It is the
/// RunContext hooks see. Construction errors are the experiment's fault (ConfigError,
/// PluginError, Error); errors from run() are a failed run.
///
/// Loss values reach the host through a Readout: on the CPU within the step, on CUDA one
/// stacked copy per step, handled a step later (the host stays a step ahead of the GPU).
/// The built-in hooks that read them are StepValuesListeners (step_values.hpp).
class Trainer final : public RunContext, public StepValuesSource {
 public:
  /// `world`: this process's place in a data-parallel run (one process by default): its
  /// loader takes its rank's share of each batch, its device is cuda:<local rank> where the
  /// experiment asks for CUDA without an index, and threads = 0 means its share of the cores.
  Trainer(const ExperimentSpec& spec, PluginHost& host, const World& world = {});
  ~Trainer() override;

  /// The process group of a run of several processes, before run(): run() then starts from
  /// rank 0's state (its restored checkpoint or its initialization), every phase averages its
  /// gradients and losses over the ranks before its update, the model's floating-point
  /// buffers are averaged after each step, and a stop any rank asks for is agreed on at the
  /// end of a step, so that every rank stops after the same one.
  void join(ProcessGroup& group);
  const World& world() const { return world_; }
  /// Whether run() has begun (a rank 0 that fails before it tells the other ranks so).
  bool started() const { return started_; }

  /// Adds a hook (built-in ones come this way too); hooks run by priority, ties in the
  /// order they were added.
  void add_hook(std::string name, std::shared_ptr<Hook> hook, int priority);
  /// The same, at the hook's default_priority() (the built-in hooks' places are in
  /// kiln/hook.hpp, kiln::priority).
  void add_hook(std::string name, std::shared_ptr<Hook> hook) {
    const int at = hook->default_priority();
    add_hook(std::move(name), std::move(hook), at);
  }

  /// Every hook's prepare(): checks that need the whole experiment, before anything of
  /// the run is written. A hook's ConfigError comes out as it is.
  void prepare();

  /// Where the run's summaries and events go, and what the run is called.
  void attach(Recorder& recorder, std::string run_name, std::filesystem::path run_dir);

  /// Runs from the current global step until max_steps or a stop request: every hook's
  /// begin(), the steps, every hook's end(). Whoever restores the run does it before.
  void run();

  // RunContext
  const std::string& run_name() const override { return run_name_; }
  const std::filesystem::path& run_dir() const override { return run_dir_; }
  std::int64_t global_step() const override { return global_step_; }
  std::int64_t max_steps() const override { return max_steps_; }
  Model& model() override { return *model_; }
  WeightAverager* averager() override;
  const Dataset* dataset(std::string_view split) override;
  TensorMap evaluate(const TensorMap& batch, bool averaged) override;
  void image(std::string_view tag, std::int64_t step, const std::filesystem::path& file) override;
  void summary(std::string_view tag, std::int64_t step, double value) override;
  /// Read now on the CPU; on CUDA gathered with the step's losses and recorded when they
  /// are collected, at `step`.
  void tensor_summary(std::string_view tag, std::int64_t step, const torch::Tensor& scalar) override;
  void event(std::string_view kind, std::string_view message) override;
  TensorMap capture_state() override;
  void restore_state(const TensorMap& state) override;
  int rank() const override { return world_.rank; }
  int world_size() const override { return world_.size; }
  std::vector<std::string> load_model_weights(const TensorMap& weights, bool strict) override;
  void request_stop(std::string_view reason) override;
  bool stop_requested() const override { return stop_requested_.load(std::memory_order_relaxed); }
  std::string stop_reason() const override;
  std::vector<std::string> phase_names() const override;
  /// An Error naming the phases (with a did-you-mean) when none is called `name`.
  PhaseHandle& phase(std::string_view name) override;
  /// Of every value that went through summary() (tensor summaries once read), in this process.
  std::optional<SummaryValue> latest_summary(std::string_view tag) const override;
  /// Handed to the hook that is a CheckpointKeeper (the saver) with the current global step.
  void keep_checkpoint(std::string_view reason) override;
  void summary_direction(std::string_view tag, Direction direction) override;

  /// After run() threw from inside a hook: "hook 'name', after_step" (which hook, which
  /// call); empty when the failure was not in a hook.
  std::string failed_hook() const;

  /// Where the model, its optimizers' state and every batch live, and the arithmetic of the
  /// steps ([experiment] device and precision, resolved).
  c10::Device device() const { return device_; }
  Precision precision() const { return precision_; }
  /// `batch` on the training device (itself on the CPU); on CUDA copied on a stream of its
  /// own, which the current stream waits for (train/batch_copy.hpp).
  Batch to_device(const Batch& batch) const;

  /// Steps this process ran (after any restore).
  std::int64_t steps_run() const { return global_step_ - first_step_; }
  const std::vector<Phase>& phases() const { return phases_; }
  const std::vector<OrderedHook>& hooks() const { return hooks_; }
  DataLoader& loader() { return *loader_; }

  /// The first training batch through every phase's forward and losses, without gradients
  /// or updates (`kiln validate`): each loss's value, as "phase/loss". A loss that returns
  /// no scalar is an Error, as in training.
  std::vector<std::pair<std::string, double>> check_losses();

  /// One training step on `batch`, counted before the after_step hooks run (public for
  /// tests and benchmarks); `batch` is the step's one micro-batch, whatever `accumulate` says.
  void train_step(const Batch& batch, Step& step);
  /// One training step over `micro_batches` (on the training device): each phase forwards
  /// every one and sums their gradients, each scaled 1/N, before its update.
  void train_step(const std::vector<Batch>& micro_batches, Step& step);
  /// Batches per step (`[experiment] accumulate`).
  int accumulate() const { return accumulate_; }

  /// Steps whose values may be in flight when a step ends: 0 on the CPU, 1 on CUDA.
  std::size_t value_lag() const { return value_lag_; }
  /// Test-only: handles values `lag` steps late, as CUDA does (1), on any device; the
  /// values are held back even on the CPU, where they are there at once. Call before run().
  void force_value_lag_for_tests(std::size_t lag);

 private:
  void build_phases(const ExperimentSpec& spec, PluginHost& host);
  /// restore_state(), putting the state before it back when a hook refuses its part and
  /// `roll_back` (the roll-back itself does not).
  void restore_state(const TensorMap& state, bool roll_back);
  /// The hook that decides what a non-finite loss does (the supervisor's on_nan), if any.
  const NonFinitePolicy* non_finite_policy() const;
  /// False when the phase's loss was not finite and the policy dropped its update.
  bool run_phase(Phase& phase, const std::vector<Batch>& micro_batches, Step& step);
  /// Sets every scheduled phase's rates for the step `step` (0-based).
  void apply_schedules(std::int64_t step);
  /// The optimizer's clip_norm and clip_value on the phase's gradients; the norm before
  /// clipping goes to the readout when it is summarised.
  void clip_gradients(Phase& phase, std::size_t phase_index);
  /// Whether grad_norm/<phase> is gathered: a clip is set, or a listener asks for it.
  bool grad_norm_wanted(const Phase& phase) const;
  /// Whether a non-finite loss is checked from collected values (on CUDA with on_nan =
  /// "stop"), not read before each phase's update.
  bool nan_check_deferred() const;
  /// [experiment] cuda_graphs: the step on `batch`: eager for the warm-up steps, then
  /// captured (and run once), then replayed. False when a phase's update was dropped.
  bool graphed_step(const Batch& batch, Step& step);
  void capture_step(const Batch& batch, Step& step);
  void replay_step(const Batch& batch, Step& step);
  /// Drops the captured step (a restore replaced what it refers to); eager steps follow.
  void drop_captured_step();
  /// Handles collected steps, oldest first: records their tensor summaries, fails the run
  /// for a non-finite loss when the check is deferred (the message names the step and
  /// phase), and puts each complete step's loss values in every listener's inbox. After a
  /// failure (`failing`): no check, and nothing from a non-finite step on.
  void take_values(std::vector<StepScalars> collected, bool failing);
  /// Hands `hook` what its inbox holds, if it is a StepValuesListener.
  void deliver_to(Hook& hook);
  /// Everything in flight, now (capture_state() calls it: no checkpoint is written after a
  /// non-finite loss); delivered to the listeners whose after_step() for the newest step
  /// has run (all of them outside after_step).
  void flush_values();
  /// After a failure: what was in flight goes where it would have; errors are dropped.
  void flush_after_failure() noexcept;

  /// Data-parallel runs: rank 0's state on every rank, before the hooks begin.
  void share_start_state();
  /// Data-parallel runs: whether any rank asked for a stop (every rank calls it at the same
  /// point of the same step); the first rank's reason becomes this one's.
  bool agree_on_stop();
  /// Data-parallel runs: each rank's random generators, set from (seed, rank, step) at the
  /// start of every step, so that ranks draw differently and a resume draws as before.
  void seed_step(std::int64_t step);

  /// Calls `call` on every hook in order, remembering which one runs for failed_hook().
  template <class Call>
  void each_hook(const char* what, Call&& call);

  std::shared_ptr<Model> model_;
  std::string model_name_;  // its plugin's name, for messages
  std::shared_ptr<Dataset> dataset_;
  std::shared_ptr<Dataset> eval_dataset_;
  std::unique_ptr<DataLoader> loader_;
  std::vector<NamedLoss> losses_;
  std::vector<Phase> phases_;
  std::vector<OrderedHook> hooks_;

  World world_;
  ProcessGroup* group_ = nullptr;
  /// During a data-parallel phase's last backward pass: what the phase's parameters' gradient
  /// hooks (registered by join()) hand each gradient to, and which phase that is.
  std::function<void(std::size_t, torch::Tensor)> gradient_ready_;
  std::size_t gradient_phase_ = 0;
  std::vector<torch::Tensor> float_buffers_;  // averaged over the ranks after each step
  bool started_ = false;
  std::uint64_t seed_ = 0;
  c10::Device device_{c10::kCPU};
  Precision precision_ = Precision::fp32;
  std::int64_t max_steps_;
  int accumulate_ = 1;
  std::int64_t global_step_ = 0;
  const OrderedHook* running_hook_ = nullptr;  // the hook being called, for failed_hook()
  const char* running_call_ = "";
  std::int64_t first_step_ = 0;  // global_step_ once the hooks began (and restored)
  Recorder* recorder_ = nullptr;
  std::string run_name_;
  std::filesystem::path run_dir_;
  std::atomic<bool> stop_requested_{false};
  mutable std::mutex stop_mutex_;  // stop requests may come from other threads
  std::string stop_reason_;

  /// Losses, phase totals and (on CUDA) tensor summaries of each step, read without waiting.
  std::unique_ptr<Readout> readout_;
  std::size_t value_lag_ = 0;
  std::unique_ptr<BatchCopier> copier_;  // the loader's batches to the device
  std::unique_ptr<CapturedStep> graphed_;  // [experiment] cuda_graphs; null when off
  Config experiment_table_;                // [experiment], for errors at its keys found later
  std::set<std::int64_t> incomplete_steps_;  // ended without all updates: no loss values for hooks
  bool values_poisoned_ = false;             // a non-finite loss stopped the run: nothing after it
  struct Inbox {
    const Hook* hook;
    StepValuesListener* listener;
    std::deque<StepScalars> values;
  };
  std::vector<Inbox> inboxes_;  // one per listener hook, in the order they were added
  bool grad_norms_requested_ = false;  // a listener hook asked for grad_norm/<phase>
  std::vector<RecordListener*> record_listeners_;  // hooks handed what is recorded, as it is

  mutable std::mutex summaries_mutex_;  // hooks may record from other threads
  std::map<std::string, SummaryValue, std::less<>> latest_summaries_;
  // A tag recorded twice at one step with two values (two hooks writing it?) is said once.
  std::set<std::string, std::less<>> recorded_twice_;
  std::int64_t summaries_redone_through_ = -1;  // steps a restore sends back over: recorded again
};

template <class Call>
inline void Trainer::each_hook(const char* what, Call&& call) {
  running_call_ = what;
  for (OrderedHook& hook : hooks_) {
    running_hook_ = &hook;
    call(*hook.hook);
  }
  running_hook_ = nullptr;  // left set when a hook throws
}

}  // namespace kiln::runner
