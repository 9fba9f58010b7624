// Batches from the loader to the training device.
#pragma once

#include <optional>

#include <c10/core/Device.h>
#include <c10/core/Stream.h>

#include "kiln/tensors.hpp"

namespace kiln::runner {

/// Copies batches to the training device. On the CPU a batch is used as it is. On CUDA each
/// copy runs on a stream of its own (the loader's workers pinned the batch, so the copy is
/// asynchronous): the host queues the copy of batch k+1 right after step k's kernels, and the
/// copy engine moves it while those kernels run, instead of after them in the training
/// stream's order. The stream that is current at copy() waits for the copy (an event) before
/// anything it queues after, and the caching allocator keeps the batch's memory until that
/// stream is done with it (record_stream).
class BatchCopier {
 public:
  explicit BatchCopier(c10::Device device) : device_(device) {}
  Batch copy(const Batch& batch);

 private:
  c10::Device device_;
  std::optional<c10::Stream> stream_;  // the copies', from the device's pool on first use
};

}  // namespace kiln::runner
