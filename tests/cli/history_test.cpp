// `kiln runs`, `kiln show`, `kiln compare` and `kiln validate` on a database made by real runs.
#include <cstdio>
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
using ::testing::ContainsRegex;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

/// A value as kiln prints metrics: 4 significant digits.
std::string g4(const std::string& value) {
  char text[32];
  std::snprintf(text, sizeof text, "%.4g", std::stod(value));
  return text;
}

/// The names in the "name" column of a `kiln runs` table, top to bottom.
std::vector<std::string> listed_names(const std::string& table) {
  std::vector<std::string> names;
  const std::vector<std::string> rows = lines(table);
  for (std::size_t i = 2; i < rows.size(); ++i) {
    if (rows[i].rfind("(", 0) == 0) break;
    const std::size_t id_end = rows[i].find_first_not_of(' ');
    const std::size_t name_begin = rows[i].find_first_not_of(' ', rows[i].find(' ', id_end));
    names.push_back(rows[i].substr(name_begin, rows[i].find(' ', name_begin) - name_begin));
  }
  return names;
}

/// Three runs of one experiment: t (lr 0.01), t-2 (lr 0.03) and t-3, which fails at its
/// first step (the model takes 8 inputs, the data has 4).
class cli_history : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    write_text(*dir_, "exp.toml", mlp_experiment("[supervisor]\nsummary_every_steps = 1\n", /*max_steps=*/30));
    for (const std::vector<std::string>& args :
         {std::vector<std::string>{"run", "exp.toml"},
          std::vector<std::string>{"run", "exp.toml", "--fresh", "--set", "optimizers.adam.lr=0.03"}}) {
      const KilnResult run = run_kiln(args, dir_->path());
      ASSERT_EQ(run.exit_code(), 0) << run.describe();
    }
    const KilnResult failing = run_kiln({"run", "exp.toml", "--fresh", "--set", "model.inputs=8"}, dir_->path());
    ASSERT_EQ(failing.exit_code(), 1) << failing.describe();
  }
  static void TearDownTestSuite() {
    delete dir_;
    dir_ = nullptr;
  }

  static KilnResult kiln(const std::vector<std::string>& args) { return run_kiln(args, dir_->path()); }
  static fs::path db() { return *dir_ / "runs/kiln.db"; }

  static TempDir* dir_;
};
TempDir* cli_history::dir_ = nullptr;

TEST_F(cli_history, runs_lists_the_newest_first_with_status_steps_and_last_losses) {
  const KilnResult result = kiln({"runs"});
  ASSERT_EQ(result.exit_code(), 0) << result.describe();
  EXPECT_THAT(listed_names(result.out), ElementsAre("t-3", "t-2", "t"));
  const std::vector<std::string> rows = lines(result.out);
  ASSERT_EQ(rows.size(), 6u) << result.out;
  EXPECT_THAT(rows[0], StartsWith("id  name  status     steps  started"));
  EXPECT_THAT(rows[2], HasSubstr(" failed "));
  const std::string last = sql_value(db(), "SELECT value FROM summaries s JOIN runs r ON r.id = s.run_id "
                                           "WHERE r.name = 't-2' AND tag = 'loss/mse' AND step = 29");
  EXPECT_THAT(rows[3], HasSubstr(" completed     30 "));
  EXPECT_THAT(rows[3], HasSubstr("mse " + g4(last) + " "));
  EXPECT_EQ(rows[5], "(3 rows)");
}

TEST_F(cli_history, runs_filters_by_status_name_and_count) {
  EXPECT_THAT(listed_names(kiln({"runs", "--status", "failed"}).out), ElementsAre("t-3"));
  EXPECT_THAT(listed_names(kiln({"runs", "--status", "completed"}).out), ElementsAre("t-2", "t"));
  EXPECT_THAT(listed_names(kiln({"runs", "--name", "t-*"}).out), ElementsAre("t-3", "t-2"));
  EXPECT_THAT(listed_names(kiln({"runs", "--name", "-2"}).out), ElementsAre("t-2"));
  EXPECT_THAT(listed_names(kiln({"runs", "--name", "nothing"}).out), ElementsAre());
  EXPECT_THAT(listed_names(kiln({"runs", "--limit", "2"}).out), ElementsAre("t-3", "t-2"));
  EXPECT_TRUE(fails_with_one_error_line(kiln({"runs", "--status", "done"}), 2));
  EXPECT_TRUE(fails_with_one_error_line(kiln({"runs", "--limit", "0"}), 2));
}

