// The few CUDA calls that need CUDA's own headers, compiled in only where the LibTorch kiln is
// built against has CUDA (KILN_WITH_CUDA, set by CMake); elsewhere they answer "nothing".
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace kiln::runner {

struct CudaDeviceProperties {
  std::string name;  ///< "NVIDIA H200"
  std::int64_t memory_bytes = 0;
};

/// The GPU's name and memory; nullopt without CUDA.
std::optional<CudaDeviceProperties> cuda_device_properties(int index);

}  // namespace kiln::runner
