// `kiln sweep show`, `kiln compare --sweep` and `kiln report --sweep` on a database of real
// runs: a sweep recorded through the store, two trials run by `kiln run` with KILN_SWEEP_ID.
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
#include "store/schema.hpp"
#include "store/sweeps.hpp"

namespace kiln::test {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::StartsWith;

/// A value as kiln prints metrics: 4 significant digits.
std::string g4(const std::string& value) {
  char text[32];
  std::snprintf(text, sizeof text, "%.4g", std::stod(value));
  return text;
}

/// `line`'s cells, split on runs of spaces.
std::vector<std::string> cells(const std::string& line) {
  std::vector<std::string> out;
  std::size_t at = line.find_first_not_of(' ');
  while (at != std::string::npos) {
    const std::size_t end = line.find("  ", at);
    out.push_back(line.substr(at, end == std::string::npos ? std::string::npos : end - at));
    at = end == std::string::npos ? end : line.find_first_not_of(' ', end);
  }
  return out;
}

/// Sweep 's' of three trials (lr 0.01, 0.1, 0.001) ranked by loss/mse: trials 1 and 2 ran
/// (10 steps each; trial 2 was cut at step 4), trial 3 did not start; run 'other' is no trial.
class cli_sweep : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    write_text(*dir_, "exp.toml", mlp_experiment("[supervisor]\nsummary_every_steps = 1\n", /*max_steps=*/10));
    {
      runner::store::Database store(db());
      runner::store::migrate(store);
      runner::store::SweepRow sweep;
      sweep.name = "s";
      sweep.experiment = "exp.toml";
      sweep.spec = R"({"grid":{"optimizers.adam.lr":["0.01","0.1","0.001"]}})";
      sweep.metric = "loss/mse";
      sweep.trials = 3;
      sweep.created = 1700000000;
      std::vector<runner::store::TrialRow> trials;
      for (const char* lr : {"0.01", "0.1", "0.001"}) {
        runner::store::TrialRow trial;
        trial.trial = static_cast<std::int64_t>(trials.size()) + 1;
        trial.run = "s-00" + std::to_string(trial.trial);
        trial.overrides = std::string(R"({"optimizers.adam.lr":")") + lr + "\"}";
        trials.push_back(trial);
      }
      sweep_id_ = runner::store::record_sweep(store, sweep, trials).id;
    }
    const EnvChanges trial_env = {{"KILN_SWEEP_ID", std::to_string(sweep_id_)}};
    for (const auto& [name, lr] : std::vector<std::pair<std::string, std::string>>{{"s-001", "0.01"}, {"s-002", "0.1"}}) {
      const KilnResult run = run_kiln({"run", "exp.toml", "--set", "experiment.name=\"" + name + "\"", "--set",
                                       "optimizers.adam.lr=" + lr},
                                      dir_->path(), trial_env);
      ASSERT_EQ(run.exit_code(), 0) << run.describe();
    }
    const KilnResult other = run_kiln({"run", "exp.toml", "--set", "experiment.name=\"other\""}, dir_->path(),
                                      {{"KILN_SWEEP_ID", std::nullopt}});
    ASSERT_EQ(other.exit_code(), 0) << other.describe();
    runner::store::Database store(db());
    runner::store::record_cut(store, sweep_id_, 2, 4, "loss/mse above the median at step 4");
  }
  static void TearDownTestSuite() {
    delete dir_;
    dir_ = nullptr;
  }

  static KilnResult kiln(const std::vector<std::string>& args) { return run_kiln(args, dir_->path()); }
  static fs::path db() { return *dir_ / "runs/kiln.db"; }
  /// The run's lowest loss/mse and the first step it was reached, as SQLite reads them.
  static std::vector<std::string> best(const std::string& run) {
    return sql_rows(db(), "SELECT s.value, s.step FROM summaries s JOIN runs r ON r.id = s.run_id WHERE r.name = '" +
                              run + "' AND s.tag = 'loss/mse' ORDER BY s.value, s.step LIMIT 1")
        .at(0);
  }

  static TempDir* dir_;
  static std::int64_t sweep_id_;
};
TempDir* cli_sweep::dir_ = nullptr;
std::int64_t cli_sweep::sweep_id_ = 0;

