// A run on the GPU killed with SIGKILL and run again, with the same settings, ends where an
// uninterrupted run ends: the `kiln` binary, as tests/resume/exact_resume_test.cpp runs it
// on the CPU. On the GPU the comparison is at a tolerance, not bit for bit: kiln turns on
// cuDNN's autotuner, which may pick other convolution algorithms (other orders of float sums)
// in another process, and some of them reduce with atomics. Each test states its tolerance.
#include <csignal>
#include <filesystem>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "../cli/cli_support.hpp"
#include "../resume/resume_support.hpp"
#include "gpu_support.hpp"

namespace kiln::test::gpu {
namespace {

using ::testing::HasSubstr;
using Rows = std::vector<std::vector<std::string>>;
using Steps = std::vector<std::int64_t>;

class gpu_kill : public GpuTest {};

struct KillPlan {
  std::string run = "t";    // the run's name
  std::int64_t max_steps;
  std::int64_t kill_at;     // kill_at's step
  std::int64_t saved;       // the checkpoint the kill waits for, the one the resume restores
  Steps saves_before_kill;  // the checkpoints the killed run leaves
};

/// Runs `experiment` uninterrupted in one folder and killed (then resumed) in another, each
/// `kiln run exp.toml --set experiment.device="cuda"` and `--set` each of `settings` (the same
/// settings for all three processes), and compares the final checkpoints and every summary.
void kill_and_compare(const std::string& experiment, const KillPlan& plan, const std::vector<std::string>& settings,
                      Tolerance tolerance, double summary_atol, double summary_rtol) {
  TempDir a, b;
  write_text(a, "exp.toml", experiment);
  write_text(b, "exp.toml", experiment);
  const fs::path db_a = a / "runs/kiln.db", db_b = b / "runs/kiln.db";
  std::vector<std::string> on_gpu = {"--set", device_override("cuda")};
  for (const std::string& setting : settings) on_gpu.insert(on_gpu.end(), {"--set", setting});
  auto args = [&](std::vector<std::string> more) {
    std::vector<std::string> out = {"run", "exp.toml"};
    out.insert(out.end(), on_gpu.begin(), on_gpu.end());
    out.insert(out.end(), more.begin(), more.end());
    return out;
  };
  const std::string done = " completed: step " + std::to_string(plan.max_steps) + " of " + std::to_string(plan.max_steps);

  const KilnResult straight = run_kiln(args({}), a.path());
  ASSERT_EQ(straight.exit_code(), 0) << straight.describe();
  EXPECT_THAT(straight.out, HasSubstr("run " + plan.run + done));
  EXPECT_THAT(straight.out + straight.err, HasSubstr("cuda:0")) << "kiln run names the device it trains on";

  const KilnResult killed =
      run_kiln(args({"--set", "hooks.kill_at.step=" + std::to_string(plan.kill_at), "--set",
                     "hooks.kill_at.after_save=" + std::to_string(plan.saved)}),
               b.path());
  ASSERT_TRUE(killed_by(killed, SIGKILL)) << killed.describe();
  const auto before = checkpoint_records(db_b, plan.run);
  ASSERT_EQ(steps_of(before), plan.saves_before_kill);

  const KilnResult resumed = run_kiln(args({}), b.path());
  ASSERT_EQ(resumed.exit_code(), 0) << resumed.describe();
  EXPECT_THAT(resumed.out, HasSubstr("run " + plan.run + done));
  EXPECT_EQ(sql_rows(db_b, "SELECT step, message FROM events WHERE kind = 'restore'"),
            (Rows{{std::to_string(plan.saved),
                   "restored step " + std::to_string(plan.saved) + " from " + record_at(before, plan.saved).path}}));

  const CheckpointRecord end_a = record_at(checkpoint_records(db_a, plan.run), plan.max_steps);
  const CheckpointRecord end_b = record_at(checkpoint_records(db_b, plan.run), plan.max_steps);
  const TensorsByName final_a = checkpoint_tensors(end_a.path, end_a.sha256);
  const TensorsByName final_b = checkpoint_tensors(end_b.path, end_b.sha256);
  // The same entries, each compared: the weights and buffers, the optimizers' state, the EMA,
  // the step and the data cursor (integers, exactly). The CPU's generator is not compared: a
  // process draws from it at start-up (the model's initialization) only.
  std::vector<std::string> names_a, names_b;
  for (const auto& entry : final_a) names_a.push_back(entry.first);
  for (const auto& entry : final_b) names_b.push_back(entry.first);
  EXPECT_EQ(names_a, names_b);
  EXPECT_TRUE(tensors_close(final_b, final_a, {"model/", "optim/", "hook/ema/"}, tolerance, /*min_entries=*/12));
  EXPECT_TRUE(summaries_close(summaries(db_b), summaries(db_a), summary_atol, summary_rtol));
}

TEST_F(gpu_kill, mlp_killed_on_the_gpu_resumes_to_the_uninterrupted_run) {
  // At CUDA's default precision (tf32). The MLP has no convolution: its matrix products pick
  // the same cuBLAS kernels in every process, so the runs should agree bit for bit (as on the
  // CPU); the tolerance, 1e-5 absolute + 1e-4 relative with no outlier, leaves room for a
  // kernel choice only. A state not restored moves the weights by ~lr = 1e-2 a step.
  const std::string experiment = chaos_experiment(
      "[[hooks]]\nplugin = \"kill_at\"\nstep = -1\n"
      "[saver]\nevery_steps = 50\n"
      "[ema]\ndecay = 0.9\nparams = [\"all\"]\nlosses = [\"mse\"]\n"
      "[supervisor]\nlog_every_steps = 0\n",
      /*max_steps=*/200);
  kill_and_compare(experiment, {"t", 200, 130, 100, {50, 100}}, {}, Tolerance{1e-5, 1e-4, 0}, 1e-6, 1e-4);
}

TEST_F(gpu_kill, pix2pix_killed_on_the_gpu_resumes_to_the_uninterrupted_run) {
  // Convolutions, BatchNorm, and dropout drawing from the GPU's generator: without that
  // generator's state in the checkpoint the resumed steps draw other masks, and most weights
  // of the generator end elsewhere. At fp32: under tf32 the algorithms the autotuner picks in
  // each process round differently, ~1e-3 relative, which is the size of the faults sought.
  // Tolerance 1e-5 absolute + 1e-3 relative, with at most 0.05% of all elements beyond it:
  // fp32 algorithms differ between processes by ~1e-6 relative, and an element whose first
  // gradient was that close to zero moves by 2 lr (Adam's first step is lr·sign) and stays
  // apart. Summaries: 1e-5 + 1e-3 relative.
  const std::string experiment =
      small_pix2pix(8, "[plugins]\npaths = [\"" + fixture_dir().string() + "\"]\n"
                       "[[hooks]]\nplugin = \"kill_at\"\nstep = -1\n"
                       "[saver]\nevery_steps = 4\n");
  kill_and_compare(experiment, {"p2p", 8, 6, 4, {4}}, {precision_override("fp32")}, Tolerance{1e-5, 1e-3, 5e-4},
                   1e-5, 1e-3);
}

}  // namespace
}  // namespace kiln::test::gpu
