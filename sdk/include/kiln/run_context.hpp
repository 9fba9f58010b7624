// kiln::RunContext: what a hook may ask of the run it is part of.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kiln/tensors.hpp"
#include "kiln/version.hpp"

namespace kiln {

class Dataset;
class Model;
class WeightAverager;

/// Whether lower or higher values of a summary are better.
enum class Direction { min, max };

/// One phase of every step as hooks reach it (RunContext::phase): an optimizer and its
/// parameter group.
class KILN_API PhaseHandle {
 public:
  virtual ~PhaseHandle();
  /// The [[optimizers]] entry's name.
  virtual const std::string& name() const = 0;
  /// The phase's parameters, in its optimizer's order.
  virtual const std::vector<torch::Tensor>& parameters() const = 0;
  /// How many parameter groups its optimizer has (one per [[optimizers]] entry today).
  virtual std::size_t param_groups() const = 0;
  /// The learning rate group `group` updates with next. An Error for a group out of range.
  virtual double lr(std::size_t group = 0) const = 0;
  /// Sets the learning rate of one group, or of every group when `group` is empty. A
  /// `schedule` sets the rates at the start of each step, before the before_step() hooks,
  /// so a rate a hook sets holds for the rest of that step; without a schedule it holds
  /// until set again. Checkpoints hold it: a resumed run updates with it. A rate that is
  /// negative or not finite is an Error.
  virtual void set_lr(double lr, std::optional<std::size_t> group = std::nullopt) = 0;
};

/// The running experiment, as hooks see it. The runner implements it; built-in hooks use
/// exactly this interface too.
class KILN_API RunContext {
 public:
  virtual ~RunContext();

  virtual const std::string& run_name() const = 0;
  virtual const std::filesystem::path& run_dir() const = 0;
  /// Steps completed so far. During a step's after_step hooks, that step is counted.
  virtual std::int64_t global_step() const = 0;
  virtual std::int64_t max_steps() const = 0;
  virtual Model& model() = 0;

  /// Records a scalar summary at `step`; never blocks on the database.
  virtual void summary(std::string_view tag, std::int64_t step, double value) = 0;
  /// Records an event (kind such as "start", "signal", "nan") in the run's history.
  virtual void event(std::string_view kind, std::string_view message) = 0;

  /// A dataset of the experiment: "train" ([data]) or "eval" ([eval_data]); null when the
  /// experiment has none of that name.
  virtual const Dataset* dataset(std::string_view split) = 0;
  /// Runs the model on `batch` for evaluation: eval mode, no gradients, step phase "eval",
  /// with the averaged weights when `averaged` and the run has an averager. The model is
  /// back in training mode, with its trained weights, when this returns (or throws).
  /// `batch` may be on the CPU (it is copied to the training device); the outputs are on the
  /// training device, in the run's precision (bf16/fp16 under autocast): move and convert
  /// them before comparing with CPU tensors or reading their bytes.
  virtual TensorMap evaluate(const TensorMap& batch, bool averaged = true) = 0;
  /// Records an image file the hook wrote (a PNG in the run directory) as a row of `images`.
  virtual void image(std::string_view tag, std::int64_t step, const std::filesystem::path& file) = 0;

  /// The hook that keeps averaged weights (the EMA), or null when there is none.
  virtual WeightAverager* averager() = 0;

  /// A copy of everything a checkpoint holds: the model's parameters and buffers
  /// ("model/<name>"), optimizer states ("optim/..."), the torch RNG, the data cursor, the
  /// global step and every hook's state() ("hook/<hook>/<key>"). Training may go on while
  /// the copy is written elsewhere.
  virtual TensorMap capture_state() = 0;
  /// Puts back what capture_state() returned, strictly: missing, unexpected or mis-shaped
  /// entries are one CheckpointError listing their names. Then every hook's after_restore().
  virtual void restore_state(const TensorMap& state) = 0;
  /// Copies model weights ("model/<name>" entries) into the model. Strict: any missing,
  /// unexpected or mis-shaped entry is a CheckpointError; not strict: those are skipped and
  /// their names returned.
  virtual std::vector<std::string> load_model_weights(const TensorMap& weights, bool strict) = 0;

  /// Asks the loop to stop after the current step; the first reason wins.
  virtual void request_stop(std::string_view reason) = 0;
  virtual bool stop_requested() const = 0;
  /// Why the run was asked to stop ("SIGINT", "max_time 60 s reached", ...), or "".
  virtual std::string stop_reason() const = 0;

  /// Records a one-element tensor as a scalar summary at `step` (Step::summary's tensor
  /// form). The runner may read it later, with the step's other values, so that a GPU is not
  /// waited for; by default it is read now. (Last, so that the other entries keep their
  /// places in the vtable.)
  virtual void tensor_summary(std::string_view tag, std::int64_t step, const torch::Tensor& scalar);

  /// The phases of each step, in the order they run.
  virtual std::vector<std::string> phase_names() const;
  /// The phase named `name`; an Error naming the phases when there is none.
  virtual PhaseHandle& phase(std::string_view name);

  /// A summary's value and the step it was recorded at.
  struct SummaryValue {
    std::int64_t step;
    double value;
  };
  /// The latest value of `tag` recorded in this process, by any hook or the runner (the one
  /// with the highest step; of equal steps, the last recorded), or nullopt. An early-stopping
  /// hook reads the `eval/...` value an evaluation hook wrote this way instead of evaluating
  /// again. On CUDA, tensor summaries arrive a step late (see tensor_summary()).
  virtual std::optional<SummaryValue> latest_summary(std::string_view tag) const;

  /// Keeps the checkpoint of the current step for `reason` (a word such as "best"): the
  /// saver writes one at this step unless it does anyway, keeps it while it is the newest
  /// checkpoint kept for `reason` (whatever max_to_keep says), and records `reason` as why it
  /// was kept (`checkpoints.kept`). Call it from after_step(), before the saver's turn
  /// (kiln::priority::saver). An Error when the run has no saver.
  virtual void keep_checkpoint(std::string_view reason);

  /// Declares whether lower or higher values of `tag` are better, for `kiln compare`,
  /// `kiln report` and the `metrics_best` view (lower, unless declared or set by the
  /// experiment's [summaries] rules). A hook declares the tags it writes in begin().
  virtual void summary_direction(std::string_view tag, Direction direction);

  /// In a data-parallel run of several processes (kiln run --nproc N, torchrun, srun), this
  /// process's rank, from 0, and how many there are; 0 of 1 otherwise. Every rank runs every
  /// hook (a hook that changes training must act alike on all of them), but only rank 0 records:
  /// summaries, events and images of the others go nowhere, and a hook that writes files itself
  /// writes them where is_main_process().
  virtual int rank() const;
  virtual int world_size() const;
  bool is_main_process() const { return rank() == 0; }
};

}  // namespace kiln