TEST_F(cli_history, show_finds_a_run_by_name_or_by_id_and_prints_it_in_full) {
  const KilnResult by_name = kiln({"show", "t-2"});
  ASSERT_EQ(by_name.exit_code(), 0) << by_name.describe();
  EXPECT_EQ(kiln({"show", "2"}).out, by_name.out);
  const std::string& out = by_name.out;
  EXPECT_THAT(out, StartsWith("run t-2 (id 2)  completed\n"));
  EXPECT_THAT(out, HasSubstr("\n  steps      30\n"));
  EXPECT_THAT(out, HasSubstr("\n  lr = 0.03\n"));  // the resolved config, with the override
  // The lowest loss and the first step it was reached, as the database has them.
  const auto best = sql_rows(db(), "SELECT value, step FROM summaries WHERE run_id = 2 AND tag = 'loss/mse' "
                                   "ORDER BY value, step LIMIT 1");
  EXPECT_THAT(out, HasSubstr(g4(best[0][0]) + " @" + best[0][1]));
  EXPECT_THAT(out, HasSubstr("checkpoints (1 kept, 0 deleted)"));
  EXPECT_THAT(out, HasSubstr("kept: max_to_keep"));
  EXPECT_THAT(out, HasSubstr("ckpt-30.kiln"));
  for (const char* plugin : {"synthetic_regression", "mse", "mlp"}) EXPECT_THAT(out, HasSubstr(plugin));
  EXPECT_THAT(out, HasSubstr("events (4)"));
  EXPECT_THAT(out, HasSubstr("run t-2 starts at step 0 of 30"));
}

TEST_F(cli_history, show_of_a_failed_run_gives_its_error_without_a_backtrace) {
  const KilnResult result = kiln({"show", "t-3"});
  ASSERT_EQ(result.exit_code(), 0) << result.describe();
  EXPECT_THAT(result.out, HasSubstr("  error      step 0: in model 'mlp' (phase 'adam'): mat1 and mat2 shapes "
                                    "cannot be multiplied (16x4 and 8x8)\n"));
  EXPECT_THAT(result.out, Not(HasSubstr("Exception raised from")));
  EXPECT_EQ(sql_value(db(), "SELECT error FROM runs WHERE name = 't-3'"),
            "step 0: in model 'mlp' (phase 'adam'): mat1 and mat2 shapes cannot be multiplied (16x4 and 8x8)");
}

TEST_F(cli_history, an_unknown_run_is_one_error_with_the_closest_name) {
  for (const std::vector<std::string>& command : {std::vector<std::string>{"show", "t-22"},
                                                   std::vector<std::string>{"infer", "t-22", "in.png"}}) {
    const KilnResult result = kiln(command);
    EXPECT_TRUE(fails_with_one_error_line(result, 2)) << command[0];
    EXPECT_EQ(error_line(result), "error: no run named 't-22' in runs/kiln.db; did you mean 't-2'?") << command[0];
  }
  const KilnResult compare = kiln({"compare", "t", "zzzzzzzz"});
  EXPECT_TRUE(fails_with_one_error_line(compare, 2));
  EXPECT_EQ(error_line(compare), "error: no run named 'zzzzzzzz' in runs/kiln.db (kiln runs lists them)");
}

