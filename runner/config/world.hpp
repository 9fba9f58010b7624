// Where this process is among a run's processes (torchrun's environment, or Slurm's), and the
// experiment's [distributed] table. Torch-free: the launcher's tests and the config tests use it.
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "kiln/config.hpp"

namespace kiln::runner {

/// One process's place in a data-parallel run. A run of one process (no variables set) has
/// rank 0 of 1.
struct World {
  int rank = 0;              ///< RANK (SLURM_PROCID)
  int size = 1;              ///< WORLD_SIZE (SLURM_STEP_NUM_TASKS)
  int local_rank = 0;        ///< LOCAL_RANK (SLURM_LOCALID): the process's index on its machine
  int local_size = 1;        ///< LOCAL_WORLD_SIZE (the step's tasks on this node)
  std::string master_addr;   ///< MASTER_ADDR: where rank 0 serves the rendezvous store
  int master_port = 0;       ///< MASTER_PORT (29500, torchrun's default, when unset)
  std::string source;        ///< "torchrun", "slurm", or "" for one process
  /// torchrun's agent already serves the store at MASTER_ADDR:MASTER_PORT
  /// (TORCHELASTIC_USE_AGENT_STORE=True): rank 0 connects to it instead of serving one.
  bool agent_store = false;
  /// torchrun's TORCHELASTIC_RESTART_COUNT: an agent's store outlives a restart of its
  /// workers, so each attempt's keys are its own.
  int attempt = 0;

  bool distributed() const { return size > 1; }
  bool main() const { return rank == 0; }
};

/// The environment's variable `name`, or null: std::getenv, or a test's map.
using Environment = std::function<const char*(const char* name)>;

/// Reads the world from torchrun's variables (RANK, WORLD_SIZE, LOCAL_RANK, LOCAL_WORLD_SIZE,
/// MASTER_ADDR, MASTER_PORT), else, in a task of an `srun` step, from Slurm's (SLURM_PROCID,
/// SLURM_STEP_NUM_TASKS, SLURM_LOCALID, SLURM_STEP_TASKS_PER_NODE or SLURM_TASKS_PER_NODE with
/// SLURM_NODEID) with MASTER_ADDR and MASTER_PORT set by the batch script. None set (or a batch
/// script's own variables, without SLURM_STEP_NUM_TASKS): one process.
/// A malformed or inconsistent value is an Error naming the variable and its value.
World read_world(const Environment& env);
/// read_world(std::getenv).
World read_world();

/// "2 processes (gloo)", "one process".
std::string describe(const World& world, std::string_view backend);

/// [distributed]: how the processes of a run talk. Read in every run (a single process checks
/// it too, so kiln validate finds its errors), used when there are several.
struct DistributedOptions {
  std::string backend = "auto";  ///< "auto" (nccl on CUDA where the LibTorch has it, else gloo), "gloo", "nccl"
  double timeout = 300;          ///< seconds a collective or the rendezvous waits before the run fails
  double bucket_mb = 25;         ///< gradients are all-reduced in buckets of about this many MiB
  /// Send each bucket while the backward pass goes on: "auto" (on CUDA, where the pass runs on
  /// the GPU; off on the CPU, where the collectives take the pass's cores: pix2pix's two ranks
  /// on 2 cores ran at 6.8 steps/s with it, 8.1 without), "on" or "off".
  std::string overlap = "auto";
  Config table;                  ///< for positioned errors (the backend is checked against the device later)

  /// A bad value is a ConfigError at its key.
  static DistributedOptions read(const Config& table);
};

}  // namespace kiln::runner
