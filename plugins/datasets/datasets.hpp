// The in-tree dataset plugins, registered together by plugin.cpp.
#pragma once

#include "kiln/kiln.hpp"

namespace kiln::plugins {

/// A regression problem made up from a seed: x ~ N(0, 1) and y = f(x) + noise, where f is
/// a fixed random two-layer tanh network, so a model has something real to learn.
///   [data]
///   plugin = "synthetic_regression"
///   size = 4096        # examples
///   inputs = 16
///   outputs = 1
///   noise = 0.01       # standard deviation of the noise on y
///   data_seed = 7
class SyntheticRegression : public Dataset {
 public:
  explicit SyntheticRegression(const Config& config);
  std::int64_t size() const override { return x_.size(0); }
  Example get(std::int64_t index, std::uint64_t seed) const override;
  Batch get_batch(const std::vector<Sample>& samples) const override;

 private:
  torch::Tensor x_;
  torch::Tensor y_;
};

}  // namespace kiln::plugins
