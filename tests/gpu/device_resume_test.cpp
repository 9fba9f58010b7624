// Checkpoints are device-independent: a run trained on the GPU resumes on the CPU and the
// other way round, restoring exactly what was saved and training on as an uninterrupted run
// does up to float rounding; fp16's gradient scalers come back from a checkpoint as they were.
#include <cmath>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "../resume/resume_support.hpp"
#include "../support/run_fixture.hpp"
#include "gpu_support.hpp"

namespace kiln::test::gpu {
namespace {

class gpu_resume : public GpuTest {};

/// What a checkpoint must bring back exactly on any device: the weights and buffers, every
/// optimizer state field, the EMA's shadows and loss averages.
const std::vector<std::string> kRestored = {"model/", "optim/", "hook/ema/"};

/// fp32 on both devices: the two then differ by the order of float sums only (TF32's 10-bit
/// mantissa would be a rounding of its own, not what this test is about).
std::vector<std::string> on(const std::string& device, std::vector<std::string> more = {}) {
  more.insert(more.begin(), {device_override(device), precision_override("fp32"), "supervisor.log_every_steps=0",
                             "supervisor.summary_every_steps=1"});
  return more;
}

/// The MLP trained kSteps on `first`, then resumed on `second` for kSteps more, against the
/// same 2·kSteps uninterrupted on `first`.
void resume_across_devices(const std::string& first, const std::string& second) {
  constexpr long kSteps = 10;
  const c10::Device first_device(first == "cpu" ? kCpu : kCuda0), second_device(second == "cpu" ? kCpu : kCuda0);
  TempDir dir, straight_dir;
  const std::vector<std::string> save_every = {"saver.every_steps=" + std::to_string(kSteps)};

  {
    RunFixture half(dir, mlp_with_ema(kSteps), on(first, save_every));
    half.trainer.add_hook("probe", std::make_shared<BeginProbe>());
    ASSERT_EQ(trainer_device(half.trainer), first_device);
    const runner::RunOutcome outcome = half.execute();
    ASSERT_EQ(outcome.status, "completed") << outcome.error;
  }
  // The checkpoint holds CPU tensors only, whatever device wrote it.
  const auto records = checkpoint_records(dir / "runs/kiln.db");
  ASSERT_EQ(steps_of(records), (std::vector<std::int64_t>{kSteps}));
  const TensorsByName saved = checkpoint_tensors(records.back().path, records.back().sha256);
  for (const auto& [name, tensor] : saved) EXPECT_TRUE(tensor.device().is_cpu()) << name << " saved on " << tensor.device();

  TensorsByName resumed_weights;
  {
    RunFixture resumed(dir, mlp_with_ema(2 * kSteps), on(second, save_every));
    auto probe = std::make_shared<BeginProbe>();
    resumed.trainer.add_hook("probe", probe);
    ASSERT_EQ(trainer_device(resumed.trainer), second_device);
    const runner::RunOutcome outcome = resumed.execute();
    ASSERT_EQ(outcome.status, "completed") << outcome.error;
    EXPECT_EQ(resumed.saver->restored_step(), kSteps);
    EXPECT_EQ(resumed.trainer.steps_run(), kSteps);
    // Restored bit for bit, onto the other device.
    EXPECT_EQ(probe->step, kSteps);
    EXPECT_EQ(probe->device, second_device);
    EXPECT_TRUE(tensors_close(probe->state, saved, kRestored, Tolerance{}, /*min_entries=*/12));
    // ... and trained there: the optimizer's moments and the EMA's shadows live on it too.
    expect_optimizer_moments_on(resumed.trainer, second_device);
    EXPECT_EQ(expect_ema_shadows_on(resumed.trainer, second_device), 4u);  // two layers' weights and biases
    resumed_weights = model_weights(resumed.trainer.model());
  }

  TensorsByName straight_weights;
  {
    RunFixture straight(straight_dir, mlp_with_ema(2 * kSteps), on(first, save_every));
    straight.trainer.add_hook("probe", std::make_shared<BeginProbe>());
    const runner::RunOutcome outcome = straight.execute();
    ASSERT_EQ(outcome.status, "completed") << outcome.error;
    straight_weights = model_weights(straight.trainer.model());
  }

  // Tolerance: 1e-4 absolute plus 1e-4 relative, element by element, for the weights and for
  // every step's loss. The devices' float sums differ by ~1e-7 relative a step; a state that
  // was not restored (Adam's moments, say) moves the weights by ~lr = 1e-2 a step.
  EXPECT_TRUE(tensors_close(resumed_weights, straight_weights, {""}, Tolerance{1e-4, 1e-4}, /*min_entries=*/4));
  EXPECT_TRUE(summaries_close(summaries(dir / "runs/kiln.db", "loss/%"), summaries(straight_dir / "runs/kiln.db", "loss/%"),
                              1e-6, 1e-4));
  EXPECT_TRUE(summaries_close(summaries(dir / "runs/kiln.db", "ema/%"), summaries(straight_dir / "runs/kiln.db", "ema/%"),
                              1e-6, 1e-4));
}

TEST_F(gpu_resume, a_run_trained_on_the_gpu_resumes_on_the_cpu) { resume_across_devices("cuda", "cpu"); }

TEST_F(gpu_resume, a_run_trained_on_the_cpu_resumes_on_the_gpu) { resume_across_devices("cpu", "cuda"); }

TEST_F(gpu_resume, pix2pix_at_cuda_defaults_resumes_on_the_cpu_with_every_tensor_restored_exactly) {
  // tf32 on the GPU (CUDA's default), fp32 on the CPU (the CPU's): the precision follows the
  // device, the checkpoint does not care. Dropout's masks come from each device's own
  // generator, so the steps after the resume are not compared with a GPU run, only checked.
  TempDir dir;
  const std::vector<std::string> common = {"saver.every_steps=3"};
  {
    std::vector<std::string> overrides = common;
    overrides.push_back(device_override("cuda"));
    RunFixture gpu_run(dir, small_pix2pix(3), overrides);
    gpu_run.trainer.add_hook("probe", std::make_shared<BeginProbe>());
    EXPECT_EQ(trainer_precision(gpu_run.trainer), "tf32");
    const runner::RunOutcome outcome = gpu_run.execute();
    ASSERT_EQ(outcome.status, "completed") << outcome.error;
  }
  const auto records = checkpoint_records(dir / "runs/kiln.db", "p2p");
  ASSERT_EQ(steps_of(records), (std::vector<std::int64_t>{3}));
  const TensorsByName saved = checkpoint_tensors(records.back().path, records.back().sha256);

  std::vector<std::string> overrides = common;
  overrides.push_back(device_override("cpu"));
  RunFixture cpu_run(dir, small_pix2pix(5), overrides);
  auto probe = std::make_shared<BeginProbe>();
  cpu_run.trainer.add_hook("probe", probe);
  EXPECT_EQ(trainer_precision(cpu_run.trainer), "fp32");
  const runner::RunOutcome outcome = cpu_run.execute();
  ASSERT_EQ(outcome.status, "completed") << outcome.error;
  EXPECT_EQ(cpu_run.saver->restored_step(), 3);
  EXPECT_EQ(probe->device, kCpu);
  // Both networks' weights and BatchNorm statistics, both phases' Adam state, the EMA of the
  // generator: bit for bit what the GPU saved.
  EXPECT_TRUE(tensors_close(probe->state, saved, kRestored, Tolerance{}, /*min_entries=*/100));
  const Summaries l1 = summaries(dir / "runs/kiln.db", "loss/l1");
  ASSERT_EQ(l1.size(), 5u);
  for (const auto& [key, value] : l1) EXPECT_TRUE(std::isfinite(value)) << key.first << " at step " << key.second;
}

/// Backs off every phase's gradient scaler once at global step `at` (before the saver, 900,
/// saves it), so that the scale is not the initial one a fresh scaler would also have.
class BackOffScalers : public Hook {
 public:
  BackOffScalers(runner::Trainer& trainer, std::int64_t at) : trainer_(trainer), at_(at) {}
  void after_step(Step& step) override {
    if (step.run().global_step() != at_) return;
    for (const runner::Phase& phase : trainer_.phases()) back_off_scaler(phase);
  }

