// kiln::Hook: code that runs at fixed points of the training loop.
#pragma once

#include "kiln/run_context.hpp"
#include "kiln/step.hpp"
#include "kiln/tensors.hpp"

namespace kiln {

/// A hook overrides the stages it cares about; every stage is a no-op by default. Hooks
/// run in priority order (lower first, ties in declaration order). The built-in
/// supervisor, saver and EMA are hooks like any other.
/// \code
///   class PrintLoss : public kiln::Hook {
///     void after_step(kiln::Step& step) override {
///       step.summary("loss/x2", step.losses().at("mse").item<double>() * 2);
///     }
///   };
/// \endcode
/// Where kiln's built-in hooks run among the others (lower runs first). A plugin hook picks
/// its place relative to them: `priority::ema - 1` sees the step's updates before the EMA
/// averages them; `priority::supervisor + 1` runs after the step's summaries are taken.
namespace priority {
inline constexpr int plugin = 100;      ///< a plugin hook whose table sets no `priority`
inline constexpr int ema = 500;         ///< averages the weights the step's updates made
inline constexpr int early_stopping = 800;  ///< after the plugins' evaluations, before the saver keeps the best
inline constexpr int saver = 900;       ///< after the EMA: a checkpoint holds the step's shadows
inline constexpr int supervisor = 1000; ///< after the others: its summaries and stops see their work
inline constexpr int threads = 1100;    ///< the thread governor times whole steps
}  // namespace priority

class KILN_API Hook {
 public:
  virtual ~Hook();

  /// Priority when the experiment's table does not set `priority`.
  virtual int default_priority() const { return priority::plugin; }

  /// Once every object of the experiment exists, before the run is recorded, restored or
  /// begun (and by `kiln validate`): check what needs the run, such as a dataset or a
  /// parameter group, and fail with the hook's Config (`config.fail(key, why)`), so that a
  /// mistake is an error at its position before anything is written.
  virtual void prepare(RunContext& run) {}
  /// The run is restored (or initialized): its global_step() is where training goes on.
  virtual void begin(RunContext& run) {}
  virtual void after_restore(RunContext& run) {}
  virtual void before_step(Step& step) {}
  /// Between a phase's gradients and its optimizer's update: step.parameters() are the
  /// phase's, each with its gradient in .grad() (unscaled under fp16; summed over the
  /// micro-batches when the experiment accumulates). A hook may read, log, clip or change
  /// them here, or set the phase's learning rate (run().phase(step.phase())). Not called
  /// for an update that is skipped (a non-finite loss under on_nan = "skip", an fp16
  /// overflow). Runs before the optimizer's own clip_norm / clip_value.
  virtual void before_update(Step& step) {}
  virtual void after_phase(Step& step) {}
  virtual void after_step(Step& step) {}
  virtual void end(RunContext& run) {}

  /// State saved in checkpoints and handed back to load_state() on restore.
  virtual TensorMap state() const { return TensorMap("hook state"); }
  virtual void load_state(const TensorMap& state) {}
};

}  // namespace kiln