TEST_F(cli_history, compare_gives_the_config_difference_and_the_better_run_with_its_step) {
  const KilnResult result = kiln({"compare", "t", "t-2"});
  ASSERT_EQ(result.exit_code(), 0) << result.describe();
  EXPECT_THAT(result.out, HasSubstr("config: 1 differs\n"));
  EXPECT_THAT(result.out, HasSubstr("  optimizers.adam.lr  0.01  0.03\n"));
  EXPECT_THAT(result.out, HasSubstr("plugins: the same in every run\n"));
  // Which run reached the lowest loss, and at which step, as the database has it.
  const auto best = sql_rows(db(), "SELECT r.name, s.value, s.step FROM summaries s JOIN runs r ON r.id = s.run_id "
                                   "WHERE r.name IN ('t', 't-2') AND tag = 'loss/mse' ORDER BY value, s.run_id, step "
                                   "LIMIT 1");
  EXPECT_THAT(result.out, HasSubstr("\nbest\n  loss/mse (lower is better): " + best[0][0] + " reached " +
                                    g4(best[0][1]) + " at step " + best[0][2] + "\n"));
  EXPECT_THAT(result.out, HasSubstr(g4(best[0][1]) + " @" + best[0][2] + " *"));
}

TEST_F(cli_history, compare_takes_ids_and_refuses_one_run_twice_or_alone) {
  EXPECT_EQ(kiln({"compare", "1", "t-2"}).out, kiln({"compare", "t", "t-2"}).out);
  const KilnResult twice = kiln({"compare", "t", "1"});
  EXPECT_TRUE(fails_with_one_error_line(twice, 2));
  EXPECT_EQ(error_line(twice), "error: '1' names run t twice; compare needs different runs");
  EXPECT_TRUE(fails_with_one_error_line(kiln({"compare", "t"}), 2));
}

TEST(cli_compare_directions, a_tag_declared_higher_is_better_picks_the_highest_and_runs_that_disagree_have_no_best) {
  TempDir dir;
  write_text(dir, "exp.toml", mlp_experiment("[supervisor]\nsummary_every_steps = 1\n", /*max_steps=*/10));
  // t and t-2 count loss/ tags as higher-is-better (an odd choice, but the runs say so); t-3 does not.
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"run", "exp.toml", "--set", "summaries.maximize=['loss/*']"},
        std::vector<std::string>{"run", "exp.toml", "--fresh", "--set", "optimizers.adam.lr=0.03", "--set",
                                 "summaries.maximize=['loss/*']"},
        std::vector<std::string>{"run", "exp.toml", "--fresh"}}) {
    const KilnResult run = run_kiln(args, dir.path());
    ASSERT_EQ(run.exit_code(), 0) << run.describe();
  }
  const fs::path db = dir / "runs/kiln.db";
  const KilnResult agree = run_kiln({"compare", "t", "t-2"}, dir.path());
  ASSERT_EQ(agree.exit_code(), 0) << agree.describe();
  const auto highest = sql_rows(db, "SELECT r.name, s.value, s.step FROM summaries s JOIN runs r ON r.id = s.run_id "
                                    "WHERE r.name IN ('t', 't-2') AND tag = 'loss/mse' "
                                    "ORDER BY value DESC, s.run_id, step LIMIT 1");
  EXPECT_THAT(agree.out, HasSubstr("\nbest\n  loss/mse (higher is better): " + highest[0][0] + " reached " +
                                   g4(highest[0][1]) + " at step " + highest[0][2] + "\n"));
  EXPECT_THAT(agree.out, HasSubstr("  loss/mse max "));
  EXPECT_THAT(agree.out, Not(HasSubstr("  loss/mse min ")));
  EXPECT_THAT(agree.out, HasSubstr(g4(highest[0][1]) + " @" + highest[0][2] + " *"));
  // The view says the same: its best is the highest for both.
  EXPECT_EQ(sql_rows(db, "SELECT run, direction, best_value = max_value FROM metrics_best WHERE tag = 'loss/mse' "
                         "ORDER BY run_id"),
            (std::vector<std::vector<std::string>>{{"t", "max", "1"}, {"t-2", "max", "1"}, {"t-3", "min", "0"}}));

  const KilnResult disagree = run_kiln({"compare", "t", "t-3"}, dir.path());
  ASSERT_EQ(disagree.exit_code(), 0) << disagree.describe();
  EXPECT_THAT(disagree.out, HasSubstr("  loss/mse min "));
  EXPECT_THAT(disagree.out, HasSubstr("  loss/mse max "));
  EXPECT_THAT(disagree.out, HasSubstr("\nbest\n  loss/mse: none, the runs disagree whether higher or lower is better "
                                      "(their [summaries] or hooks)\n"));
  for (const std::string& line : lines(disagree.out)) {
    if (line.rfind("  loss/mse", 0) == 0) {
      EXPECT_THAT(line, Not(HasSubstr(" *"))) << line;
    }
  }
}

