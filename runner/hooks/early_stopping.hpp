// The built-in early_stopping hook: stops a run whose monitored summary stopped improving,
// and keeps the best checkpoint.
#pragma once

#include <cstdint>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "kiln/config.hpp"
#include "kiln/hook.hpp"

namespace kiln::runner {

/// Keras's and Lightning's EarlyStopping over a summary another hook writes (the built-in
/// `evaluate` hook's `eval/l1`, say), read through RunContext::latest_summary: each time
/// the tag has a value at a step newer than the last one seen, that is one evaluation. A
/// value better than the best by more than `min_delta` is the new best (and, with
/// `keep_best`, its step's checkpoint is kept as "best": RunContext::keep_checkpoint);
/// `patience` evaluations in a row without one stop the run, with the reason as an
/// `early_stopping` event. Its state (the best value and step, the evaluations without
/// improvement, the last step seen) is in checkpoints, so a resumed run stops where an
/// uninterrupted one would; a run resumed after it stopped stops again at once, unless
/// `patience` was raised. Priority kiln::priority::early_stopping: after the plugin hooks
/// that evaluate, before the saver that keeps the checkpoint.
///
///     [early_stopping]
///     monitor = "eval/l1"   # required
///     mode = "min"          # or "max": which way is better
///     patience = 5          # evaluations without improvement before stopping
///     min_delta = 0.0       # an improvement beats the best by more than this
///     keep_best = true      # keep the best checkpoint (default: true when the run saves)
class EarlyStopping : public Hook {
 public:
  struct Options {
    std::string monitor;
    bool maximize = false;  ///< mode = "max"
    std::int64_t patience = 5;
    double min_delta = 0;
    bool keep_best = true;

    /// The [early_stopping] table. keep_best defaults to `has_saver`; keep_best = true
    /// without a saver is a ConfigError at the key, as is every bad value. `mode` defaults
    /// to the direction the experiment's [summaries] `rules` give the monitored tag (else
    /// "min"); a mode that contradicts them is a ConfigError at `mode`.
    static Options read(const Config& table, bool has_saver,
                        const std::vector<std::pair<std::string, std::string>>& rules = {});
  };

  explicit EarlyStopping(Options options) : options_(std::move(options)) {}

  int default_priority() const override { return priority::early_stopping; }
  /// Stops at once a run that had stopped early before it was resumed (patience unchanged).
  void begin(RunContext& run) override;
  void after_step(Step& step) override;
  /// An event when the monitored tag was never seen in the run: a misspelt tag must not
  /// leave the run without early stopping silently.
  void end(RunContext& run) override;

  TensorMap state() const override;
  void load_state(const TensorMap& state) override;

  /// Evaluations seen (in this process, and before it when resumed), for tests.
  std::int64_t evaluations() const { return evaluations_; }
  std::int64_t best_step() const { return best_step_; }
  double best_value() const { return best_value_; }

 private:
  /// Whether `value` beats the best by more than min_delta (the first finite value does).
  bool improves(double value) const;
  /// "early stopping: eval/l1 did not improve on 0.251 (step 750) by more than 0 in 5 evaluations"
  std::string stop_message() const;

  Options options_;
  double best_value_ = std::numeric_limits<double>::quiet_NaN();  // NaN: none yet
  std::int64_t best_step_ = -1;
  std::int64_t without_improvement_ = 0;
  std::int64_t last_step_ = -1;  // the monitored tag's step last counted; -1: never seen
  std::int64_t evaluations_ = 0;
};

}  // namespace kiln::runner