 private:
  runner::Trainer& trainer_;
  std::int64_t at_;
};

/// Each phase's scaler as begin() finds it, once the run is restored.
class ScalerProbe : public Hook {
 public:
  explicit ScalerProbe(runner::Trainer& trainer) : trainer_(trainer) {}
  int default_priority() const override { return 1 << 30; }
  void begin(RunContext&) override {
    for (const runner::Phase& phase : trainer_.phases()) states.push_back(scaler_state(phase));
  }
  std::vector<std::optional<ScalerState>> states;

 private:
  runner::Trainer& trainer_;
};

TEST_F(gpu_resume, fp16_gradient_scalers_come_back_from_a_checkpoint_as_they_were_saved) {
  TempDir dir;
  const std::vector<std::string> overrides = {device_override("cuda"), precision_override("fp16"),
                                              "saver.every_steps=4"};
  std::vector<std::optional<ScalerState>> saved;
  {
    RunFixture run(dir, small_pix2pix(4), overrides);
    run.trainer.add_hook("back_off", std::make_shared<BackOffScalers>(run.trainer, 3));
    run.trainer.add_hook("probe", std::make_shared<ScalerProbe>(run.trainer));
    EXPECT_EQ(trainer_precision(run.trainer), "fp16");
    const runner::RunOutcome outcome = run.execute();
    ASSERT_EQ(outcome.status, "completed") << outcome.error;
    for (const runner::Phase& phase : run.trainer.phases()) {
      const std::optional<ScalerState> state = scaler_state(phase);
      ASSERT_TRUE(state) << "phase " << phase.spec.name << " has no gradient scaler at fp16";
      // Backed off at step 3 at least once from 65536 (fp16's overflows may have halved it more).
      EXPECT_LE(state->scale, 32768.0) << phase.spec.name;
      EXPECT_GT(state->scale, 0.0) << phase.spec.name;
      saved.push_back(state);
    }
  }
  // The checkpoint at step 4 (the last step) holds the scalers' state; resuming restores it
  // before any hook begins.
  ASSERT_EQ(steps_of(checkpoint_records(dir / "runs/kiln.db", "p2p")), (std::vector<std::int64_t>{4}));
  RunFixture resumed(dir, small_pix2pix(6), overrides);
  resumed.trainer.add_hook("back_off", std::make_shared<BackOffScalers>(resumed.trainer, -1));
  auto probe = std::make_shared<ScalerProbe>(resumed.trainer);
  resumed.trainer.add_hook("probe", probe);
  const runner::RunOutcome outcome = resumed.execute();
  ASSERT_EQ(outcome.status, "completed") << outcome.error;
  EXPECT_EQ(resumed.saver->restored_step(), 4);
  // Exactly: a scale is a power of two, a count an integer.
  ASSERT_EQ(probe->states.size(), saved.size());
  for (std::size_t i = 0; i < saved.size(); ++i) {
    ASSERT_TRUE(probe->states[i]) << "phase " << i << " has no gradient scaler after the resume";
    EXPECT_EQ(*probe->states[i], *saved[i]) << "phase " << i;
  }
  // It trains on: the steps' losses are finite (fp16's overflows skip an update, not a summary).
  const Summaries l1 = summaries(dir / "runs/kiln.db", "loss/l1");
  EXPECT_EQ(l1.count({"loss/l1", 5}), 1u);
  for (const auto& [key, value] : l1) EXPECT_TRUE(std::isfinite(value)) << key.first << " at step " << key.second;
}

}  // namespace
}  // namespace kiln::test::gpu
