// on_nan on the GPU, where the trainer reads loss values a step late: a NaN loss fails the run
// with the error and 'nan' event the CPU gives, at the same step, and no checkpoint holds the
// bad step's update; with on_nan = "skip" the run records the summaries the CPU records.
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "../cli/cli_support.hpp"
#include "../resume/resume_support.hpp"
#include "../support/run_fixture.hpp"
#include "gpu_support.hpp"
#include "hooks/checkpoint_file.hpp"

namespace kiln::test::gpu {
namespace {

using Rows = std::vector<std::vector<std::string>>;

/// The global step (from 0) whose loss is NaN; checkpoint k holds k updates, so checkpoint 7
/// is the last one the bad step cannot have touched.
constexpr std::int64_t kBadStep = 7;
constexpr long kMaxSteps = 20;

/// The chaos MLP with the fixture loss nan_at (NaN at kBadStep) instead of mse, a checkpoint
/// after every step, every summary every step, and `supervisor` added to [supervisor].
std::string nan_experiment(const std::string& supervisor) {
  std::string text = chaos_experiment("[saver]\nevery_steps = 1\nmax_to_keep = 0\n"
                                      "[supervisor]\nlog_every_steps = 0\nsummary_every_steps = 1\n" +
                                          supervisor,
                                      kMaxSteps);
  text = replace_once(text, "plugin = \"mse\"\n", "plugin = \"nan_at\"\nstep = " + std::to_string(kBadStep) + "\n");
  return replace_once(text, "losses = [\"mse\"]", "losses = [\"nan_at\"]");
}

const std::string kNanError = "step 7, phase adam: loss nan_at is not finite";

/// What a run left: its outcome and its database's rows.
struct Result {
  runner::RunOutcome outcome;
  c10::Device device = kCpu;
  Rows nan_events;                         ///< (step, message) of its 'nan' events
  std::vector<CheckpointRecord> checkpoints;  ///< every checkpoint row, deleted ones too
  Summaries summaries;                     ///< every summary but the timings
};

/// The experiment run in-process on `device` ("cpu", "cuda") in fp32 to its end.
Result run_on(const std::string& device, const std::string& supervisor) {
  TempDir dir;
  Result result;
  {
    RunFixture run(dir, nan_experiment(supervisor), {device_override(device), precision_override("fp32")});
    result.device = trainer_device(run.trainer);
    result.outcome = run.execute();
  }
  const fs::path db = dir / "runs/kiln.db";
  result.nan_events = sql_rows(db, "SELECT step, message FROM events WHERE kind = 'nan' ORDER BY id");
  result.checkpoints = checkpoint_records(db, "t", /*include_deleted=*/true);
  result.summaries = summaries(db);
  // Every checkpoint written holds a finite model.
  for (const CheckpointRecord& record : result.checkpoints) {
    if (record.deleted) continue;
    for (const auto& [name, tensor] : checkpoint_tensors(record.path, record.sha256))
      if (starts_with(name, "model/") && tensor.is_floating_point()) {
        EXPECT_TRUE(torch::isfinite(tensor).all().item<bool>())
            << device << ": " << name << " is not finite in checkpoint " << record.step;
      }
  }
  return result;
}

class gpu_nan : public GpuTest {};

TEST_F(gpu_nan, stop_fails_the_run_as_on_the_cpu_and_no_checkpoint_holds_the_bad_step) {
  const Result cpu = run_on("cpu", "");
  const Result cuda = run_on("cuda", "");
  EXPECT_EQ(cpu.device, kCpu);
  EXPECT_EQ(cuda.device, kCuda0);

  const std::string error = kNanError + " (on_nan = \"stop\")";
  for (const Result* r : {&cpu, &cuda}) {
    SCOPED_TRACE(r->device.str());
    EXPECT_EQ(r->outcome.status, "failed");
    EXPECT_EQ(r->outcome.error, error);
    EXPECT_EQ(r->outcome.step, kBadStep);
    EXPECT_EQ(r->nan_events, (Rows{{"7", kNanError}}));
    // Checkpoint k holds k updates: none holds the bad step's (it would be checkpoint 8).
    EXPECT_EQ(steps_of(r->checkpoints), (std::vector<std::int64_t>{1, 2, 3, 4, 5, 6, 7}));
    for (const CheckpointRecord& record : r->checkpoints) EXPECT_LE(record.step, kBadStep) << record.path;
  }
  EXPECT_EQ(cuda.outcome.error, cpu.outcome.error);
  EXPECT_EQ(cuda.nan_events, cpu.nan_events);
  EXPECT_EQ(steps_of(cuda.checkpoints), steps_of(cpu.checkpoints));
  // No loss value of the bad step or after was recorded, on either device.
  for (const Result* r : {&cpu, &cuda})
    for (const auto& [key, value] : r->summaries)
      if (starts_with(key.first, "loss/")) {
        EXPECT_LT(key.second, kBadStep) << r->device << ": " << key.first;
      }
  EXPECT_TRUE(summaries_close(cuda.summaries, cpu.summaries, /*atol=*/1e-6, /*rtol=*/1e-4));
}

TEST_F(gpu_nan, skip_records_the_summaries_the_cpu_records) {
  const Result cpu = run_on("cpu", "on_nan = \"skip\"\n");
  const Result cuda = run_on("cuda", "on_nan = \"skip\"\n");
  EXPECT_EQ(cuda.device, kCuda0);
  for (const Result* r : {&cpu, &cuda}) {
    SCOPED_TRACE(r->device.str());
    EXPECT_EQ(r->outcome.status, "completed") << r->outcome.error;
    EXPECT_EQ(r->outcome.step, kMaxSteps);
    EXPECT_EQ(r->nan_events, (Rows{{"7", kNanError + "; skipping the step's updates (on_nan = \"skip\")"}}));
    // The skipped step records no loss.
    EXPECT_EQ(r->summaries.count({"loss/nan_at", kBadStep}), 0u);
    EXPECT_EQ(r->summaries.count({"loss/nan_at", kBadStep + 1}), 1u);
  }
  EXPECT_EQ(steps_of(cuda.checkpoints), steps_of(cpu.checkpoints));
  EXPECT_TRUE(summaries_close(cuda.summaries, cpu.summaries, /*atol=*/1e-6, /*rtol=*/1e-4));
}

}  // namespace
}  // namespace kiln::test::gpu
