// Test plugin: the dataset "random_pairs", image pairs made up from each sample's seed.
#include <cstdint>
#include <string>

#include <torch/torch.h>

#include "kiln/kiln.hpp"

namespace {

/// "input": channels×size×size uniform in [-1, 1) from the sample's seed; "target": the
/// input mirrored left to right and negated, so a generator has something to learn.
///   [data]
///   plugin = "random_pairs"
///   library = "fixture_pairs"
///   image_size = 32
///   channels = 3
///   size = 64
class RandomPairs : public kiln::Dataset {
 public:
  explicit RandomPairs(const kiln::Config& config)
      : image_size_(config.get_or<std::int64_t>("image_size", 32)),
        channels_(config.get_or<std::int64_t>("channels", 3)),
        size_(config.get_or<std::int64_t>("size", 64)) {
    if (image_size_ <= 0) config.fail("image_size", "must be greater than 0");
    if (channels_ <= 0) config.fail("channels", "must be greater than 0");
    if (size_ <= 0) config.fail("size", "must be greater than 0");
  }

  std::int64_t size() const override { return size_; }

  kiln::Example get(std::int64_t, std::uint64_t seed) const override {
    auto gen = at::detail::createCPUGenerator(seed);
    const torch::Tensor input = at::rand({channels_, image_size_, image_size_}, gen) * 2 - 1;
    kiln::Example example("example");
    example.set("input", input);
    example.set("target", -input.flip({2}));
    return example;
  }

 private:
  std::int64_t image_size_;
  std::int64_t channels_;
  std::int64_t size_;
};

}  // namespace

KILN_PLUGIN("fixture_pairs", "1.0.0") { registry.add_dataset<RandomPairs>("random_pairs"); }