TEST(cli_compare_directions, a_hook_declares_its_tags_direction_and_the_experiments_exact_rule_wins_over_it) {
  TempDir dir;
  const fs::path folder = fixture_dir().parent_path() / "directions";
  write_text(dir, "exp.toml",
             mlp_experiment("[plugins]\npaths = [\"" + folder.string() + "\"]\n[[hooks]]\nplugin = "
                            "\"declares_direction\"\ntag = \"score/x\"\ndirection = \"max\"\n",
                            /*max_steps=*/5));
  // score/x is step + 1: its best is 5 at step 4 when higher is better, 1 at step 0 when lower.
  const std::string best = "SELECT direction, best_value, best_step FROM metrics_best WHERE tag = 'score/x'";
  const KilnResult declared = run_kiln({"run", "exp.toml"}, dir.path());
  ASSERT_EQ(declared.exit_code(), 0) << declared.describe();
  const fs::path db = dir / "runs/kiln.db";
  EXPECT_EQ(sql_rows(db, "SELECT pattern, direction, source FROM summary_directions"),
            (std::vector<std::vector<std::string>>{{"score/x", "max", "hook"}}));
  EXPECT_EQ(sql_rows(db, best), (std::vector<std::vector<std::string>>{{"max", "5.0", "4"}}));
  // A prefix in the experiment does not override the hook's exact tag; the exact tag does.
  const KilnResult prefix = run_kiln({"run", "exp.toml", "--fresh", "--set", "summaries.minimize=['score/*']"}, dir.path());
  ASSERT_EQ(prefix.exit_code(), 0) << prefix.describe();
  EXPECT_EQ(sql_rows(db, best + " AND run = 't-2'"), (std::vector<std::vector<std::string>>{{"max", "5.0", "4"}}));
  const KilnResult exact = run_kiln({"run", "exp.toml", "--fresh", "--set", "summaries.minimize=['score/x']"}, dir.path());
  ASSERT_EQ(exact.exit_code(), 0) << exact.describe();
  EXPECT_EQ(sql_rows(db, best + " AND run = 't-3'"), (std::vector<std::vector<std::string>>{{"min", "1.0", "0"}}));
}

