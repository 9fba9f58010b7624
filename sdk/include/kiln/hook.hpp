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
class KILN_API Hook {
 public:
  virtual ~Hook();

  /// Priority when the experiment's table does not set `priority`.
  virtual int default_priority() const { return 100; }

  virtual void begin(RunContext& run) {}
  virtual void after_restore(RunContext& run) {}
  virtual void before_step(Step& step) {}
  virtual void after_phase(Step& step) {}
  virtual void after_step(Step& step) {}
  virtual void end(RunContext& run) {}

  /// State saved in checkpoints and handed back to load_state() on restore.
  virtual TensorMap state() const { return TensorMap("hook state"); }
  virtual void load_state(const TensorMap& state) {}
};

}  // namespace kiln
