// Data-parallel training on c10d, LibTorch's own distributed engine (the one torch.distributed
// and DDP use): the rendezvous store, the process group, and the few collectives the trainer
// needs (averaged gradients and losses, an agreed stop, rank 0's state for everyone).
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include <c10/util/intrusive_ptr.h>
#include <torch/types.h>

#include "config/world.hpp"

namespace c10d {
class Work;
}
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

  /// Every rank's host name, in rank order (each rank leaves its own when it connects; read
  /// once, when first asked).
  const std::vector<std::string>& hosts();

  /// A value for one rank to leave for the others (a stop's reason), and reading it back.
  void set(const std::string& key, const std::string& value);
  std::string get(const std::string& key);


 private:
  struct Impl;
  World world_;
  std::chrono::milliseconds timeout_;
  std::vector<std::string> hosts_;
  bool serving_ = false;  // this rank serves the store (rank 0, but not under torchrun's agent)
  bool broken_ = false;   // a collective found a rank lost
  friend class ProcessGroup;
  std::unique_ptr<Impl> impl_;
};

/// The run's process group (ProcessGroupGloo, or ProcessGroupNCCL on CUDA) and what the trainer
/// asks of it. Every call is a collective: every rank makes the same calls in the same order.
/// A rank that ended or stopped answering makes the call an Error within the timeout (on NCCL,
/// whose collectives the host does not wait for, the step's stop agreement on the host).
class ProcessGroup {
 public:
  /// `backend` as resolve_backend() gives it; `device` where the tensors live.
  ProcessGroup(Rendezvous& rendezvous, const std::string& backend, const DistributedOptions& options,
               c10::Device device);
  ~ProcessGroup();
  ProcessGroup(const ProcessGroup&) = delete;
  ProcessGroup& operator=(const ProcessGroup&) = delete;

  /// Whether gradients travel during the backward pass ([distributed] overlap).
  bool overlap() const { return overlap_; }
  int rank() const { return rendezvous_.world().rank; }
  int size() const { return rendezvous_.world().size; }
  const std::string& backend() const { return backend_; }
  Rendezvous& rendezvous() { return rendezvous_; }

  /// One phase's averaging of its gradients and loss values, started before its backward
  /// pass so that each bucket is sent as soon as its gradients are there (overlapping the rest
  /// of the pass), in the same order on every rank. Buckets of about bucket_mb hold parameters
  /// of one dtype, from the last parameter to the first (the order a backward pass produces
  /// them in).
  class Averaging {
   public:
    ~Averaging();
    /// Parameter `index`'s gradient (summed over the step's micro-batches) is final: sends
    /// every bucket that is complete now and whose predecessors went.
    void ready(std::size_t index, torch::Tensor grad);
    /// Sends what is left (a gradient never made ready: `grads`' own, or zeros when it has
    /// none) and the `values` (0-dim tensors, with which gradients this rank has), waits, and
    /// writes the averages into `grads` and `values`. A gradient no rank has stays undefined;
    /// one that some ranks have and others lack (a parameter used on some only) is an Error.
    void finish(std::vector<torch::Tensor>& grads, std::vector<torch::Tensor>& values);

   private:
    friend class ProcessGroup;
    Averaging(ProcessGroup& group, const std::vector<torch::Tensor>& params);
    void launch(std::size_t bucket);

    ProcessGroup& group_;
    const std::vector<torch::Tensor>& params_;
    std::vector<std::vector<std::size_t>> plan_;  // buckets of parameter indices, in sending order
    std::vector<std::size_t> bucket_of_;
    std::vector<std::size_t> missing_;            // per bucket: gradients not yet ready
    std::vector<torch::Tensor> ready_;            // per parameter, once ready
    std::vector<torch::Tensor> flats_;            // per bucket, once sent
    std::vector<c10::intrusive_ptr<c10d::Work>> works_;
    std::size_t next_ = 0;                        // the next bucket to send
    double seconds_ = 0;                          // spent sending
  };

  /// Starts averaging a phase's gradients (of `params`, which must outlive it).
  std::unique_ptr<Averaging> begin_average(const std::vector<torch::Tensor>& params);
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
  /// A collective failed: another rank ended or hangs. The Error says `what` was going on.
  [[noreturn]] void lost(const char* what, const std::exception& error);
  /// Waits for a collective of the backend's group: the host blocks on Gloo (within the
  /// timeout); on NCCL only the current stream waits.
  void wait(c10d::Work& work) const;

  Rendezvous& rendezvous_;
  std::string backend_;
  DistributedOptions options_;
  c10::Device device_;
  bool overlap_ = false;
  double seconds_ = 0;
  std::unique_ptr<Impl> impl_;
  std::unique_ptr<Impl> control_;  // Gloo, on the host: the stop's agreement (none without Gloo)
};

}  // namespace kiln::runner
