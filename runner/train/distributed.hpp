// Data-parallel training on c10d, LibTorch's own distributed engine (the one torch.distributed
// and DDP use): the rendezvous store, the process group, and the few collectives the trainer
// needs (averaged gradients and losses, an agreed stop, rank 0's state for everyone).
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include <torch/types.h>

#include "config/world.hpp"
#include "kiln/tensors.hpp"

namespace kiln::runner {

/// Whether this kiln was built with c10d's Gloo process group (libgloo-dev's headers were there
/// when it was built) and with NCCL's (a CUDA LibTorch that has it).
bool have_gloo();
bool have_nccl();

/// [distributed] backend for a run on `device`: "auto" is nccl on CUDA where this kiln has it,
/// else gloo. nccl where this kiln lacks it or off CUDA is a ConfigError at the key in any run;
/// gloo where this kiln lacks it, in a run of `several` processes.
std::string resolve_backend(const DistributedOptions& options, c10::Device device, bool several);

/// The rendezvous: c10d's TCPStore at MASTER_ADDR:MASTER_PORT, served by rank 0. It exists
/// before the experiment is built, so that each rank can tell the others whether its part
/// worked (agree()) instead of leaving them to wait for the timeout.
class Rendezvous {
 public:
  /// Connects (rank 0 serves and waits for the others) within `timeout`; an Error naming the
  /// address when that fails.
  Rendezvous(const World& world, std::chrono::milliseconds timeout);
  ~Rendezvous();
  Rendezvous(const Rendezvous&) = delete;
  Rendezvous& operator=(const Rendezvous&) = delete;

  const World& world() const { return world_; }
  std::chrono::milliseconds timeout() const { return timeout_; }

  /// Publishes this rank's outcome of `stage` ("" when it went well, else what went wrong)
  /// and waits for every other rank's: each rank's problem, in rank order ("" for none). A
  /// rank that says nothing within the timeout has one ("did not finish its setup within 300 s").
  std::vector<std::string> agree(const std::string& stage, const std::string& problem);
  /// Rank 0 publishes `value` for `stage`; the others wait for it (Error after the timeout).
  void announce(const std::string& stage, const std::string& value);
  std::string announced(const std::string& stage);

  /// Every rank's host name, in rank order (gathered at the "setup" stage).
  const std::vector<std::string>& hosts() const { return hosts_; }

  /// A value for one rank to leave for the others (a stop's reason), and reading it back.
  void set(const std::string& key, const std::string& value);
  std::string get(const std::string& key);

  struct Impl;
  Impl& impl() { return *impl_; }

 private:
  World world_;
  std::chrono::milliseconds timeout_;
  std::vector<std::string> hosts_;
  std::unique_ptr<Impl> impl_;
};

/// The run's process group (ProcessGroupGloo, or ProcessGroupNCCL on CUDA) and what the trainer
/// asks of it. Every call is a collective: every rank makes the same calls in the same order.
/// A rank that ended or stopped answering makes the call an Error within the timeout.
class ProcessGroup {
 public:
  /// `backend` as resolve_backend() gives it; `device` where the tensors live.
  ProcessGroup(Rendezvous& rendezvous, const std::string& backend, const DistributedOptions& options,
               c10::Device device);
  ~ProcessGroup();
  ProcessGroup(const ProcessGroup&) = delete;
  ProcessGroup& operator=(const ProcessGroup&) = delete;

  int rank() const { return rendezvous_.world().rank; }
  int size() const { return rendezvous_.world().size; }
  const std::string& backend() const { return backend_; }
  Rendezvous& rendezvous() { return rendezvous_; }

  /// Averages a phase's gradients (of `params`, in their order) and its loss values over the
  /// ranks, in place. Gradients go in buckets of about bucket_mb (by dtype), with the values,
  /// all sent before the first is waited for. A gradient no rank has stays undefined; one that
  /// some ranks have and others lack (a parameter used on some only) is an Error on every rank.
  /// `values` are 0-dim tensors, averaged as float.
  void average(const std::vector<torch::Tensor>& params, std::vector<torch::Tensor>& grads,
               std::vector<torch::Tensor>& values);
  /// Averages floating-point tensors in place (the model's buffers: BatchNorm's statistics).
  void average(std::vector<torch::Tensor>& tensors);
  /// Every rank's `mine` (a small non-negative number), in rank order.
  std::vector<std::int64_t> gather(std::int64_t mine);
  /// Rank 0's `state` on every rank: sent from rank 0, replacing the others' (on the CPU).
  void broadcast(TensorMap& state);

  /// The time spent in collectives so far, and how many ran (bench/, the share of a step).
  double seconds() const { return seconds_; }

  struct Impl;

 private:
  /// Runs the collectives `tensors` were queued for, waiting for each; `what` names the
  /// call in an error.
  void all_reduce(std::vector<torch::Tensor>& tensors, const char* what);

  Rendezvous& rendezvous_;
  std::string backend_;
  DistributedOptions options_;
  c10::Device device_;
  double seconds_ = 0;
  std::unique_ptr<Impl> impl_;
};

}  // namespace kiln::runner
