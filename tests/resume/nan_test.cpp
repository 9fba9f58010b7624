// A loss that turns NaN fails the run without a NaN checkpoint, or with on_nan = "skip" costs
// only that step's updates.
#include <algorithm>
#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "../cli/cli_support.hpp"
#include "../support/experiment_file.hpp"
#include "../support/temp_dir.hpp"
#include "hooks/checkpoint_file.hpp"
#include "resume_support.hpp"

namespace kiln::test {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using Rows = std::vector<std::vector<std::string>>;
using Steps = std::vector<std::int64_t>;
using namespace std::chrono_literals;

/// The experiment with `nan_at` instead of `mse`: NaN at step 7 (the eighth).
std::string nan_experiment(const std::string& saver, const std::string& supervisor) {
  std::string text = chaos_experiment(
      "[saver]\n" + saver + "[supervisor]\nlog_every_steps = 0\n" + supervisor, /*max_steps=*/20);
  text = replace_once(text, "plugin = \"mse\"\n", "plugin = \"nan_at\"\nstep = 7\n");
  return replace_once(text, "losses = [\"mse\"]", "losses = [\"nan_at\"]");
}

const std::string kNanError = "step 7, phase adam: loss nan_at is not finite";

/// Succeeds when every floating-point model tensor of the checkpoint is finite.
::testing::AssertionResult finite_model(const CheckpointRecord& record) {
  for (const auto& [name, tensor] : runner::read_checkpoint(record.path, record.sha256))
    if (name.rfind("model/", 0) == 0 && !torch::isfinite(tensor).all().item<bool>())
      return ::testing::AssertionFailure() << name << " is not finite in " << record.path;
  return ::testing::AssertionSuccess();
}

TEST(resume_nan, nan_loss_fails_the_run_with_one_error_line) {
  TempDir dir;
  // No periodic saves: see the test below for a NaN that comes while a save is written.
  write_text(dir, "exp.toml", nan_experiment("every_steps = 0\n", ""));
  const fs::path db = dir / "runs/kiln.db";
  const KilnResult result = KilnProcess({"run", "exp.toml"}, dir.path()).finish(30s);

  ASSERT_TRUE(fails_with_one_error_line(result, 1)) << result.describe();
  EXPECT_EQ(error_line(result), "error: run t failed at " + kNanError + " (on_nan = \"stop\")");
  EXPECT_EQ(sql_rows(db, "SELECT status, error FROM runs"),
            (Rows{{"failed", kNanError + " (on_nan = \"stop\")"}}));
  EXPECT_EQ(sql_rows(db, "SELECT step, message FROM events WHERE kind = 'nan'"), (Rows{{"7", kNanError}}));
  // A failed run does not save at its end.
  EXPECT_EQ(sql_value(db, "SELECT COUNT(*) FROM checkpoints"), "0");
}

// The failure skips the hooks' end() while the saver's background write (here ckpt-7's) may
// still be running: kiln must wait for it before its store writer goes, not hang.
TEST(resume_nan, nan_loss_right_after_a_save_fails_the_run_and_no_checkpoint_holds_its_update) {
  TempDir dir;
  write_text(dir, "exp.toml", nan_experiment("every_steps = 1\nmax_to_keep = 0\n", ""));
  const fs::path db = dir / "runs/kiln.db";
  const KilnResult result = KilnProcess({"run", "exp.toml"}, dir.path()).finish(30s);

  ASSERT_TRUE(fails_with_one_error_line(result, 1)) << result.describe();
  EXPECT_EQ(error_line(result), "error: run t failed at " + kNanError + " (on_nan = \"stop\")");
  EXPECT_EQ(sql_value(db, "SELECT status FROM runs"), "failed");
  EXPECT_EQ(sql_rows(db, "SELECT step, message FROM events WHERE kind = 'nan'"), (Rows{{"7", kNanError}}));

  // Checkpoint k holds the model after k updates: 7 is the last one the NaN step did not touch.
  const auto saved = checkpoint_records(db, "t", /*include_deleted=*/true);
  EXPECT_EQ(steps_of(saved), (Steps{1, 2, 3, 4, 5, 6, 7}));
  for (const CheckpointRecord& record : saved) EXPECT_TRUE(finite_model(record));
  EXPECT_EQ(read_file(dir / "runs/t/checkpoints/latest"), "ckpt-7.kiln\n");
}

TEST(resume_nan, on_nan_skip_drops_that_steps_updates_and_completes) {
  TempDir dir;
  write_text(dir, "exp.toml", nan_experiment("every_steps = 1\nmax_to_keep = 0\n", "on_nan = \"skip\"\n"));
  const fs::path db = dir / "runs/kiln.db";
  const KilnResult result = run_kiln({"run", "exp.toml"}, dir.path());

  ASSERT_EQ(result.exit_code(), 0) << result.describe();
  EXPECT_THAT(result.out, HasSubstr("run t completed: step 20 of 20 (20 steps in"));
  EXPECT_EQ(sql_value(db, "SELECT status FROM runs"), "completed");
  EXPECT_EQ(sql_rows(db, "SELECT step, message FROM events WHERE kind = 'nan'"),
            (Rows{{"7", kNanError + "; skipping the step's updates (on_nan = \"skip\")"}}));

  // The skipped step counts, but never saves: its after_step hooks do not run.
  Steps expected;
  for (std::int64_t step = 1; step <= 20; ++step)
    if (step != 8) expected.push_back(step);
  const auto saved = checkpoint_records(db);
  EXPECT_EQ(steps_of(saved), expected);
  for (const CheckpointRecord& record : saved) EXPECT_TRUE(finite_model(record));
  // Adam counted 19 updates in 20 steps.
  const runner::CheckpointEntries last = runner::read_checkpoint(saved.back().path, saved.back().sha256);
  const auto adam_step = std::find_if(last.begin(), last.end(), [](const auto& e) { return e.first == "optim/adam/0/step"; });
  ASSERT_NE(adam_step, last.end());
  EXPECT_EQ(adam_step->second.item<std::int64_t>(), 19);
}

}  // namespace
}  // namespace kiln::test
