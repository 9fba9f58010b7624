// [distributed] and the environment of a data-parallel run through the real `kiln`: what kiln
// validate accepts, what a process refuses before it meets the others (exit 2, nothing
// written), how the ranks agree on a setup error (one line from rank 0), and that only rank 0
// writes image grids. Processes are started by hand with torchrun's variables on a free port,
// with a [distributed] timeout of 30 s, so that a broken rendezvous cannot hang ctest.
#include <filesystem>
#include <memory>
#include <string>
#include <system_error>
#include <vector>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "../support/experiment_file.hpp"
#include "../support/temp_dir.hpp"
#include "cli_support.hpp"
#include "kiln_process.hpp"

namespace kiln::test {
namespace {

namespace fs = std::filesystem;
using ::testing::AnyOf;
using ::testing::Eq;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::StartsWith;
using namespace std::chrono_literals;

/// Longer than any of these runs takes (a few seconds), shorter than ctest's patience.
constexpr auto kProcessBound = 60s;

/// A TCP port that is free on 127.0.0.1 now: port 0 bound, read back, closed (as kiln run
/// --nproc picks one).
int free_port() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) throw std::system_error(errno, std::generic_category(), "socket");
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  socklen_t length = sizeof address;
  if (bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    const int error = errno;
    close(fd);
    throw std::system_error(error, std::generic_category(), "bind or getsockname");
  }
  close(fd);
  return ntohs(address.sin_port);
}

/// What torchrun gives rank `rank` of `size` on one machine, meeting at 127.0.0.1:`port`;
/// Slurm's variables removed, so that a test run under srun sees the same.
EnvChanges torchrun_env(int rank, int size, int port) {
  EnvChanges env = {{"RANK", std::to_string(rank)},        {"WORLD_SIZE", std::to_string(size)},
                    {"LOCAL_RANK", std::to_string(rank)},  {"LOCAL_WORLD_SIZE", std::to_string(size)},
                    {"MASTER_ADDR", "127.0.0.1"},          {"MASTER_PORT", std::to_string(port)}};
  for (const char* name : {"SLURM_PROCID", "SLURM_NTASKS", "SLURM_STEP_NUM_TASKS"}) env[name] = std::nullopt;
  return env;
}

/// The small experiment, given 30 s for the rendezvous and each collective.
std::string distributed_experiment(const std::string& extra = "") {
  return mlp_experiment("[distributed]\nbackend = \"gloo\"\ntimeout = 30\n" + extra);
}

/// `kiln run` processes started together, one per rank, each in its own folder (or a shared one).
struct Ranks {
  std::vector<std::unique_ptr<KilnProcess>> processes;

  void start(const std::vector<std::string>& args, const fs::path& cwd, const EnvChanges& env) {
    processes.push_back(std::make_unique<KilnProcess>(args, cwd, env));
  }
  std::vector<KilnResult> finish() {
    std::vector<KilnResult> results;
    for (auto& process : processes) results.push_back(process->finish(kProcessBound));
    return results;
  }
};

TEST(cli_distributed, validate_accepts_a_distributed_table) {
  TempDir dir;
  write_text(dir, "exp.toml", distributed_experiment());
  const KilnResult result = run_kiln({"validate", "exp.toml"}, dir.path());
  EXPECT_EQ(result.exit_code(), 0) << result.describe();
  EXPECT_THAT(result.out, StartsWith("exp.toml: valid\n"));
  EXPECT_FALSE(fs::exists(dir / "runs"));
}

