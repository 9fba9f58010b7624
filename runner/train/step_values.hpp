// A step's loss values on the host, as the built-in hooks read them: handed out by the
// trainer once they are there (on CUDA, a step late, without stalling the GPU), rather than
// read from Step::losses() tensors, each read a wait for the GPU.
#pragma once

#include "kiln/run_context.hpp"
#include "kiln/step.hpp"
#include "train/readout.hpp"

namespace kiln::runner {

/// Implemented by a run (the trainer) that hands every complete step's loss values to its
/// StepValuesListener hooks, through StepValuesListener::on_values. A hook driven by another
/// run (a test's, by hand) reads Step::losses() itself: `values_of(step)`.
class StepValuesSource {
 public:
  virtual ~StepValuesSource() = default;
};

/// Implemented by a built-in hook that reads loss values (the supervisor, the EMA); the
/// trainer finds it by dynamic_cast. For each step whose updates all ran (a step skipped by
/// on_nan = "skip", or one that failed, gives none), in step order, on_values comes after
/// that step's after_step() of this hook: at once on the CPU, one or two steps later on
/// CUDA, at the latest before the hooks' end() or before a checkpoint's capture_state()
/// returns. So a hook decides at after_step() what is due at that step (its schedule, a
/// time), and records what depends on the values, with `values.step`, here.
class StepValuesListener {
 public:
  virtual ~StepValuesListener() = default;
  /// `values.values`: each loss's value by name, in Step::losses() order (by name), the mean
  /// over the step's micro-batches; `values.grad_norms`: the phases' gradient norms.
  virtual void on_values(const StepScalars& values, RunContext& run) = 0;
  /// Whether every phase's gradient norm is gathered for it even where no clip needs it
  /// (read at each step; gathering it costs a few kernels, never a wait).
  virtual bool wants_grad_norms() const { return false; }
};

/// Whether `run` hands loss values out through on_values (else a hook reads them itself).
inline bool hands_out_values(const RunContext& run) { return dynamic_cast<const StepValuesSource*>(&run) != nullptr; }

/// The step's loss values read from its tensors (each read waits for the device): for hooks
/// driven by a run that does not hand them out.
inline StepScalars values_of(const Step& step) {
  StepScalars values;
  values.step = step.global_step();
  for (const auto& [name, tensor] : step.losses()) values.values.emplace_back(name, tensor.item<double>());
  return values;
}

}  // namespace kiln::runner
