// kiln::Schedule across a resume: a run killed and resumed off its summaries' grid records them
// at the same steps as a run that never stopped (the schedule is a function of the step).
#include <csignal>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "../cli/cli_support.hpp"
#include "../support/experiment_file.hpp"
#include "../support/temp_dir.hpp"
#include "resume_support.hpp"

namespace kiln::test {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using Rows = std::vector<std::vector<std::string>>;
using Steps = std::vector<std::int64_t>;

// Summaries every 50 steps (the supervisor's loss/ and time/, the EMA's ema/), checkpoints
// every 30: the killed run resumes from step 120, off the summaries' grid.
const std::string kExperiment = chaos_experiment(
    "[[hooks]]\nplugin = \"kill_at\"\nstep = -1\n"
    "[saver]\nevery_steps = 30\n"
    "[ema]\ndecay = 0.9\nparams = [\"all\"]\nlosses = [\"mse\"]\n"
    "[supervisor]\nlog_every_steps = 0\nsummary_every_steps = 50\n",
    /*max_steps=*/200);

/// The steps of `tag`'s summaries in the run database at `db`, ascending.
Rows steps_of_tag(const fs::path& db, const std::string& tag) {
  return sql_rows(db, "SELECT step FROM summaries WHERE tag = '" + tag + "' ORDER BY step");
}

TEST(resume_schedule, a_run_resumed_off_the_grid_records_summaries_at_the_uninterrupted_runs_steps) {
  TempDir a, b;
  write_text(a, "exp.toml", kExperiment);
  write_text(b, "exp.toml", kExperiment);
  const fs::path db_a = a / "runs/kiln.db", db_b = b / "runs/kiln.db";

  const KilnResult straight = run_kiln({"run", "exp.toml"}, a.path());
  ASSERT_EQ(straight.exit_code(), 0) << straight.describe();
  // Due at multiples of 50, and the last step (the supervisor's rule for a run's end).
  const Rows grid = {{"0"}, {"50"}, {"100"}, {"150"}, {"199"}};
  for (const char* tag : {"loss/mse", "time/step_ms", "ema/mse"}) EXPECT_EQ(steps_of_tag(db_a, tag), grid) << tag;

  const KilnResult killed = run_kiln(
      {"run", "exp.toml", "--set", "hooks.kill_at.step=130", "--set", "hooks.kill_at.after_save=120"}, b.path());
  ASSERT_TRUE(killed_by(killed, SIGKILL)) << killed.describe();
  ASSERT_EQ(newest_checkpoint_step(db_b), 120);
  const KilnResult resumed = run_kiln({"run", "exp.toml"}, b.path());
  ASSERT_EQ(resumed.exit_code(), 0) << resumed.describe();
  EXPECT_EQ(sql_rows(db_b, "SELECT step FROM events WHERE kind = 'restore'"), (Rows{{"120"}}));
  // Its first step in the new process, 120, is not on the grid: nothing is due there.
  for (const char* tag : {"loss/mse", "time/step_ms", "ema/mse"}) EXPECT_EQ(steps_of_tag(db_b, tag), grid) << tag;
}

}  // namespace
}  // namespace kiln::test
