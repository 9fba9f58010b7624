// The built-in EMA hook: exponential moving averages of parameter groups and losses.
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <vector>

#include "hooks/supervisor.hpp"
#include "kiln/averager.hpp"
#include "kiln/config.hpp"
#include "kiln/hook.hpp"
#include "kiln/schedule.hpp"
#include "train/step_values.hpp"

namespace kiln::runner {

/// tf.train.ExponentialMovingAverage as a hook. After every step, for each averaged
/// parameter and loss: shadow = decay_t * shadow + (1 - decay_t) * value, where decay_t is
/// `decay`, or with `num_updates` min(decay, (1 + step) / (10 + step)). Parameter shadows
/// start at the parameter's value (taken just before the first update, so weights loaded
/// by another hook's begin() count), loss shadows at 0 (with `zero_debias`, TF's debiased
/// estimate). Model buffers (BatchNorm statistics) are copied, not averaged. Losses go to
/// the summaries as `ema/<loss>` when the supervisor writes `loss/<loss>` (and at the last step).
/// Parameters are averaged at after_step(); losses when the step's values come (on_values:
/// on CUDA a step later, at the latest before a checkpoint's state is taken), with the
/// decay and the step of the step they belong to.
///
/// State, as state() returns it and load_state() wants it back (strictly):
///   params/<name>      shadow of each averaged parameter (names from named_parameters())
///   buffers/<name>     copy of each buffer, when any parameter group is averaged
///   losses/<loss>      loss shadow (float64, 0-d)
///   biased/<loss>      with zero_debias: TF's biased accumulator (float64, 0-d)
///   local_step/<loss>  with zero_debias: updates so far (int64, 0-d)
/// load_state() may come before begin() (the state is kept and applied there; mismatches
/// are reported then) or after it.
class Ema final : public Hook, public WeightAverager, public StepValuesListener {
 public:
  /// [ema]: what to average and how (tf.train.ExponentialMovingAverage's arguments).
  struct Options {
    double decay = 0.999;
    bool num_updates = false;          ///< decay_t = min(decay, (1 + step) / (10 + step))
    bool zero_debias = false;          ///< debias loss shadows, which start at 0
    std::vector<std::string> params;   ///< parameter groups to average
    std::vector<std::string> losses;   ///< losses to average, as ema/<loss> summaries
    /// When ema/<loss> summaries are written: the supervisor's schedule for loss/<loss> (read()
    /// takes it from the supervisor; every step here, for options made by hand).
    std::int64_t summary_every_steps = 1;
    double summary_every_secs = 0;
    Config config;                     ///< for positioned errors (an unknown group)

    /// The [ema] table: `losses` must name losses of `declared`, and ema/<loss> is written
    /// when `supervisor` writes loss/<loss>. A bad value is a ConfigError at its key.
    static Options read(const Config& table, const std::vector<std::string>& declared,
                        const Supervisor::Options& supervisor);
  };

  explicit Ema(Options options);

  /// After plugin hooks, before the saver and the supervisor.
  int default_priority() const override { return priority::ema; }
  /// Resolves `params` against the model's groups: an unknown group is a ConfigError.
  void begin(RunContext& run) override;
  void before_step(Step& step) override;
  void after_step(Step& step) override;
  /// The loss shadows' update for a step, and its ema/<loss> summaries when they were due.
  void on_values(const StepScalars& values, RunContext& run) override;

  /// The shadows themselves, not copies (Trainer::capture_state copies what hooks return,
  /// and restore only asks whether it is empty): clone to keep them across steps.
  TensorMap state() const override;
  /// A CheckpointError naming every missing, unexpected or mis-shaped entry; on error
  /// nothing is changed.
  void load_state(const TensorMap& state) override;

  /// Exchanges the averaged parameters and buffers with the model's, in place: the
  /// tensors the optimizers hold stay the same objects. Two calls are the identity.
  void swap_weights() override;

  /// decay_t for a step, as after_step() uses it.
  double decay_at(std::int64_t global_step) const;
  /// The shadow of parameter `name` (as named_parameters() names it, e.g. "net.0.weight").
  const torch::Tensor& shadow(const std::string& name) const;
  /// The current average of loss `name`.
  double loss_shadow(const std::string& name) const;

 private:
  /// A model tensor and the tensor that shadows it.
  struct Shadowed {
    std::string key;  // "params/<name>" or "buffers/<name>"
    torch::Tensor value;
    torch::Tensor shadow;
  };
  /// TF's state for one averaged loss.
  struct LossAverage {
    std::string name;
    double shadow = 0;
    double biased = 0;            // zero_debias only
    std::int64_t local_step = 0;  // zero_debias only
  };

  void resolve(Model& model);
  void reset_shadows_to_model();
  void apply_state(const TensorMap& state);
  const Shadowed* find_param(const std::string& name) const;

  Options options_;
  Schedule summaries_;  // when ema/<loss> is written: the supervisor's schedule
  std::vector<Shadowed> params_;
  std::vector<Shadowed> buffers_;
  std::vector<LossAverage> losses_;
  bool resolved_ = false;
  bool shadows_fresh_ = false;             // take the parameters' values before the first update
  std::optional<TensorMap> pending_state_;  // loaded before begin()
  /// Steps whose loss values have not come yet: whether their ema/<loss> summaries are due.
  std::deque<std::pair<std::int64_t, bool>> loss_steps_;
  bool swapped_ = false;
  torch::Tensor swap_scratch_;  // reused by swaps that cannot exchange bytes in place
};

}  // namespace kiln::runner