TEST(cli_distributed, nccl_on_the_cpu_is_refused_at_its_key) {
  // The case of the corpus (bad_inputs/distributed_nccl_on_cpu.toml) whole, for either LibTorch.
  TempDir dir;
  const std::string text = mlp_experiment("[distributed]\nbackend = \"nccl\"\n");
  write_text(dir, "exp.toml", text);
  const std::string at = "error: exp.toml:" + std::to_string(line_of(text, "backend = \"nccl\"")) +
                         ":11: distributed.backend: ";
  for (const std::string command : {"run", "validate"}) {
    SCOPED_TRACE(command);
    const KilnResult result = run_kiln({command, "exp.toml", "--set", "experiment.device=cpu"}, dir.path());
    ASSERT_TRUE(fails_with_one_error_line(result, 2)) << result.describe();
    EXPECT_THAT(error_line(result),
                AnyOf(Eq(at + "this kiln's LibTorch has no NCCL (a CPU LibTorch, or one built without it); use "
                              "\"gloo\", which runs on the CPU and on CUDA tensors"),
                      Eq(at + "NCCL runs on CUDA devices, and this run's device is cpu; use \"gloo\"")));
    EXPECT_FALSE(fs::exists(dir / "runs"));
  }
}

class cli_distributed_environment : public KilnRunTest {};

TEST_F(cli_distributed_environment, several_processes_without_master_addr_are_refused) {
  EnvChanges env = torchrun_env(0, 2, free_port());
  env["MASTER_ADDR"] = std::nullopt;
  const KilnResult result = run(distributed_experiment(), {}, env, kProcessBound);
  expect_refused(result);
  EXPECT_EQ(error_line(result),
            "error: environment: WORLD_SIZE is above 1 but MASTER_ADDR is not set (the host of rank 0)");
}

TEST_F(cli_distributed_environment, slurm_without_master_addr_says_how_to_set_it) {
  const KilnResult result = run(distributed_experiment(), {},
                                {{"SLURM_PROCID", "0"}, {"SLURM_STEP_NUM_TASKS", "2"}, {"RANK", std::nullopt},
                                 {"WORLD_SIZE", std::nullopt}, {"MASTER_ADDR", std::nullopt}},
                                kProcessBound);
  expect_refused(result);
  EXPECT_THAT(error_line(result), StartsWith("error: environment: MASTER_ADDR is not set; under Slurm"));
  EXPECT_THAT(error_line(result), HasSubstr("scontrol show hostnames"));
}

TEST_F(cli_distributed_environment, a_malformed_rank_is_refused_with_its_value) {
  EnvChanges env = torchrun_env(0, 2, free_port());
  env["RANK"] = "abc";
  const KilnResult result = run(distributed_experiment(), {}, env, kProcessBound);
  expect_refused(result);
  EXPECT_EQ(error_line(result), "error: environment: RANK=abc is not a whole number from 0 to 1048576");
}

TEST(cli_distributed, one_ranks_setup_error_is_said_once_by_rank_0_and_nothing_is_written) {
  TempDir dir;
  write_text(dir, "exp.toml", distributed_experiment());
  const int port = free_port();
  Ranks ranks;
  ranks.start({"run", "exp.toml"}, dir.path(), torchrun_env(0, 2, port));
  ranks.start({"run", "exp.toml", "--set", "model.hidden=oops"}, dir.path(), torchrun_env(1, 2, port));
  const std::vector<KilnResult> results = ranks.finish();

  const std::string problem = "--set model.hidden=oops: model.hidden: expected an array, got a string";
  ASSERT_TRUE(fails_with_one_error_line(results[0], 2)) << results[0].describe();
  EXPECT_EQ(error_line(results[0]), "error: rank 1: " + problem);
  // Rank 1's own problem differs from rank 0's (none): it says it too.
  ASSERT_TRUE(fails_with_one_error_line(results[1], 2)) << results[1].describe();
  EXPECT_EQ(error_line(results[1]), "error: rank 1: " + problem);
  for (const KilnResult& result : results) EXPECT_EQ(result.out, "");
  EXPECT_FALSE(fs::exists(dir / "runs")) << "a setup error on any rank must create neither a run nor a database";
}

