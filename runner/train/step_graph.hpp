// [experiment] cuda_graphs: a training step captured once as one CUDA graph and replayed for
// every step after it, so that the host launches one graph a step instead of each of its
// kernels (at batch 1 most of an eager pix2pix step on a fast GPU is launch overhead).
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <ATen/core/Tensor.h>

#include "kiln/tensors.hpp"

namespace kiln::runner {

class MultiTensorStep;

/// Why this kiln cannot capture steps (a LibTorch without CUDA, or one older than 2.2, whose
/// fused Adam cannot read its learning rate from the device); empty when it can.
std::string cuda_graphs_unavailable();

/// One captured CUDA graph. The capture runs on a stream of its own (a graph cannot be captured
/// on the default stream) after what the current stream queued; replays run on the current
/// stream. The capture is thread-local: the loader's workers may go on pinning memory
/// meanwhile. The graph's memory (every tensor made inside the capture) comes from a private
/// pool and stays allocated, at the same addresses, until reset().
class StepGraph {
 public:
  StepGraph();
  ~StepGraph();
  StepGraph(const StepGraph&) = delete;
  StepGraph& operator=(const StepGraph&) = delete;

  /// Records the kernels `body` queues, without running them. A body that waits for the GPU
  /// (reads a value, synchronizes) cannot be captured: an Error with CUDA's reason, the graph
  /// left empty.
  void capture(const std::function<void()>& body);
  /// Queues the captured kernels again, on the current stream.
  void replay();
  bool captured() const;
  /// Drops the graph and its memory.
  void reset();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// The trainer's captured step: the graph, the input it reads and what the capture left for
/// the host to read after each replay (all of it in memory the graph writes).
struct CapturedStep {
  /// Eager steps a run takes before it captures one: the first steps make what a capture
  /// cannot (the optimizers' state, cuDNN's choice of algorithms, cuBLAS's workspaces).
  static constexpr int kWarmupSteps = 3;

  StepGraph graph;
  int eager_steps = 0;  ///< since the run began, or since the graph was dropped
  Batch input;          ///< the batch the graph reads: each replay's batch is copied into it
  std::vector<std::pair<std::string, at::Tensor>> readout;  ///< the step's values for the readout
  TensorMap losses;     ///< Step::losses() of the captured step
  Outputs outputs;      ///< Step::outputs() of the captured step (its last phase's)
  std::vector<MultiTensorStep*> optimizers;  ///< each phase's, in graph mode while captured

  /// Drops the graph: the next steps are eager again, and then a new capture.
  void reset() {
    graph.reset();
    eager_steps = 0;
    input = Batch();
    readout.clear();
    losses = TensorMap();
    outputs = Outputs();
    optimizers.clear();
  }
};

}  // namespace kiln::runner
