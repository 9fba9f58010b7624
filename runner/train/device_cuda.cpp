// See device_cuda.hpp.
#include "train/device_cuda.hpp"

#if KILN_WITH_CUDA
#include <ATen/cuda/CUDAContext.h>
#endif

namespace kiln::runner {

std::optional<CudaDeviceProperties> cuda_device_properties(int index) {
#if KILN_WITH_CUDA
  const cudaDeviceProp* properties = at::cuda::getDeviceProperties(index);
  if (!properties) return std::nullopt;
  return CudaDeviceProperties{properties->name, static_cast<std::int64_t>(properties->totalGlobalMem)};
#else
  (void)index;
  return std::nullopt;
#endif
}

}  // namespace kiln::runner