TEST_F(cli_sweep, a_bad_sweep_id_is_one_error_and_no_run) {
  for (const std::string bad : {"abc", "0", "-1"}) {
    const KilnResult run = run_kiln({"run", "exp.toml", "--set", "experiment.name=\"bad\""}, dir_->path(),
                                    {{"KILN_SWEEP_ID", bad}});
    EXPECT_TRUE(fails_with_one_error_line(run, 2)) << run.describe();
    EXPECT_EQ(error_line(run), "error: KILN_SWEEP_ID is '" + bad +
                                   "'; it must be a sweep's id, a positive integer (kiln sweep sets it for each "
                                   "trial: unset it to run alone)");
  }
  const KilnResult unknown = run_kiln({"run", "exp.toml", "--set", "experiment.name=\"bad\""}, dir_->path(),
                                     {{"KILN_SWEEP_ID", "99"}});
  EXPECT_TRUE(fails_with_one_error_line(unknown, 2)) << unknown.describe();
  EXPECT_EQ(error_line(unknown), "error: runs/kiln.db: no sweep with id 99 (KILN_SWEEP_ID; kiln sweep sets it for its trials)");
  EXPECT_EQ(sql_value(db(), "SELECT count(*) FROM runs WHERE name GLOB 'bad*'"), "0");
}

TEST_F(cli_sweep, kiln_run_records_the_trials_sweep) {
  EXPECT_EQ(sql_rows(db(), "SELECT name, status, coalesce(sweep_id, 'NULL') FROM runs ORDER BY id"),
            (std::vector<std::vector<std::string>>{{"s-001", "completed", std::to_string(sweep_id_)},
                                                   {"s-002", "completed", std::to_string(sweep_id_)},
                                                   {"other", "completed", "NULL"}}));
  EXPECT_EQ(sql_rows(db(), "SELECT r.name, e.step, e.kind, e.message FROM events e JOIN runs r ON r.id = e.run_id "
                           "WHERE e.kind = 'sweep_cut'"),
            (std::vector<std::vector<std::string>>{{"s-002", "4", "sweep_cut", "loss/mse above the median at step 4"}}));
}

TEST_F(cli_sweep, show_ranks_the_trials_by_the_metric_with_their_overrides) {
  const std::vector<std::string> one = best("s-001"), two = best("s-002");
  ASSERT_NE(std::stod(one[0]), std::stod(two[0]));
  const bool two_first = std::stod(two[0]) < std::stod(one[0]);
  const KilnResult result = kiln({"sweep", "show", "s"});
  ASSERT_EQ(result.exit_code(), 0) << result.describe();
  const std::vector<std::string> rows = lines(result.out);
  ASSERT_EQ(rows.size(), 11u) << result.out;
  EXPECT_EQ(rows[0], "sweep s (id " + std::to_string(sweep_id_) + ")  2 of 3 trials done, 1 cut");
  EXPECT_EQ(rows[1], "  experiment exp.toml");
  EXPECT_EQ(rows[2], "  metric     loss/mse, lower is better (the tag's direction)");
  EXPECT_THAT(rows[3], StartsWith("  created    2023-11-1"));
  EXPECT_EQ(cells(rows[5]), (std::vector<std::string>{"rank", "trial", "run", "status", "best", "step", "cut",
                                                      "optimizers.adam.lr"}));
  const std::vector<std::string> trial1 = {"1", "s-001", "completed", g4(one[0]), one[1], "0.01"};
  const std::vector<std::string> trial2 = {"2", "s-002", "completed", g4(two[0]), two[1], "4", "0.1"};
  auto ranked = [](const std::string& rank, std::vector<std::string> row) {
    row.insert(row.begin(), rank);
    return row;
  };
  EXPECT_EQ(cells(rows[7]), ranked("1", two_first ? trial2 : trial1));
  EXPECT_EQ(cells(rows[8]), ranked("2", two_first ? trial1 : trial2));
  EXPECT_EQ(cells(rows[9]), (std::vector<std::string>{"3", "s-003", "not started", "0.001"}));
  EXPECT_EQ(rows[10], "(3 rows)");
}

