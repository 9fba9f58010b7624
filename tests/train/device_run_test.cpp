// Runs on the CPU with [experiment] device and precision: what trains where, what the runs
// row records, and checkpoints that resume under another precision.
#include <cmath>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <torch/torch.h>
#include <torch/version.h>

#include "store/database.hpp"
#include "store/history.hpp"
#include "store/run_ref.hpp"
#include "../support/run_fixture.hpp"

namespace kiln::test {
namespace {

using runner::Precision;

std::vector<std::string> quiet(std::vector<std::string> more = {}) {
  more.insert(more.begin(), {"supervisor.log_every_steps=0", "supervisor.summary_every_steps=1"});
  return more;
}

runner::store::RunEnvironment environment_of(const TempDir& dir, const std::string& run) {
  runner::store::Database db(dir / "runs/kiln.db", runner::store::OpenMode::read_only);
  const auto environment = runner::store::run_environment(db, runner::store::find_run_id(db, run).value());
  EXPECT_TRUE(environment.has_value());
  return environment.value_or(runner::store::RunEnvironment{});
}

/// loss/mse at `step`, from the run's summaries.
double loss_at(const TempDir& dir, std::int64_t step) {
  runner::store::Database db(dir / "runs/kiln.db", runner::store::OpenMode::read_only);
  const auto series = runner::store::summary_series(db, runner::store::find_run_id(db, "t").value());
  for (const auto& point : series.at("loss/mse"))
    if (point.step == step) return point.value;
  ADD_FAILURE() << "no loss/mse at step " << step;
  return NAN;
}

TEST(device_run, cpu_explicit_and_auto_train_on_the_cpu_and_say_so_in_runs) {
  for (const char* device : {"cpu", "auto"}) {
    SCOPED_TRACE(device);
    TempDir dir;
    RunFixture run(dir, mlp_experiment("", 5), quiet({std::string("experiment.device=\"") + device + "\""}));
    if (torch::cuda::is_available() && std::string(device) == "auto") GTEST_SKIP() << "auto is the GPU here";
    EXPECT_EQ(run.trainer.device(), c10::Device(c10::kCPU));
    EXPECT_EQ(run.trainer.precision(), Precision::fp32);
    EXPECT_TRUE(run.trainer.model().parameters().at(0).device().is_cpu());
    const runner::RunOutcome outcome = run.execute();
    ASSERT_EQ(outcome.status, "completed") << outcome.error;
    const runner::store::RunEnvironment env = environment_of(dir, "t");
    EXPECT_EQ(env.device, "cpu");
    EXPECT_EQ(env.precision, "fp32");
    EXPECT_EQ(env.torch_version, TORCH_VERSION);
    EXPECT_EQ(env.cuda_version.empty(), !KILN_WITH_CUDA);  // a CUDA LibTorch's, even on the CPU
    EXPECT_EQ(env.device_name, "");
    EXPECT_FALSE(env.device_memory.has_value());
  }
}

TEST(device_run, bf16_autocast_trains_float32_weights_on_the_cpu) {
  TempDir dir;
  RunFixture run(dir, mlp_experiment("", 60), quiet({"experiment.device=\"cpu\"", "experiment.precision=\"bf16\""}));
  EXPECT_EQ(run.trainer.precision(), Precision::bf16);
  const runner::RunOutcome outcome = run.execute();
  ASSERT_EQ(outcome.status, "completed") << outcome.error;
  for (const torch::Tensor& p : run.trainer.model().parameters()) EXPECT_EQ(p.scalar_type(), torch::kFloat32);
  // It learns: bf16's 8-bit mantissa still halves the loss of this regression in 60 steps.
  EXPECT_LT(loss_at(dir, 59), 0.5 * loss_at(dir, 0));
  EXPECT_EQ(environment_of(dir, "t").precision, "bf16");
}

TEST(device_run, bf16_changes_the_numbers_fp32_does_not) {
  // The same seed at fp32 twice is bitwise equal; bf16 is not equal to it (autocast is on).
  auto final_loss = [](const std::string& precision) {
    TempDir dir;
    RunFixture run(dir, mlp_experiment("", 3), quiet({"experiment.precision=\"" + precision + "\""}));
    EXPECT_EQ(run.execute().status, "completed");
    return loss_at(dir, 2);
  };
  EXPECT_EQ(final_loss("fp32"), final_loss("fp32"));
  EXPECT_NE(final_loss("fp32"), final_loss("bf16"));
}

TEST(device_run, a_checkpoint_resumes_under_another_precision) {
  for (const auto& [first, second] : {std::pair<std::string, std::string>{"fp32", "bf16"}, {"bf16", "fp32"}}) {
    SCOPED_TRACE(first + " -> " + second);
    TempDir dir;
    {
      RunFixture run(dir, mlp_experiment("", 10), quiet({"experiment.precision=\"" + first + "\""}));
      ASSERT_EQ(run.execute().status, "completed");
    }
    RunFixture resumed(dir, mlp_experiment("", 20), quiet({"experiment.precision=\"" + second + "\""}));
    const runner::RunOutcome outcome = resumed.execute();
    ASSERT_EQ(outcome.status, "completed") << outcome.error;
    EXPECT_EQ(resumed.saver->restored_step(), 10);
    EXPECT_EQ(resumed.trainer.steps_run(), 10);
    EXPECT_EQ(environment_of(dir, "t").precision, second);
    // The change is an event of the run.
    runner::store::Database db(dir / "runs/kiln.db", runner::store::OpenMode::read_only);
    bool seen = false;
    for (const auto& event : runner::store::run_events(db, runner::store::find_run_id(db, "t").value()))
      if (event.kind == "environment") {
        seen = true;
        EXPECT_NE(event.message.find("precision " + first + " -> " + second), std::string::npos) << event.message;
      }
    EXPECT_TRUE(seen);
  }
}

}  // namespace
}  // namespace kiln::test
