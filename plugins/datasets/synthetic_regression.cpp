// The `synthetic_regression` dataset: a learnable function of Gaussian inputs.
#include <torch/torch.h>

#include "datasets.hpp"

namespace kiln::plugins {

SyntheticRegression::SyntheticRegression(const Config& config) {
  const auto size = config.get_positive<std::int64_t>("size", 4096);
  const auto inputs = config.get_positive<std::int64_t>("inputs", 16);
  const auto outputs = config.get_positive<std::int64_t>("outputs", 1);
  const auto hidden = config.get_positive<std::int64_t>("teacher_hidden", 32);
  const auto noise = config.get_non_negative<double>("noise", 0.01);
  const auto data_seed = config.get_or<std::int64_t>("data_seed", 7);

  // A private generator: the data depends on data_seed only, never on the run's seed.
  auto gen = at::detail::createCPUGenerator(static_cast<std::uint64_t>(data_seed));
  torch::NoGradGuard no_grad;
  x_ = at::randn({size, inputs}, gen);
  const auto w1 = at::randn({inputs, hidden}, gen) / std::sqrt(static_cast<double>(inputs));
  const auto w2 = at::randn({hidden, outputs}, gen) / std::sqrt(static_cast<double>(hidden));
  y_ = torch::tanh(x_.mm(w1)).mm(w2) + noise * at::randn({size, outputs}, gen);
}

Example SyntheticRegression::get(std::int64_t index, std::uint64_t) const {
  Example example("example");
  example.set("x", x_[index]);
  example.set("y", y_[index]);
  return example;
}

Batch SyntheticRegression::get_batch(const std::vector<Sample>& samples) const {
  std::vector<std::int64_t> indices;
  indices.reserve(samples.size());
  for (const Sample& sample : samples) indices.push_back(sample.index);
  const auto index = torch::tensor(indices, torch::kLong);
  Batch batch("batch");
  batch.set("x", x_.index_select(0, index));
  batch.set("y", y_.index_select(0, index));
  return batch;
}

}  // namespace kiln::plugins
