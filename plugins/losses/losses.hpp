// The in-tree loss plugins, registered together by plugin.cpp.
#pragma once

#include "kiln/kiln.hpp"

namespace kiln::plugins {

/// Mean squared error between an output and a batch entry:
///   [[losses]]
///   plugin = "mse"
///   prediction = "prediction"   # a model output
///   target = "y"                # a batch entry
class Mse : public Loss {
 public:
  explicit Mse(const Config& config);
  torch::Tensor compute(const Outputs& outputs, const Batch& batch, Step& step) override;

 private:
  std::string prediction_;
  std::string target_;
};

}  // namespace kiln::plugins
