// What differs between the LibTorch versions kiln builds against, Debian's 1.13 and PyTorch's
// 2.x, in one place: code elsewhere calls these rather than testing TORCH_VERSION_* itself.
#pragma once

#include <string>
#include <type_traits>
#include <utility>

#include <torch/optim/optimizer.h>
#include <torch/types.h>
#include <torch/version.h>

/// True when the LibTorch kiln is compiled against is `major.minor` or later.
#define KILN_TORCH_AT_LEAST(major, minor) \
  (TORCH_VERSION_MAJOR > (major) || (TORCH_VERSION_MAJOR == (major) && TORCH_VERSION_MINOR >= (minor)))

namespace kiln::runner::compat {

/// Whether this LibTorch has CUDA (KILN_WITH_CUDA, which CMake sets from its torch_cuda).
#if defined(KILN_WITH_CUDA) && KILN_WITH_CUDA
inline constexpr bool kWithCuda = true;
#else
inline constexpr bool kWithCuda = false;
#endif

/// The key torch::optim::Optimizer::state() files a parameter's state under: its TensorImpl's
/// address, printed into a string in LibTorch 1.x, the pointer itself since 2.0.
/// (c10::guts::to_string is gone from 2.x.) Checkpoints name parameters by their index in
/// the phase instead, so that their format depends on neither.
#if KILN_TORCH_AT_LEAST(2, 0)
using OptimizerStateKey = void*;
inline OptimizerStateKey optimizer_state_key(const torch::Tensor& param) { return param.unsafeGetTensorImpl(); }
#else
using OptimizerStateKey = std::string;
inline OptimizerStateKey optimizer_state_key(const torch::Tensor& param) {
  return c10::guts::to_string(param.unsafeGetTensorImpl());
}
#endif
static_assert(std::is_same_v<OptimizerStateKey,
                             std::decay_t<decltype(std::declval<torch::optim::Optimizer&>().state().begin()->first)>>,
              "torch::optim::Optimizer::state() is keyed by another type in this LibTorch: update optimizer_state_key");

}  // namespace kiln::runner::compat
