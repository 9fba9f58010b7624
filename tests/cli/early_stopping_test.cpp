// Early stopping through the command line: kiln runs says why a run stopped, kiln infer
// --best translates with the checkpoint kept as best, and the errors when there is none.
#include <filesystem>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "../support/experiment_file.hpp"
#include "../support/temp_dir.hpp"
#include "cli_support.hpp"
#include "kiln_process.hpp"

namespace kiln::test {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::StartsWith;
using Rows = std::vector<std::vector<std::string>>;

TEST(cli_early_stopping, kiln_runs_shows_why_a_run_stopped_early) {
  // min_delta = 1e9: the first loss/mse (step 0) is the best and nothing beats it; the two
  // values after it (steps 10 and 20) stop the run. The supervisor records a step's losses
  // after early stopping's turn (priority 1000 > 800): step k's value is seen at step k + 2.
  TempDir dir;
  write_text(dir, "exp.toml",
             mlp_experiment("[early_stopping]\nmonitor = \"loss/mse\"\npatience = 2\nmin_delta = 1e9\n", 100));
  const KilnResult run = run_kiln({"run", "exp.toml"}, dir.path());
  ASSERT_EQ(run.exit_code(), 0) << run.describe();
  const fs::path db = dir / "runs/kiln.db";
  EXPECT_EQ(sql_rows(db, "SELECT status FROM runs"), (Rows{{"stopped"}}));
  const std::string reason = sql_value(db, "SELECT message FROM events WHERE kind = 'early_stopping'");
  EXPECT_THAT(reason, StartsWith("early stopping: loss/mse did not improve on "));
  EXPECT_THAT(reason, HasSubstr(" (step 0) by more than 1000000000 in 2 evaluations"));
  EXPECT_THAT(run.out, HasSubstr(reason));  // kiln run's own summary line

  const KilnResult runs = run_kiln({"runs"}, dir.path());
  ASSERT_EQ(runs.exit_code(), 0) << runs.describe();
  const std::vector<std::string> rows = lines(runs.out);
  ASSERT_GE(rows.size(), 3u) << runs.out;
  EXPECT_THAT(rows[0], HasSubstr(" experiment "));
  EXPECT_THAT(rows[0], testing::EndsWith(" reason"));
  EXPECT_THAT(rows[2], HasSubstr(" stopped "));
  EXPECT_THAT(rows[2], HasSubstr("stopped (" + reason + ") at step 22 after ")) << runs.out;
  // The keep_best default kept the step the first value was seen at.
  EXPECT_EQ(sql_rows(db, "SELECT step, reason FROM checkpoints WHERE kept = 'best'"), (Rows{{"2", "best"}}));
}

TEST(cli_early_stopping, kiln_runs_leaves_the_reason_of_a_completed_run_empty) {
  TempDir dir;
  write_text(dir, "exp.toml", mlp_experiment("", 5));
  ASSERT_EQ(run_kiln({"run", "exp.toml"}, dir.path()).exit_code(), 0);
  const std::vector<std::string> rows = lines(run_kiln({"runs"}, dir.path()).out);
  ASSERT_GE(rows.size(), 3u);
  EXPECT_THAT(rows[2], testing::EndsWith("exp.toml"));
}

/// experiments/pix2pix.toml at 32×32 for 6 steps, evaluated at 0, 3 and 6, with early
/// stopping whose min_delta nothing beats: the step-0 value, seen at step 1, is the best,
/// kept at step 1; max_to_keep = 1 keeps step 6 too.
std::vector<std::string> tiny_pix2pix() {
  return small_pix2pix_run(6, {"saver.every_steps=3", "saver.max_to_keep=1", "hooks.evaluate.every_steps=3",
                               "hooks.evaluate.count=4", "hooks.image_summaries.every_steps=0",
                               "early_stopping.monitor=\"eval/l1\"", "early_stopping.min_delta=1e9"});
}

TEST(cli_early_stopping, infer_best_translates_with_the_checkpoint_kept_as_best) {
  TempDir dir;
  const KilnResult run = run_kiln(tiny_pix2pix(), dir.path());
  ASSERT_EQ(run.exit_code(), 0) << run.describe();
  const fs::path db = dir / "runs/kiln.db";
  EXPECT_EQ(sql_rows(db, "SELECT step, kept FROM checkpoints WHERE deleted IS NULL ORDER BY step"),
            (Rows{{"1", "best"}, {"6", "max_to_keep"}}));
  const KilnResult data = run_kiln({"data", "synthetic_facades", "--out", "pairs", "--count", "2", "--image-size", "32",
                                    "--split", "test"},
                                   dir.path());
  ASSERT_EQ(data.exit_code(), 0) << data.describe();

  const KilnResult best = run_kiln({"infer", "pix2pix", "pairs", "--paired", "--best", "--out", "best"}, dir.path());
  ASSERT_EQ(best.exit_code(), 0) << best.describe();
  EXPECT_THAT(best.out, StartsWith("translated 2 images with run pix2pix at step 1 (its best) (EMA weights) into best"));
  const KilnResult step1 = run_kiln({"infer", "pix2pix", "pairs", "--paired", "--step", "1", "--out", "step1"}, dir.path());
  ASSERT_EQ(step1.exit_code(), 0) << step1.describe();
  EXPECT_EQ(read_file(dir / "best/0000.png"), read_file(dir / "step1/0000.png"));
  const KilnResult latest = run_kiln({"infer", "pix2pix", "pairs", "--paired", "--out", "latest"}, dir.path());
  EXPECT_THAT(latest.out, HasSubstr("at step 6 (EMA weights)"));

  // --best and --step together: a command-line error.
  const KilnResult both = run_kiln({"infer", "pix2pix", "pairs", "--best", "--step", "1"}, dir.path());
  EXPECT_EQ(both.exit_code(), 2) << both.describe();

  // init_from = { from = "pix2pix", best = true } starts another run from step 1's weights.
  const KilnResult child = run_kiln(
      {"run", (source_dir() / "experiments/pix2pix.toml").string(), "--set", "experiment.name=\"child\"",
       "--set", "experiment.init_from={ from = \"pix2pix\", best = true }", "--set", "experiment.max_steps=1",
       "--set", "data.image_size=32", "--set", "data.load_size=36", "--set", "data.size=8",
       "--set", "eval_data.image_size=32", "--set", "eval_data.size=4", "--set", "model.image_size=32",
       "--set", "model.ngf=8", "--set", "model.ndf=8", "--set", "hooks.evaluate.count=4",
       "--set", "supervisor.log_every_steps=0"},
      dir.path());
  ASSERT_EQ(child.exit_code(), 0) << child.describe();
  EXPECT_THAT(sql_value(db, "SELECT message FROM events e JOIN runs r ON r.id = e.run_id "
                            "WHERE r.name = 'child' AND kind = 'init_from'"),
              HasSubstr("ckpt-1.kiln"));
}

TEST(cli_early_stopping, infer_best_without_a_best_checkpoint_is_one_error_line) {
  TempDir dir;
  write_text(dir, "exp.toml", mlp_experiment("", 5));
  ASSERT_EQ(run_kiln({"run", "exp.toml"}, dir.path()).exit_code(), 0);
  const KilnResult result = run_kiln({"infer", "t", "in.png", "--best"}, dir.path());
  EXPECT_EQ(result.exit_code(), 2) << result.describe();
  EXPECT_EQ(error_line(result),
            "error: run 't' has no checkpoint kept as best (an [early_stopping] table with keep_best = true keeps "
            "one); without --best, kiln infer uses its latest");
}

}  // namespace
}  // namespace kiln::test