TEST(cli_summaries, a_tag_two_hooks_record_at_one_step_is_a_warning_once_and_the_later_value_is_kept) {
  TempDir dir;
  const fs::path folder = fixture_dir().parent_path() / "directions";
  // The fixture's hook records loss/mse = step + 1 after every step; the supervisor's loss at
  // the even steps comes after it (hooks are handed the step's values once it is read).
  write_text(dir, "exp.toml",
             mlp_experiment("[supervisor]\nsummary_every_steps = 2\n[plugins]\npaths = [\"" + folder.string() +
                                "\"]\n[[hooks]]\nplugin = \"declares_direction\"\ntag = \"loss/mse\"\n"
                                "direction = \"min\"\n",
                            /*max_steps=*/5));
  const KilnResult run = run_kiln({"run", "exp.toml"}, dir.path());
  ASSERT_EQ(run.exit_code(), 0) << run.describe();
  const fs::path db = dir / "runs/kiln.db";
  const auto value_at = [&](int step) {
    return sql_value(db, "SELECT value FROM summaries WHERE tag = 'loss/mse' AND step = " + std::to_string(step));
  };
  EXPECT_THAT(run.err, HasSubstr("summary 'loss/mse' was recorded twice at step 0, 1 then " + value_at(0).substr(0, 6)));
  EXPECT_THAT(run.err, HasSubstr(": the database keeps the later. Do two hooks write this tag? (said once per tag)"));
  std::size_t said = 0;
  for (std::size_t at = run.err.find("recorded twice"); at != std::string::npos; at = run.err.find("recorded twice", at + 1))
    ++said;
  EXPECT_EQ(said, 1u) << run.err;  // at steps 2 and 4 again, unsaid
  EXPECT_NE(value_at(0), "1.0");
  EXPECT_EQ(value_at(1), "2.0");
  EXPECT_NE(value_at(2), "3.0");
  EXPECT_EQ(value_at(3), "4.0");
  // A run whose hooks keep to their own tags says nothing of the kind.
  write_text(dir, "exp.toml", mlp_experiment("", 5));
  const KilnResult plain = run_kiln({"run", "exp.toml", "--fresh"}, dir.path());
  ASSERT_EQ(plain.exit_code(), 0) << plain.describe();
  EXPECT_THAT(plain.err, Not(HasSubstr("recorded twice")));
}

TEST(cli_history_missing_database, every_reading_command_says_so_in_one_line_and_creates_nothing) {
  TempDir dir;
  fs::create_directories(dir / "folder.db");
  for (const std::string db : {"runs/kiln.db", "folder.db"}) {
    for (std::vector<std::string> command : {std::vector<std::string>{"runs"}, std::vector<std::string>{"show", "t"},
                                             std::vector<std::string>{"compare", "t", "u"},
                                             std::vector<std::string>{"report", "t", "-o", "r.html"}}) {
      command.insert(command.end(), {"--db", db});
      const KilnResult result = run_kiln(command, dir.path());
      EXPECT_TRUE(fails_with_one_error_line(result, 2)) << command[0] << " " << db;
      EXPECT_EQ(error_line(result), "error: no run database at " + db + " (run an experiment first, or pass --db)")
          << command[0];
      EXPECT_EQ(result.out, "") << command[0];
    }
  }
  EXPECT_FALSE(fs::exists(dir / "runs"));
  EXPECT_FALSE(fs::exists(dir / "r.html"));
}

TEST(cli_validate, a_valid_experiment_is_described_and_nothing_is_written) {
  TempDir dir;
  write_text(dir, "exp.toml", mlp_experiment());
  const KilnResult result = run_kiln({"validate", "exp.toml"}, dir.path());
  ASSERT_EQ(result.exit_code(), 0) << result.describe();
  EXPECT_THAT(result.out, StartsWith("exp.toml: valid\n"));
  EXPECT_THAT(result.out, HasSubstr("  run        would start run t (no database yet at runs/kiln.db)\n"));
  // Where it would train: the CPU here (auto), with LibTorch's version and the precision.
  EXPECT_THAT(result.out, ContainsRegex("\n  device     (cpu|cuda:0 \\(.*\\)), torch [0-9.]+.*, (fp32|tf32)\n"));
  // mlp 4 -> 8 -> 1: 4*8 + 8 + 8*1 + 1 weights.
  EXPECT_THAT(result.out, HasSubstr("  model      mlp: 49 parameters, from mlp 1.0.0 (libmlp.so)\n"));
  EXPECT_THAT(result.out, HasSubstr("  data       synthetic_regression: 256 examples, batches of 16 (16 per epoch)"));
  EXPECT_THAT(result.out, HasSubstr("  phase      adam: adam lr 0.01 on 'all' (4 tensors), minimizing mse\n"));
  EXPECT_THAT(result.out, HasSubstr("  hooks      saver (900), supervisor (1000)\n"));
  EXPECT_THAT(result.out, HasSubstr("  losses     on the first batch: adam/mse "));
  EXPECT_FALSE(fs::exists(dir / "runs")) << "validate must not create the run directory or database";
}