TEST(cli_distributed, the_same_setup_error_on_every_rank_is_one_line_from_rank_0) {
  TempDir dir;
  write_text(dir, "exp.toml", distributed_experiment());
  const int port = free_port();
  Ranks ranks;
  for (int rank = 0; rank < 2; ++rank)
    ranks.start({"run", "exp.toml", "--set", "model.hidden=oops"}, dir.path(), torchrun_env(rank, 2, port));
  const std::vector<KilnResult> results = ranks.finish();

  ASSERT_TRUE(fails_with_one_error_line(results[0], 2)) << results[0].describe();
  EXPECT_EQ(error_line(results[0]), "error: --set model.hidden=oops: model.hidden: expected an array, got a string");
  EXPECT_TRUE(results[1].exited()) << results[1].describe();
  EXPECT_EQ(results[1].exit_code(), 2) << results[1].describe();
  EXPECT_THAT(message_lines(results[1].err), IsEmpty()) << results[1].describe();
  EXPECT_FALSE(fs::exists(dir / "runs"));
}

TEST(cli_distributed, a_file_that_does_not_parse_is_one_error_from_the_launcher_before_any_rank_starts) {
  TempDir dir;
  write_text(dir, "exp.toml", replace_once(distributed_experiment(), "max_steps = ", "max_steps = \n# "));
  const KilnResult result = run_kiln({"run", "exp.toml", "--nproc", "2"}, dir.path());
  ASSERT_TRUE(fails_with_one_error_line(result, 2)) << result.describe();
  EXPECT_THAT(error_line(result), ::testing::StartsWith("error: exp.toml:"));
  EXPECT_THAT(result.err, ::testing::Not(::testing::HasSubstr("kiln: rank"))) << result.describe();
  // A bad --set too.
  write_text(dir, "exp.toml", distributed_experiment());
  const KilnResult bad_set = run_kiln({"run", "exp.toml", "--nproc", "2", "--set", "model.hidden=oops"}, dir.path());
  ASSERT_TRUE(fails_with_one_error_line(bad_set, 2)) << bad_set.describe();
  EXPECT_EQ(error_line(bad_set), "error: --set model.hidden=oops: model.hidden: expected an array, got a string");
  EXPECT_FALSE(fs::exists(dir / "runs"));
}

TEST(cli_distributed, only_rank_0_writes_image_grids) {
  // pix2pix at 32×32 for 3 steps, grids at steps 0 and 3. Rank 1 runs in a folder of its own,
  // so that whatever it wrote would be seen there.
  TempDir rank0_dir, rank1_dir;
  const std::vector<std::string> args = {
      "run", (source_dir() / "experiments/pix2pix.toml").string(),
      "--set", "experiment.max_steps=3",          "--set", "data.image_size=32",
      "--set", "data.load_size=36",               "--set", "data.size=8",
      "--set", "eval_data.image_size=32",         "--set", "eval_data.size=4",
      "--set", "model.image_size=32",             "--set", "model.ngf=8",
      "--set", "model.ndf=8",                     "--set", "saver.enabled=false",
      "--set", "hooks.evaluate.every_steps=3",    "--set", "hooks.evaluate.count=4",
      "--set", "hooks.image_summaries.every_steps=3", "--set", "hooks.image_summaries.count=2",
      "--set", "supervisor.log_every_steps=0",    "--set", "distributed.timeout=30"};
  const int port = free_port();
  Ranks ranks;
  ranks.start(args, rank0_dir.path(), torchrun_env(0, 2, port));
  ranks.start(args, rank1_dir.path(), torchrun_env(1, 2, port));
  const std::vector<KilnResult> results = ranks.finish();
  ASSERT_EQ(results[0].exit_code(), 0) << results[0].describe();
  ASSERT_EQ(results[1].exit_code(), 0) << results[1].describe();

  EXPECT_TRUE(fs::exists(rank0_dir / "runs/pix2pix/images/images-eval-0.png"));
  EXPECT_TRUE(fs::exists(rank0_dir / "runs/pix2pix/images/images-eval-3.png"));
  EXPECT_EQ(sql_value(rank0_dir / "runs/kiln.db", "SELECT COUNT(*) FROM images"), "2");
  EXPECT_FALSE(fs::exists(rank1_dir / "runs")) << "rank 1 wrote into its folder";
}

}  // namespace
}  // namespace kiln::test
