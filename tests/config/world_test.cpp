// A process's place in a data-parallel run (config/world.hpp), from torchrun's or Slurm's
// variables given as a map, and the experiment's [distributed] table. Torch-free.
#include "config/world.hpp"

#include <functional>
#include <map>
#include <string>

#include <gtest/gtest.h>

#include "../support/experiment_file.hpp"
#include "config/experiment.hpp"
#include "document.hpp"
#include "kiln/error.hpp"

namespace kiln::runner {
namespace {

using kiln::test::mlp_experiment;
using kiln::test::TempDir;
using kiln::test::write_text;
using Variables = std::map<std::string, std::string>;

/// read_world() on exactly `variables`: nothing of this process's own environment leaks in.
World world_of(const Variables& variables) {
  return read_world([&variables](const char* name) -> const char* {
    const auto found = variables.find(name);
    return found == variables.end() ? nullptr : found->second.c_str();
  });
}

/// The Error read_world() gives for `variables`, or "(no error)".
std::string world_error(const Variables& variables) {
  try {
    world_of(variables);
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

// ---- torchrun ---------------------------------------------------------------------------

TEST(world, a_bad_rank_or_world_size_names_the_variable_and_its_value) {
  for (const std::string value : {"abc", "-1", "1.5", "", "1x", "99999999999999999999"})
    EXPECT_EQ(world_error({{"RANK", value}, {"WORLD_SIZE", "2"}, {"MASTER_ADDR", "h"}}),
              "environment: RANK=" + value + " is not a whole number from 0 to 1048576")
        << value;
  for (const std::string value : {"abc", "-1", "1.5", "0"})
    EXPECT_EQ(world_error({{"RANK", "0"}, {"WORLD_SIZE", value}, {"MASTER_ADDR", "h"}}),
              "environment: WORLD_SIZE=" + value + " is not a whole number from 1 to 1048576")
        << value;
  EXPECT_EQ(world_error({{"RANK", "0"}, {"WORLD_SIZE", "2"}, {"LOCAL_RANK", "x"}, {"MASTER_ADDR", "h"}}),
            "environment: LOCAL_RANK=x is not a whole number from 0 to 1048576");
  EXPECT_EQ(world_error({{"RANK", "0"}, {"WORLD_SIZE", "2"}, {"LOCAL_WORLD_SIZE", "0"}, {"MASTER_ADDR", "h"}}),
            "environment: LOCAL_WORLD_SIZE=0 is not a whole number from 1 to 1048576");
}

TEST(world, rank_without_world_size_and_the_reverse_are_errors) {
  EXPECT_EQ(world_error({{"RANK", "0"}}),
            "environment: RANK is set but WORLD_SIZE is not; torchrun sets both (RANK and WORLD_SIZE)");
  EXPECT_EQ(world_error({{"WORLD_SIZE", "2"}}),
            "environment: WORLD_SIZE is set but RANK is not; torchrun sets both (RANK and WORLD_SIZE)");
}

TEST(world, a_rank_at_or_past_the_world_size_is_an_error) {
  EXPECT_EQ(world_error({{"RANK", "2"}, {"WORLD_SIZE", "2"}, {"MASTER_ADDR", "h"}}),
            "environment: rank 2 is not below the world size 2 (RANK, WORLD_SIZE)");
  EXPECT_EQ(world_error({{"RANK", "1"}, {"WORLD_SIZE", "4"}, {"LOCAL_RANK", "2"}, {"LOCAL_WORLD_SIZE", "2"},
                         {"MASTER_ADDR", "h"}}),
            "environment: local rank 2 is not below the local world size 2");
}

TEST(world, several_processes_need_master_addr) {
  const std::string message = "environment: WORLD_SIZE is above 1 but MASTER_ADDR is not set (the host of rank 0)";
  EXPECT_EQ(world_error({{"RANK", "0"}, {"WORLD_SIZE", "2"}}), message);
  EXPECT_EQ(world_error({{"RANK", "1"}, {"WORLD_SIZE", "2"}, {"MASTER_ADDR", ""}}), message);
}

TEST(world, a_bad_master_port_names_its_value) {
  for (const std::string value : {"0", "65536", "http", "-5"})
    EXPECT_EQ(world_error({{"RANK", "0"}, {"WORLD_SIZE", "2"}, {"MASTER_ADDR", "h"}, {"MASTER_PORT", value}}),
              "environment: MASTER_PORT=" + value + " is not a whole number from 1 to 65535")
        << value;
}

TEST(world, no_variables_is_one_process) {
  const World world = world_of({});
  EXPECT_EQ(world.rank, 0);
  EXPECT_EQ(world.size, 1);
  EXPECT_EQ(world.local_rank, 0);
  EXPECT_EQ(world.local_size, 1);
  EXPECT_EQ(world.master_addr, "");
  EXPECT_EQ(world.master_port, 0);
  EXPECT_EQ(world.source, "");
  EXPECT_FALSE(world.distributed());
  EXPECT_TRUE(world.main());
  EXPECT_EQ(describe(world, "gloo"), "one process");
}

TEST(world, reads_torchruns_variables) {
  const World world = world_of({{"RANK", "5"},
                                {"WORLD_SIZE", "8"},
                                {"LOCAL_RANK", "1"},
                                {"LOCAL_WORLD_SIZE", "4"},
                                {"MASTER_ADDR", "node-0.example"},
                                {"MASTER_PORT", "31234"}});
  EXPECT_EQ(world.rank, 5);
  EXPECT_EQ(world.size, 8);
  EXPECT_EQ(world.local_rank, 1);
  EXPECT_EQ(world.local_size, 4);
  EXPECT_EQ(world.master_addr, "node-0.example");
  EXPECT_EQ(world.master_port, 31234);
  EXPECT_EQ(world.source, "torchrun");
  EXPECT_TRUE(world.distributed());
  EXPECT_FALSE(world.main());
  EXPECT_EQ(describe(world, "gloo"), "8 processes (gloo)");
}

TEST(world, torchrun_defaults_are_one_machine_and_port_29500) {
  const World world = world_of({{"RANK", "1"}, {"WORLD_SIZE", "3"}, {"MASTER_ADDR", "127.0.0.1"}});
  EXPECT_EQ(world.rank, 1);
  EXPECT_EQ(world.size, 3);
  EXPECT_EQ(world.local_rank, 1);  // LOCAL_RANK: the rank
  EXPECT_EQ(world.local_size, 3);  // LOCAL_WORLD_SIZE: the world size
  EXPECT_EQ(world.master_addr, "127.0.0.1");
  EXPECT_EQ(world.master_port, 29500);
}

TEST(world, a_world_of_one_needs_no_master_addr) {
  const World world = world_of({{"RANK", "0"}, {"WORLD_SIZE", "1"}});
  EXPECT_EQ(world.size, 1);
  EXPECT_FALSE(world.distributed());
  EXPECT_EQ(world.master_addr, "");
  EXPECT_EQ(world.master_port, 29500);
}

// ---- Slurm ------------------------------------------------------------------------------

TEST(world, a_bad_slurm_variable_names_it_and_its_value) {
  EXPECT_EQ(world_error({{"SLURM_PROCID", "abc"}, {"SLURM_STEP_NUM_TASKS", "2"}, {"MASTER_ADDR", "h"}}),
            "environment: SLURM_PROCID=abc is not a whole number from 0 to 1048576");
  EXPECT_EQ(world_error({{"SLURM_PROCID", "0"}, {"SLURM_STEP_NUM_TASKS", "1.5"}, {"MASTER_ADDR", "h"}}),
            "environment: SLURM_STEP_NUM_TASKS=1.5 is not a whole number from 1 to 1048576");
  EXPECT_EQ(world_error({{"SLURM_PROCID", "0"}, {"SLURM_STEP_NUM_TASKS", "-1"}, {"MASTER_ADDR", "h"}}),
            "environment: SLURM_STEP_NUM_TASKS=-1 is not a whole number from 1 to 1048576");
  EXPECT_EQ(world_error({{"SLURM_PROCID", "0"}, {"SLURM_STEP_NUM_TASKS", "2"}, {"SLURM_LOCALID", "one"}, {"MASTER_ADDR", "h"}}),
            "environment: SLURM_LOCALID=one is not a whole number from 0 to 1048576");
  EXPECT_EQ(world_error({{"SLURM_PROCID", "0"},
                         {"SLURM_STEP_NUM_TASKS", "2"},
                         {"SLURM_TASKS_PER_NODE", "2"},
                         {"SLURM_NODEID", "first"},
                         {"MASTER_ADDR", "h"}}),
            "environment: SLURM_NODEID=first is not a whole number from 0 to 1048576");
}

TEST(world, a_malformed_slurm_task_list_is_an_error) {
  for (const std::string list : {"", "abc", "2(x3", "2(x3]", "2(x)", "2(x0)", "0", "-2", "2x3", "2,,1", ",2",
                                 "2(x3)1", "1(x100001)"}) {
    EXPECT_EQ(world_error({{"SLURM_PROCID", "0"},
                           {"SLURM_STEP_NUM_TASKS", "2"},
                           {"SLURM_STEP_TASKS_PER_NODE", list},
                           {"MASTER_ADDR", "h"}}),
              "environment: SLURM_STEP_TASKS_PER_NODE=" + list + " is not a Slurm task list")
        << list;
  }
  EXPECT_EQ(world_error({{"SLURM_PROCID", "0"}, {"SLURM_STEP_NUM_TASKS", "2"}, {"SLURM_TASKS_PER_NODE", "2(x"},
                         {"MASTER_ADDR", "h"}}),
            "environment: SLURM_TASKS_PER_NODE=2(x is not a Slurm task list");
}

TEST(world, slurms_rank_at_or_past_its_size_is_an_error) {
  EXPECT_EQ(world_error({{"SLURM_PROCID", "4"}, {"SLURM_STEP_NUM_TASKS", "4"}, {"MASTER_ADDR", "h"}}),
            "environment: rank 4 is not below the world size 4 (SLURM_PROCID)");
  EXPECT_EQ(world_error({{"SLURM_PROCID", "3"},
                         {"SLURM_STEP_NUM_TASKS", "4"},
                         {"SLURM_LOCALID", "2"},
                         {"SLURM_TASKS_PER_NODE", "2(x2)"},
                         {"SLURM_NODEID", "1"},
                         {"MASTER_ADDR", "h"}}),
            "environment: local rank 2 is not below the local world size 2");
}

TEST(world, slurm_without_master_addr_says_how_to_set_it) {
  EXPECT_EQ(world_error({{"SLURM_PROCID", "1"}, {"SLURM_STEP_NUM_TASKS", "2"}}),
            "environment: MASTER_ADDR is not set; under Slurm the batch script sets it to the first node (export "
            "MASTER_ADDR=$(scontrol show hostnames \"$SLURM_JOB_NODELIST\" | head -n 1); see docs/distributed.md)");
}

TEST(world, reads_slurms_variables_preferring_the_steps_own) {
  const World world = world_of({{"SLURM_PROCID", "3"},
                                {"SLURM_STEP_NUM_TASKS", "6"},
                                {"SLURM_NTASKS", "8"},  // the allocation's: the step may use fewer
                                {"SLURM_LOCALID", "1"},
                                {"SLURM_STEP_TASKS_PER_NODE", "2(x3)"},
                                {"SLURM_TASKS_PER_NODE", "4,4"},
                                {"SLURM_NODEID", "1"},
                                {"MASTER_ADDR", "node-0"},
                                {"MASTER_PORT", "29400"}});
  EXPECT_EQ(world.rank, 3);
  EXPECT_EQ(world.size, 6);
  EXPECT_EQ(world.local_rank, 1);
  EXPECT_EQ(world.local_size, 2);
  EXPECT_EQ(world.master_addr, "node-0");
  EXPECT_EQ(world.master_port, 29400);
  EXPECT_EQ(world.source, "slurm");
  EXPECT_TRUE(world.distributed());
}

TEST(world, a_batch_scripts_own_slurm_variables_are_one_process) {
  // The batch script (no srun) has SLURM_PROCID=0 and the job's SLURM_NTASKS, but no step:
  // kiln run there trains alone instead of waiting for ranks nobody starts.
  const World world =
      world_of({{"SLURM_PROCID", "0"}, {"SLURM_NTASKS", "4"}, {"SLURM_LOCALID", "0"}, {"MASTER_ADDR", "n0"}});
  EXPECT_EQ(world.size, 1);
  EXPECT_EQ(world.source, "");
  EXPECT_FALSE(world.distributed());
}

/// The local world size of the task on node `node` for the task list `list` (7 tasks).
int local_size_on(const std::string& list, int node) {
  return world_of({{"SLURM_PROCID", "0"},
                   {"SLURM_STEP_NUM_TASKS", "7"},
                   {"SLURM_TASKS_PER_NODE", list},
                   {"SLURM_NODEID", std::to_string(node)},
                   {"MASTER_ADDR", "n0"}})
      .local_size;
}

TEST(world, slurms_node_id_picks_its_entry_of_the_task_list) {
  // "2(x3),1": three nodes of 2 tasks, then one of 1.
  EXPECT_EQ(local_size_on("2(x3),1", 0), 2);
  EXPECT_EQ(local_size_on("2(x3),1", 2), 2);
  EXPECT_EQ(local_size_on("2(x3),1", 3), 1);
  EXPECT_EQ(local_size_on("3,1(x2),2", 0), 3);
  EXPECT_EQ(local_size_on("3,1(x2),2", 1), 1);
  EXPECT_EQ(local_size_on("3,1(x2),2", 2), 1);
  EXPECT_EQ(local_size_on("3,1(x2),2", 3), 2);
  EXPECT_EQ(local_size_on("7", 0), 7);
  // Without SLURM_NODEID, the first node's.
  EXPECT_EQ(world_of({{"SLURM_PROCID", "0"}, {"SLURM_NTASKS", "3"}, {"SLURM_TASKS_PER_NODE", "1,2"},
                      {"MASTER_ADDR", "n0"}})
                .local_size,
            1);
}

TEST(world, srun_of_one_task_is_one_process) {
  const World world = world_of({{"SLURM_PROCID", "0"}, {"SLURM_NTASKS", "1"}, {"SLURM_STEP_NUM_TASKS", "1"},
                                {"SLURM_LOCALID", "0"}, {"SLURM_TASKS_PER_NODE", "1"}});
  EXPECT_EQ(world.size, 1);
  EXPECT_FALSE(world.distributed());
  EXPECT_EQ(world.source, "");
  EXPECT_EQ(describe(world, "gloo"), "one process");
}

TEST(world, slurm_procid_alone_is_one_process) {
  // No task count: not a task of an srun step.
  const World world = world_of({{"SLURM_PROCID", "0"}, {"SLURM_JOB_ID", "77"}});
  EXPECT_EQ(world.size, 1);
  EXPECT_EQ(world.source, "");
}

TEST(world, torchruns_variables_win_over_slurms) {
  // torchrun started inside an srun step: its own ranks are the run's.
  const World world = world_of({{"RANK", "1"},
                                {"WORLD_SIZE", "2"},
                                {"MASTER_ADDR", "127.0.0.1"},
                                {"SLURM_PROCID", "5"},
                                {"SLURM_NTASKS", "8"},
                                {"SLURM_LOCALID", "3"},
                                {"SLURM_TASKS_PER_NODE", "not a list"}});
  EXPECT_EQ(world.rank, 1);
  EXPECT_EQ(world.size, 2);
  EXPECT_EQ(world.local_rank, 1);
  EXPECT_EQ(world.local_size, 2);
  EXPECT_EQ(world.source, "torchrun");
}

// ---- [distributed] ----------------------------------------------------------------------

/// DistributedOptions::read() on the [distributed] table of `text`; its ConfigError, if any.
std::string options_error(const std::string& text) {
  const auto doc = kiln::detail::Document::parse(text, "exp.toml");
  try {
    DistributedOptions::read(doc->root().table("distributed"));
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(distributed_options, a_bad_backend_is_an_error_at_its_key) {
  EXPECT_EQ(options_error("[distributed]\nbackend = \"mpi\"\n"),
            "exp.toml:2:11: distributed.backend: expected \"auto\", \"gloo\" or \"nccl\", got \"mpi\"");
  EXPECT_EQ(options_error("[distributed]\nbackend = \"glo\"\n"),
            "exp.toml:2:11: distributed.backend: expected \"auto\", \"gloo\" or \"nccl\", got \"glo\"; did you mean "
            "\"gloo\"?");
  EXPECT_EQ(options_error("[distributed]\nbackend = 1\n"),
            "exp.toml:2:11: distributed.backend: expected a string, got an integer");
}

TEST(distributed_options, a_timeout_that_is_not_a_positive_number_of_seconds_is_an_error) {
  EXPECT_EQ(options_error("[distributed]\ntimeout = 0\n"),
            "exp.toml:2:11: distributed.timeout: must be greater than 0, got 0");
  EXPECT_EQ(options_error("[distributed]\ntimeout = -5.5\n"),
            "exp.toml:2:11: distributed.timeout: must be greater than 0, got -5.5");
  EXPECT_EQ(options_error("[distributed]\ntimeout = nan\n"),
            "exp.toml:2:11: distributed.timeout: must be a finite number, got nan");
  EXPECT_EQ(options_error("[distributed]\ntimeout = inf\n"),
            "exp.toml:2:11: distributed.timeout: must be a finite number, got inf");
  EXPECT_EQ(options_error("[distributed]\ntimeout = 604801\n"),
            "exp.toml:2:11: distributed.timeout: must be a number of seconds up to a week, got 604801");
  EXPECT_EQ(options_error("[distributed]\ntimeout = \"5m\"\n"),
            "exp.toml:2:11: distributed.timeout: expected a number, got a string");
}

TEST(distributed_options, a_bucket_size_out_of_range_is_an_error) {
  EXPECT_EQ(options_error("[distributed]\nbucket_mb = 0\n"),
            "exp.toml:2:13: distributed.bucket_mb: must be between 0.0625 and 1024, got 0");
  EXPECT_EQ(options_error("[distributed]\nbucket_mb = 2048\n"),
            "exp.toml:2:13: distributed.bucket_mb: must be between 0.0625 and 1024, got 2048");
}

TEST(distributed_options, reads_its_keys) {
  const auto doc = kiln::detail::Document::parse(
      "[distributed]\nbackend = \"gloo\"\ntimeout = 60\nbucket_mb = 0.5\noverlap = \"off\"\n", "exp.toml");
  const DistributedOptions options = DistributedOptions::read(doc->root().table("distributed"));
  EXPECT_EQ(options.backend, "gloo");
  EXPECT_EQ(options.overlap, "off");
  EXPECT_EQ(options.timeout, 60.0);
  EXPECT_EQ(options.bucket_mb, 0.5);
  EXPECT_EQ(options.table.path(), "distributed");
  EXPECT_TRUE(options.table.unread_keys().empty());
  EXPECT_EQ(options_error("[distributed]\ntimeout = 604800\nbucket_mb = 0.0625\n"), "(no error)");
}

TEST(distributed_options, an_experiment_without_the_table_has_the_defaults) {
  TempDir dir;
  const ExperimentSpec spec = load_experiment(write_text(dir, "exp.toml", mlp_experiment()));
  const DistributedOptions options = DistributedOptions::read(spec.distributed);
  EXPECT_EQ(options.backend, "auto");
  EXPECT_EQ(options.timeout, 300.0);
  EXPECT_EQ(options.bucket_mb, 25.0);
  EXPECT_EQ(options.overlap, "auto");
}

TEST(distributed_options, set_overrides_are_checked_at_their_argument) {
  TempDir dir;
  const auto file = write_text(dir, "exp.toml", mlp_experiment());
  const ExperimentSpec spec = load_experiment(file, {"distributed.timeout=-1"});
  try {
    DistributedOptions::read(spec.distributed);
    FAIL() << "no error";
  } catch (const ConfigError& e) {
    EXPECT_STREQ(e.what(), "--set distributed.timeout=-1: distributed.timeout: must be greater than 0, got -1");
  }
}

}  // namespace
}  // namespace kiln::runner
