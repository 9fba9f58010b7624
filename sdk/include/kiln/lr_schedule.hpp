// kiln::LearningRateSchedule: an optimizer's learning rate as a function of the global step.
#pragma once

#include <cstdint>

#include "kiln/run_context.hpp"
#include "kiln/tensors.hpp"
#include "kiln/version.hpp"

namespace kiln {

/// The learning rate of each update of one optimizer. The built-in `schedule` types
/// (constant, step, multistep, exponential, cosine, linear, onecycle) implement it too; a
/// plugin registers its own like any other kind and an optimizer names it:
/// \code
///   registry.add<InverseSqrt>("inverse_sqrt");   // InverseSqrt(const kiln::Config&)
///   // [[optimizers]] ... schedule = { plugin = "inverse_sqrt", scale = 512 }
/// \endcode
/// The table's `warmup_steps` (and `warmup_start_factor`) multiply what lr() returns; the
/// runner reads those keys, the schedule reads the others.
class KILN_API LearningRateSchedule {
 public:
  virtual ~LearningRateSchedule();

  /// The learning rate of the update made at global step `step` (0 for a run's first update,
  /// the step it resumes at after a restore) for a parameter group whose configured rate is
  /// `base_lr`. Called once per step and group, at the start of the step. The same step must
  /// give the same rate in a resumed run: keep anything else it depends on in state().
  virtual double lr(std::int64_t step, double base_lr, const RunContext& run) = 0;

  /// State saved in checkpoints (none by default) and handed back to load_state() on restore.
  virtual TensorMap state() const { return TensorMap("schedule state"); }
  virtual void load_state(const TensorMap& state) {}
};

}  // namespace kiln
