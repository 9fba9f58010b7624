// `kiln show`'s training section: the effective batch and each phase's optimizer, learning
// rate, schedule and clipping, as the run's experiment gave them.
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

using ::testing::HasSubstr;

/// The lines of `kiln show t`'s training section, after running `text` in `dir`.
std::string training_section(const TempDir& dir, const std::string& text) {
  write_text(dir, "exp.toml", text);
  const KilnResult run = run_kiln({"run", "exp.toml"}, dir.path());
  EXPECT_EQ(run.exit_code(), 0) << run.describe();
  const KilnResult shown = run_kiln({"show", "t"}, dir.path());
  EXPECT_EQ(shown.exit_code(), 0) << shown.describe();
  const std::size_t begin = shown.out.find("\ntraining\n");
  if (begin == std::string::npos) return "no training section in:\n" + shown.out;
  return shown.out.substr(begin + 1, shown.out.find("\n\n", begin + 1) - begin);
}

TEST(cli_show_training, shows_the_effective_batch_and_each_phases_rate_schedule_and_clipping) {
  TempDir dir;
  std::string text = replace_once(mlp_experiment("[supervisor]\nlog_every_steps = 0\n", 4), "threads = 1\n",
                                  "threads = 1\naccumulate = 8\n");
  text = replace_once(text, "batch_size = 16\n", "batch_size = 4\n");
  text = replace_once(text, "lr = 1e-2\n",
                      "lr = 1e-2\nclip_norm = 0.5\nclip_value = 2\n"
                      "schedule = { type = \"cosine\", min_lr = 0.001, warmup_steps = 2 }\n");
  EXPECT_EQ(training_section(dir, text),
            "training\n"
            "  batch      4 x accumulate 8 = 32 examples per update\n"
            "  phase adam: adam, lr 0.01, schedule cosine (min_lr 0.001), warmup 2 steps, clip_norm 0.5, "
            "clip_value 2\n");
}

TEST(cli_show_training, a_warmup_as_long_as_the_run_is_a_warning_not_an_error) {
  TempDir dir;
  write_text(dir, "exp.toml",
             replace_once(mlp_experiment("", 4), "lr = 1e-2\n",
                          "lr = 1e-2\nschedule = { type = \"cosine\", warmup_steps = 4 }\n"));
  for (const std::string command : {"validate", "run"}) {
    const KilnResult result = run_kiln({command, "exp.toml"}, dir.path());
    EXPECT_EQ(result.exit_code(), 0) << result.describe();
    EXPECT_THAT(result.err, HasSubstr("exp.toml:22:46: optimizers.adam.schedule.warmup_steps = 4 is not below "
                                      "max_steps = 4: the rate rises for the whole run and never reaches its "
                                      "configured value"))
        << command;
  }
  // One step shorter, no warning.
  write_text(dir, "exp.toml",
             replace_once(mlp_experiment("", 4), "lr = 1e-2\n",
                          "lr = 1e-2\nschedule = { type = \"cosine\", warmup_steps = 3 }\n"));
  const KilnResult result = run_kiln({"validate", "exp.toml"}, dir.path());
  EXPECT_EQ(result.exit_code(), 0) << result.describe();
  EXPECT_THAT(result.err, ::testing::Not(HasSubstr("warmup_steps")));
}

TEST(cli_show_training, a_plain_run_shows_its_batch_and_a_constant_rate) {
  TempDir dir;
  EXPECT_EQ(training_section(dir, mlp_experiment("[supervisor]\nlog_every_steps = 0\n", 2)),
            "training\n"
            "  batch      16 examples per update\n"
            "  phase adam: adam, lr 0.01, schedule constant\n");
}

}  // namespace
}  // namespace kiln::test