TEST_F(cli_sweep, show_of_an_unknown_sweep_suggests_a_name) {
  const KilnResult result = kiln({"sweep", "show", "ss"});
  EXPECT_TRUE(fails_with_one_error_line(result, 2)) << result.describe();
  EXPECT_EQ(error_line(result), "error: no sweep named 'ss' in runs/kiln.db; did you mean 's'?");
}

TEST_F(cli_sweep, compare_reads_the_trials_best_first_and_the_runs_named) {
  const bool two_first = std::stod(best("s-002")[0]) < std::stod(best("s-001")[0]);
  const std::vector<std::string> order = two_first ? std::vector<std::string>{"s-002", "s-001"}
                                                   : std::vector<std::string>{"s-001", "s-002"};
  const KilnResult sweep = kiln({"compare", "--sweep", "s"});
  ASSERT_EQ(sweep.exit_code(), 0) << sweep.describe();
  EXPECT_EQ(cells(lines(sweep.out).at(0)), order);
  EXPECT_THAT(sweep.out, HasSubstr("loss/mse (lower is better): " + order[0] + " reached"));
  // A trial named again is compared once; another run joins after the trials.
  const KilnResult more = kiln({"compare", "s-001", "other", "--sweep", "s"});
  ASSERT_EQ(more.exit_code(), 0) << more.describe();
  EXPECT_EQ(cells(lines(more.out).at(0)), (std::vector<std::string>{order[0], order[1], "other"}));
}

TEST_F(cli_sweep, compare_of_a_sweep_needs_two_runs_in_all) {
  {
    runner::store::Database store(db());
    runner::store::SweepRow lone;
    lone.name = "lone";
    lone.experiment = "exp.toml";
    lone.spec = "{}";
    lone.trials = 1;
    runner::store::TrialRow trial;
    trial.trial = 1;
    trial.run = "other";
    trial.overrides = "{}";
    runner::store::record_sweep(store, lone, {trial});
  }
  const KilnResult alone = kiln({"compare", "--sweep", "lone"});
  EXPECT_TRUE(fails_with_one_error_line(alone, 2)) << alone.describe();
  EXPECT_EQ(error_line(alone), "error: kiln compare needs two or more runs: sweep lone has 1 trial with a run (name "
                               "another run too, or wait for more of its trials to start)");
  const KilnResult with_one = kiln({"compare", "--sweep", "lone", "s-001"});
  EXPECT_EQ(with_one.exit_code(), 0) << with_one.describe();
  EXPECT_EQ(cells(lines(with_one.out).at(0)), (std::vector<std::string>{"other", "s-001"}));
  const KilnResult unknown = kiln({"compare", "--sweep", "nope", "s-001"});
  EXPECT_TRUE(fails_with_one_error_line(unknown, 2)) << unknown.describe();
  EXPECT_THAT(error_line(unknown), StartsWith("error: no sweep named 'nope' in runs/kiln.db"));
}

TEST_F(cli_sweep, report_writes_the_trials_and_the_runs_named) {
  const KilnResult sweep = kiln({"report", "--sweep", "s", "-o", "sweep.html"});
  ASSERT_EQ(sweep.exit_code(), 0) << sweep.describe();
  EXPECT_THAT(sweep.out, HasSubstr("): 2 runs, "));
  const std::string html = read_file(*dir_ / "sweep.html");
  EXPECT_NE(html.find("s-001"), std::string::npos);
  EXPECT_NE(html.find("s-002"), std::string::npos);
  EXPECT_EQ(html.find("s-003"), std::string::npos);
  const KilnResult more = kiln({"report", "--sweep", "s", "other", "s-002", "-o", "more.html"});
  ASSERT_EQ(more.exit_code(), 0) << more.describe();
  EXPECT_THAT(more.out, HasSubstr("): 3 runs, "));
}

}  // namespace
}  // namespace kiln::test
