// kiln::Dataset: indexed examples the runner batches, shuffles and prefetches.
#pragma once

#include <cstdint>
#include <vector>

#include "kiln/tensors.hpp"

namespace kiln {

/// One draw from a dataset: which example, and the seed for its random augmentation.
struct Sample {
  std::int64_t index;
  std::uint64_t seed;
};

/// A dataset knows its size and returns examples by index. get() is called from the
/// loader's worker threads, concurrently: it must not change shared state. Random
/// augmentation draws only from `seed`, which the runner derives from the run's seed and
/// the position in the epoch, so a run is reproducible whatever the number of workers.
class KILN_API Dataset {
 public:
  virtual ~Dataset();

  virtual std::int64_t size() const = 0;
  virtual Example get(std::int64_t index, std::uint64_t seed) const = 0;

  /// A batch of examples. The default stacks get() results along a new first dimension;
  /// a dataset that holds its data in tensors can gather a batch in one operation.
  virtual Batch get_batch(const std::vector<Sample>& samples) const;
};

}  // namespace kiln
