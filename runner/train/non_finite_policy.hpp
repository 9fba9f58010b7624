// What a step whose loss is NaN or infinite does: a decision the trainer asks of a hook.
#pragma once

namespace kiln::runner {

/// Implemented by the hook that owns `[supervisor] on_nan` (the built-in supervisor). The
/// trainer asks it when a phase's loss is not finite, before that phase's update; without
/// such a hook a non-finite loss stops the run.
class NonFinitePolicy {
 public:
  virtual ~NonFinitePolicy() = default;
  /// True: drop the step's remaining updates and go on; false: fail the run.
  virtual bool skip_non_finite() const = 0;
};

}  // namespace kiln::runner
