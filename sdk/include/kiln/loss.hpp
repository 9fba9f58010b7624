// kiln::Loss: a scalar objective computed from a model's outputs and the batch.
#pragma once

#include <torch/types.h>

#include "kiln/step.hpp"
#include "kiln/tensors.hpp"

namespace kiln {

/// A loss reads the outputs and batch entries its TOML table names and returns a scalar.
/// \code
///   torch::Tensor compute(const kiln::Outputs& out, const kiln::Batch& batch, kiln::Step&) override {
///     return torch::mse_loss(out.at(prediction_), batch.at(target_));
///   }
/// \endcode
class KILN_API Loss {
 public:
  virtual ~Loss();
  virtual torch::Tensor compute(const Outputs& outputs, const Batch& batch, Step& step) = 0;
};

}  // namespace kiln
