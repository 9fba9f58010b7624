// Where this process is among a run's processes, from torchrun's or Slurm's environment.
#include "config/world.hpp"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <optional>
#include <vector>

#include <fmt/format.h>

#include "kiln/error.hpp"

namespace kiln::runner {
namespace {

constexpr int kDefaultPort = 29500;  // torchrun's

/// `name`'s value as an integer in [low, high], or nullopt when unset; an Error when malformed.
std::optional<int> integer(const Environment& env, const char* name, long low, long high) {
  const char* text = env(name);
  if (!text) return std::nullopt;
  char* end = nullptr;
  errno = 0;
  const long value = std::strtol(text, &end, 10);
  if (*text == '\0' || *end != '\0' || errno != 0 || value < low || value > high)
    throw Error(fmt::format("environment: {}={} is not a whole number from {} to {}", name, text, low, high));
  return static_cast<int>(value);
}

/// Slurm's tasks-per-node list ("2(x3),1": three nodes of 2 tasks, then one of 1), expanded.
std::vector<int> expand_tasks_per_node(const char* name, const std::string& text) {
  std::vector<int> out;
  std::size_t at = 0;
  const auto bad = [&] { return Error(fmt::format("environment: {}={} is not a Slurm task list", name, text)); };
  while (at < text.size()) {
    std::size_t used = 0;
    int count = 0, repeat = 1;
    try {
      count = std::stoi(text.substr(at), &used);
    } catch (const std::exception&) {
      throw bad();
    }
    at += used;
    if (text.compare(at, 2, "(x") == 0) {
      at += 2;
      try {
        repeat = std::stoi(text.substr(at), &used);
      } catch (const std::exception&) {
        throw bad();
      }
      at += used;
      if (at >= text.size() || text[at] != ')') throw bad();
      ++at;
    }
    if (count < 1 || repeat < 1 || repeat > 100000) throw bad();
    out.insert(out.end(), static_cast<std::size_t>(repeat), count);
    if (at < text.size()) {
      if (text[at] != ',') throw bad();
      ++at;
    }
  }
  if (out.empty()) throw bad();
  return out;
}

void read_master(const Environment& env, World& world) {
  const char* addr = env("MASTER_ADDR");
  world.master_addr = addr ? addr : "";
  world.master_port = integer(env, "MASTER_PORT", 1, 65535).value_or(kDefaultPort);
}

}  // namespace

World read_world(const Environment& env) {
  World world;
  constexpr long kMaxRanks = 1 << 20;
  if (env("RANK") || env("WORLD_SIZE")) {
    world.source = "torchrun";
    const auto rank = integer(env, "RANK", 0, kMaxRanks);
    const auto size = integer(env, "WORLD_SIZE", 1, kMaxRanks);
    if (!rank || !size)
      throw Error(fmt::format("environment: {} is set but {} is not; torchrun sets both (RANK and WORLD_SIZE)",
                              rank ? "RANK" : "WORLD_SIZE", rank ? "WORLD_SIZE" : "RANK"));
    world.rank = *rank;
    world.size = *size;
    world.local_rank = integer(env, "LOCAL_RANK", 0, kMaxRanks).value_or(world.rank);
    world.local_size = integer(env, "LOCAL_WORLD_SIZE", 1, kMaxRanks).value_or(world.size);
    if (const char* shared = env("TORCHELASTIC_USE_AGENT_STORE"))
      world.agent_store = std::string(shared) == "True" || std::string(shared) == "true" || std::string(shared) == "1";
    world.attempt = integer(env, "TORCHELASTIC_RESTART_COUNT", 0, 1 << 30).value_or(0);
  } else if (env("SLURM_PROCID") && env("SLURM_STEP_NUM_TASKS")) {
    // A task of an srun step (srun sets SLURM_STEP_NUM_TASKS). The batch script itself has
    // SLURM_PROCID=0 and SLURM_NTASKS=N too, but it is one process: kiln run there trains alone.
    world.source = "slurm";
    world.rank = *integer(env, "SLURM_PROCID", 0, kMaxRanks);
    world.size = *integer(env, "SLURM_STEP_NUM_TASKS", 1, kMaxRanks);
    world.local_rank = integer(env, "SLURM_LOCALID", 0, kMaxRanks).value_or(0);
    const char* per_node = env("SLURM_STEP_TASKS_PER_NODE") ? "SLURM_STEP_TASKS_PER_NODE" : "SLURM_TASKS_PER_NODE";
    if (const char* list = env(per_node)) {
      const std::vector<int> tasks = expand_tasks_per_node(per_node, list);
      const int node = integer(env, "SLURM_NODEID", 0, kMaxRanks).value_or(0);
      world.local_size = node < static_cast<int>(tasks.size()) ? tasks[static_cast<std::size_t>(node)] : tasks.back();
    } else {
      world.local_size = world.size;
    }
    if (world.size == 1) world.source.clear();  // `srun -n 1 kiln run ...`: one process
  } else {
    return world;
  }
  if (world.rank >= world.size)
    throw Error(fmt::format("environment: rank {} is not below the world size {} ({})", world.rank, world.size,
                            world.source == "slurm" ? "SLURM_PROCID" : "RANK, WORLD_SIZE"));
  if (world.local_rank >= world.local_size)
    throw Error(fmt::format("environment: local rank {} is not below the local world size {}", world.local_rank,
                            world.local_size));
  read_master(env, world);
  if (world.distributed() && world.master_addr.empty())
    throw Error(world.source == "slurm"
                    ? "environment: MASTER_ADDR is not set; under Slurm the batch script sets it to the first node "
                      "(export MASTER_ADDR=$(scontrol show hostnames \"$SLURM_JOB_NODELIST\" | head -n 1); see "
                      "docs/distributed.md)"
                    : "environment: WORLD_SIZE is above 1 but MASTER_ADDR is not set (the host of rank 0)");
  return world;
}

World read_world() {
  return read_world([](const char* name) -> const char* { return std::getenv(name); });
}

std::string describe(const World& world, std::string_view backend) {
  if (!world.distributed()) return "one process";
  return fmt::format("{} processes ({})", world.size, backend);
}

DistributedOptions DistributedOptions::read(const Config& table) {
  DistributedOptions options;
  options.table = table;
  options.backend = table.get_choice("backend", "auto", {"auto", "gloo", "nccl"});
  options.timeout = table.get_positive<double>("timeout", options.timeout);
  if (!std::isfinite(options.timeout) || options.timeout > 7 * 24 * 3600.0)
    table.fail("timeout", fmt::format("must be a number of seconds up to a week, got {}", options.timeout));
  options.bucket_mb = table.get_in_range<double>("bucket_mb", options.bucket_mb, 0.0625, 1024);
  options.overlap = table.get_choice("overlap", "auto", {"auto", "on", "off"});
  return options;
}

}  // namespace kiln::runner
