// The GPU check of the data-parallel path: the GPU machine kiln is checked on has one GPU, and
// NCCL refuses two ranks on one device, so two ranks share it under Gloo (which all-reduces
// CUDA tensors through the host). Two ranks of batch 8 on cuda:0 against one process of batch
// 16 on cuda:0; and a kill of rank 1 fails rank 0 at once.
#include <csignal>
#include <map>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "../cli/cli_support.hpp"
#include "../resume/resume_support.hpp"
#include "gpu_support.hpp"
#include "train/distributed.hpp"

namespace kiln::test::gpu {
namespace {

using ::testing::HasSubstr;

class gpu_distributed : public GpuTest {
 protected:
  void SetUp() override {
    GpuTest::SetUp();
    if (IsSkipped()) return;
    if (!runner::have_gloo())
      GTEST_SKIP() << "this kiln was built without c10d's Gloo (no gloo headers beside its LibTorch)";
  }
};

std::map<std::int64_t, double> losses(const fs::path& db) {
  std::map<std::int64_t, double> out;
  for (const auto& row : sql_rows(db, "SELECT step, value FROM summaries WHERE tag = 'loss/mse' ORDER BY step"))
    out[std::stoll(row[0])] = std::stod(row[1]);
  return out;
}

TEST_F(gpu_distributed, two_ranks_sharing_one_gpu_under_gloo_compute_what_one_process_does) {
  TempDir one, two;
  const std::string experiment = chaos_experiment(
      "[supervisor]\nsummary_every_steps = 1\nlog_every_steps = 0\n[distributed]\nbackend = \"gloo\"\ntimeout = 60\n",
      100);
  write_text(one, "exp.toml", experiment);
  write_text(two, "exp.toml", experiment);
  // fp32: tf32's matmuls would differ by more than the sums' order does.
  const std::vector<std::string> on_gpu = {"--set", device_override("cuda:0"), "--set", precision_override("fp32")};
  std::vector<std::string> alone = {"run", "exp.toml", "--set", "data.batch_size=16"};
  alone.insert(alone.end(), on_gpu.begin(), on_gpu.end());
  std::vector<std::string> pair = {"run", "exp.toml", "--nproc", "2", "--set", "data.batch_size=8"};
  pair.insert(pair.end(), on_gpu.begin(), on_gpu.end());
  const KilnResult a = run_kiln(alone, one.path());
  ASSERT_EQ(a.exit_code(), 0) << a.describe();
  const KilnResult b = run_kiln(pair, two.path());
  ASSERT_EQ(b.exit_code(), 0) << b.describe();
  EXPECT_THAT(b.out, HasSubstr("cuda:0"));
  EXPECT_THAT(b.out, HasSubstr("  processes      2 (gloo) on "));
  const auto la = losses(one / "runs/kiln.db"), lb = losses(two / "runs/kiln.db");
  ASSERT_EQ(la.size(), 100u);
  ASSERT_EQ(lb.size(), 100u);
  for (const auto& [step, value] : la) EXPECT_NEAR(lb.at(step), value, 1e-4 + 1e-4 * std::abs(value)) << step;
}

TEST_F(gpu_distributed, a_rank_killed_on_the_gpu_fails_the_other_within_the_timeout) {
  TempDir dir;
  write_text(dir, "exp.toml",
             chaos_experiment("[distributed]\nbackend = \"gloo\"\ntimeout = 60\n[[hooks]]\nplugin = \"kill_at\"\n"
                              "step = 30\nrank = 1\n",
                              100));
  const KilnResult result = run_kiln({"run", "exp.toml", "--nproc", "2", "--set", device_override("cuda:0")}, dir.path());
  EXPECT_EQ(result.exit_code(), 1) << result.describe();
  EXPECT_THAT(result.err, HasSubstr("was killed by SIGKILL"));
  EXPECT_THAT(result.err, HasSubstr("another process of this run ended"));
  EXPECT_EQ(sql_value(dir / "runs/kiln.db", "SELECT status FROM runs"), "failed");
}

}  // namespace
}  // namespace kiln::test::gpu
