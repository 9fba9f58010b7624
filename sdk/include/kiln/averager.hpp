// kiln::WeightAverager: averaged weights (the EMA's) that can stand in for the trained ones.
#pragma once

#include "kiln/version.hpp"

namespace kiln {

/// Implemented by a hook that keeps averaged weights, such as the built-in EMA. Hooks reach
/// it through RunContext::averager() and use it through AveragedWeights:
/// \code
///   if (kiln::WeightAverager* ema = run.averager()) {
///     kiln::AveragedWeights averaged(*ema);   // the model now has the averaged weights
///     evaluate(run.model());
///   }                                          // and the trained ones again here
/// \endcode
class KILN_API WeightAverager {
 public:
  virtual ~WeightAverager();
  /// Exchanges the model's weights with the averages; a second call exchanges them back.
  virtual void swap_weights() = 0;
};

/// Swaps the averaged weights in for its lifetime, and back when it ends (also on errors).
class AveragedWeights {
 public:
  explicit AveragedWeights(WeightAverager& averager) : averager_(averager) { averager_.swap_weights(); }
  ~AveragedWeights() { averager_.swap_weights(); }
  AveragedWeights(const AveragedWeights&) = delete;
  AveragedWeights& operator=(const AveragedWeights&) = delete;

 private:
  WeightAverager& averager_;
};

}  // namespace kiln