TEST(cli_validate, describes_the_training_controls) {
  TempDir dir;
  write_text(dir, "exp.toml", mlp_experiment());
  const KilnResult result =
      run_kiln({"validate", "exp.toml", "--set", "experiment.accumulate=4", "--set", "optimizers.adam.clip_norm=1.5",
                "--set", "optimizers.adam.schedule={ type = \"cosine\", warmup_steps = 10 }"},
               dir.path());
  ASSERT_EQ(result.exit_code(), 0) << result.describe();
  EXPECT_THAT(result.out, HasSubstr("  accumulate 4 micro-batches a step: 64 examples per update\n"));
  EXPECT_THAT(result.out, ContainsRegex("\n             schedule cosine[^\n]*warmup 10 steps[^\n]*, clip_norm 1.5\n"));
  EXPECT_FALSE(fs::exists(dir / "runs"));
}

TEST(cli_validate, says_it_would_resume_an_existing_run) {
  TempDir dir;
  write_text(dir, "exp.toml", mlp_experiment("", /*max_steps=*/5));
  ASSERT_EQ(run_kiln({"run", "exp.toml"}, dir.path()).exit_code(), 0);
  const std::string before = read_file(dir / "runs/kiln.db");
  const KilnResult result = run_kiln({"validate", "exp.toml", "--set", "experiment.max_steps=9"}, dir.path());
  ASSERT_EQ(result.exit_code(), 0) << result.describe();
  EXPECT_THAT(result.out, HasSubstr("would resume run t (completed, 5 of 9 steps recorded; --fresh starts another)"));
  EXPECT_EQ(read_file(dir / "runs/kiln.db"), before);
}

TEST(cli_validate, a_model_that_cannot_take_its_data_fails_before_training) {
  TempDir dir;
  write_text(dir, "exp.toml", mlp_experiment());
  const KilnResult result = run_kiln({"validate", "exp.toml", "--set", "model.inputs=8"}, dir.path());
  EXPECT_TRUE(fails_with_one_error_line(result, 2));
  EXPECT_EQ(error_line(result),
            "error: exp.toml: the first batch fails: in model 'mlp' (phase 'adam'): mat1 and mat2 shapes cannot "
            "be multiplied (16x4 and 8x8)");
  EXPECT_FALSE(fs::exists(dir / "runs"));
}

TEST(cli_validate, a_prediction_and_target_of_shapes_that_would_broadcast_fail_before_training) {
  TempDir dir;
  write_text(dir, "exp.toml", mlp_experiment());
  // The model predicts 3 values per example, the data has 1: mse of [16, 3] and [16, 1] would
  // train on the broadcast differences, with only a torch warning.
  const KilnResult result = run_kiln({"validate", "exp.toml", "--set", "model.outputs=3"}, dir.path());
  EXPECT_TRUE(fails_with_one_error_line(result, 2));
  EXPECT_THAT(error_line(result), HasSubstr("in loss 'mse' (phase 'adam'): model output 'prediction' has shape "
                                            "[16, 3] and target 'y' has shape [16, 1]; they differ and would "
                                            "broadcast to [16, 3] — reshape one of them"));
  EXPECT_FALSE(fs::exists(dir / "runs"));
}

TEST(cli_validate, config_and_plugin_errors_are_the_same_as_for_run) {
  TempDir dir;
  write_text(dir, "typo.toml", mlp_experiment("[supervisor]\nsumary_every_steps = 5\n"));
  write_text(dir, "missing.toml", replace_once(mlp_experiment(), "plugin = \"mlp\"", "plugin = \"nope\""));
  for (const char* file : {"typo.toml", "missing.toml"}) {
    const KilnResult validate = run_kiln({"validate", file}, dir.path());
    const KilnResult run = run_kiln({"run", file}, dir.path());
    EXPECT_TRUE(fails_with_one_error_line(validate, 2)) << file;
    EXPECT_EQ(error_line(validate), error_line(run)) << file;
  }
}

}  // namespace
}  // namespace kiln::test
