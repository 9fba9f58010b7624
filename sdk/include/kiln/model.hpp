// kiln::Model: the network(s) an experiment trains.
#pragma once

#include <map>
#include <string>
#include <vector>

#include <torch/nn/module.h>

#include "kiln/step.hpp"
#include "kiln/tensors.hpp"

namespace kiln {

/// A model is a torch module with one forward pass that serves every phase of a step.
/// It names its parameter groups so that each `[[optimizers]]` entry can update one:
/// \code
///   std::map<std::string, std::vector<torch::Tensor>> parameter_groups() override {
///     return {{"generator", generator_->parameters()},
///             {"discriminator", discriminator_->parameters()}};
///   }
/// \endcode
class KILN_API Model : public torch::nn::Module {
 public:
  ~Model() override;

  /// Runs the model on `batch`. `step.phase()` tells which optimizer is being served;
  /// `step.scratch()` carries tensors between the phases of one step.
  virtual Outputs forward(const Batch& batch, Step& step) = 0;

  /// Named parameter groups. The default is one group, "all", with every parameter; the
  /// runner always accepts "all" too.
  virtual std::map<std::string, std::vector<torch::Tensor>> parameter_groups();
};

}  // namespace kiln
