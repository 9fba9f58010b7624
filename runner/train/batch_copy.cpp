// See batch_copy.hpp.
#include "train/batch_copy.hpp"

#include <c10/core/Event.h>
#include <c10/core/StreamGuard.h>
#include <c10/core/impl/VirtualGuardImpl.h>
#include <torch/torch.h>

namespace kiln::runner {

Batch BatchCopier::copy(const Batch& batch) {
  if (device_.is_cpu()) return batch;
  const c10::impl::VirtualGuardImpl guard(device_.type());
  const c10::Stream training = guard.getStream(device_);
  if (!stream_) stream_ = guard.getStreamFromGlobalPool(device_, /*isHighPriority=*/false);
  Batch moved(batch.label());
  c10::Event copied(device_.type());
  {
    // Fresh memory on the copy stream: nothing there to wait for before the copy.
    const c10::StreamGuard on_copy_stream(*stream_);
    for (const auto& [name, tensor] : batch)
      moved.set(name, tensor.defined() ? tensor.to(device_, /*non_blocking=*/tensor.is_pinned()) : tensor);
    copied.record(*stream_);
  }
  copied.block(training);
  for (const auto& [name, tensor] : moved)
    if (tensor.defined() && tensor.device() == device_) tensor.record_stream(training);
  return moved;
}

}  // namespace kiln::runner
