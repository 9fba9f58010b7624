// See step_graph.hpp.
#include "train/step_graph.hpp"

#include <fmt/format.h>

#include "kiln/error.hpp"
#include "train/error_text.hpp"
#include "train/torch_compat.hpp"

// at::cuda::CUDAGraph, and the fused Adam that takes its rate as a tensor (2.2 and later).
#if defined(KILN_WITH_CUDA) && KILN_WITH_CUDA && KILN_TORCH_AT_LEAST(2, 2)
#define KILN_CUDA_GRAPHS 1
#include <ATen/cuda/CUDAEvent.h>
#include <ATen/cuda/CUDAGraph.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
#else
#define KILN_CUDA_GRAPHS 0
#endif

namespace kiln::runner {

std::string cuda_graphs_unavailable() {
  if (!compat::kWithCuda)
    return fmt::format("needs CUDA, but this kiln's LibTorch {} was built without it", TORCH_VERSION);
  if (!KILN_CUDA_GRAPHS)
    return fmt::format("needs a LibTorch 2.2 or later (its fused Adam reads the learning rate from the device); "
                       "this kiln's is {}",
                       TORCH_VERSION);
  return "";
}

struct StepGraph::Impl {
#if KILN_CUDA_GRAPHS
  at::cuda::CUDAGraph graph;
#endif
  bool captured = false;
};

StepGraph::StepGraph() = default;
StepGraph::~StepGraph() = default;

void StepGraph::capture(const std::function<void()>& body) {
  if (const std::string why = cuda_graphs_unavailable(); !why.empty()) throw Error("cuda_graphs " + why);
#if KILN_CUDA_GRAPHS
  impl_ = std::make_unique<Impl>();
  const auto failed = [&](const std::string& why) {
    impl_.reset();
    return Error(fmt::format("cuda_graphs: the step could not be captured as a CUDA graph: {}. Everything a step "
                             "runs (the model, the losses, hooks' before_update and after_phase) must queue work "
                             "on the GPU without waiting for it: no .item(), no copy to the CPU, no "
                             "synchronize; set cuda_graphs = false to train without",
                             why));
  };
  // Captured on a stream of its own (a graph cannot be captured on the default stream), after
  // what the current stream has queued; replays go on the current stream.
  const at::cuda::CUDAStream current = at::cuda::getCurrentCUDAStream();
  const at::cuda::CUDAStream side = at::cuda::getStreamFromPool();
  at::cuda::CUDAEvent queued;
  queued.record(current);
  queued.block(side);
  {
    const c10::cuda::CUDAStreamGuard on_side(side);
    try {
      // Thread-local: only this thread's CUDA calls that could not be captured are refused, and
      // the loader's workers may allocate pinned memory meanwhile.
      impl_->graph.capture_begin(/*pool=*/{0, 0}, cudaStreamCaptureModeThreadLocal);
    } catch (const std::exception& e) {
      throw failed(error_text(e));
    }
    try {
      body();
    } catch (const std::exception& e) {
      const std::string why = error_text(e);
      try {
        impl_->graph.capture_end();
      } catch (...) {  // the capture was invalidated already: what body() threw says why
      }
      throw failed(why);
    }
    try {
      impl_->graph.capture_end();
    } catch (const std::exception& e) {
      throw failed(error_text(e));
    }
  }
  at::cuda::CUDAEvent captured;
  captured.record(side);
  captured.block(current);
  impl_->captured = true;
#else
  (void)body;
#endif
}

void StepGraph::replay() {
  if (!captured()) throw Error("cuda_graphs: replay() before a capture");
#if KILN_CUDA_GRAPHS
  impl_->graph.replay();
#endif
}

bool StepGraph::captured() const { return impl_ && impl_->captured; }

void StepGraph::reset() { impl_.reset(); }

}  // namespace kiln::runner
