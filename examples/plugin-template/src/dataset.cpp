// The `noisy_sine` dataset: points of y = sin(x) + noise, made once from a seed.
#include <cmath>
#include <cstdint>

#include <torch/torch.h>

#include "kiln/kiln.hpp"
#include "sine.hpp"

namespace sine {
namespace {

/// `size` examples {"x": [x], "y": [sin(x) + noise]}, x uniform in [-pi, pi]:
///   [data]
///   plugin = "noisy_sine"
///   size = 512
///   noise = 0.05
///   data_seed = 7
class NoisySine : public kiln::Dataset {
 public:
  explicit NoisySine(const kiln::Config& config) {
    const auto size = config.get_positive<std::int64_t>("size", 512);
    const auto noise = config.get_non_negative<double>("noise", 0.05);
    const auto data_seed = config.get_or<std::int64_t>("data_seed", 7);

    // Its own generator: the data depends on data_seed, never on the run's seed.
    auto generator = at::detail::createCPUGenerator(static_cast<std::uint64_t>(data_seed));
    const double pi = std::acos(-1.0);
    x_ = (at::rand({size, 1}, generator) * 2 - 1) * pi;
    y_ = torch::sin(x_) + noise * at::randn({size, 1}, generator);
  }

  std::int64_t size() const override { return x_.size(0); }

  // Called from the loader's threads: it only reads.
  kiln::Example get(std::int64_t index, std::uint64_t /*seed*/) const override {
    kiln::Example example("example");
    example.set("x", x_[index]);
    example.set("y", y_[index]);
    return example;
  }

 private:
  torch::Tensor x_, y_;
};

}  // namespace

void add_dataset(kiln::Registry& registry) { registry.add_dataset<NoisySine>("noisy_sine"); }

}  // namespace sine
