// `kiln sweep` as a process: trials as runs of one database, resume after kill -9, errors.
#include <chrono>
#include <csignal>
#include <filesystem>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "../support/experiment_file.hpp"
#include "../support/temp_dir.hpp"
#include "cli_support.hpp"
#include "kiln_process.hpp"

namespace {

namespace fs = std::filesystem;
using kiln::test::KilnProcess;
using kiln::test::KilnResult;
using kiln::test::run_kiln;
using kiln::test::sql_rows;
using kiln::test::sql_value;
using kiln::test::TempDir;
using testing::HasSubstr;
using testing::Not;
using testing::StartsWith;
using Rows = std::vector<std::vector<std::string>>;

/// Polls `holds` (a database's state, which no pipe announces) until it holds or `timeout` passes.
bool poll_until(const std::function<bool()>& holds, std::chrono::seconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!holds()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return true;
}

class cli_sweep : public testing::Test {
 protected:
  void write_experiment(const std::string& extra = "", long max_steps = 30) {
    kiln::test::write_text(dir_, "exp.toml",
                           kiln::test::mlp_experiment("[supervisor]\nsummary_every_steps = 5\n" + extra, max_steps));
  }
  TempDir dir_;
  const fs::path db_ = dir_ / "runs/kiln.db";
};

TEST_F(cli_sweep, an_unknown_key_is_refused_at_its_flag_before_any_run) {
  write_experiment();
  const KilnResult result = run_kiln({"sweep", "exp.toml", "--grid", "optimizers.adam.lrr=1e-4,2e-4"}, dir_.path());
  EXPECT_TRUE(kiln::test::fails_with_one_error_line(result, 2)) << result.describe();
  EXPECT_THAT(kiln::test::error_line(result),
              StartsWith("error: --grid optimizers.adam.lrr=1e-4,2e-4: unknown key 'lrr' in [optimizers.adam]; did you "
                         "mean 'lr'?"));
  EXPECT_FALSE(fs::exists(db_));
  // A plugin's key, in the [sweep] table: the error points at its line.
  write_experiment("[sweep]\ngrid = { \"model.hiden\" = [4, 8] }\n");
  const KilnResult table = run_kiln({"sweep", "exp.toml"}, dir_.path());
  EXPECT_THAT(kiln::test::error_line(table),
              StartsWith("error: exp.toml:26:26: model.hiden=4: unknown key 'hiden' in [model] (plugin 'mlp'); did you "
                         "mean 'hidden'?"));
  // A value of the wrong type, the second of the grid's.
  write_experiment();
  const KilnResult type = run_kiln({"sweep", "exp.toml", "--grid", "optimizers.adam.lr=1e-4,fast"}, dir_.path());
  EXPECT_EQ(kiln::test::error_line(type),
            "error: --grid optimizers.adam.lr=1e-4,fast: optimizers.adam.lr: expected a number, got a string");
  EXPECT_FALSE(fs::exists(db_));
}

TEST_F(cli_sweep, a_sweep_whose_trials_all_fail_exits_1_with_the_first_error) {
  write_experiment("[plugins]\npaths = [\"" + kiln::test::fixture_dir().string() +
                   "\"]\n[[hooks]]\nplugin = \"throw_at\"\nname = \"flaky\"\nstep = 3\n");
  const KilnResult result =
      run_kiln({"sweep", "exp.toml", "--grid", "optimizers.adam.lr=1e-3,1e-2", "--name", "f"}, dir_.path());
  EXPECT_TRUE(kiln::test::fails_with_one_error_line(result, 1)) << result.describe();
  EXPECT_EQ(kiln::test::error_line(result),
            "error: every trial failed; the first: f-001: step 3: throw_at: failing at step 3 as asked (in hook "
            "'flaky', after_step)");
  EXPECT_EQ(sql_rows(db_, "SELECT name, status FROM runs ORDER BY name"), (Rows{{"f-001", "failed"}, {"f-002", "failed"}}));
}

TEST_F(cli_sweep, a_grid_runs_each_point_as_a_run_of_the_sweep_ranked_by_the_metric) {
  write_experiment();
  const KilnResult result =
      run_kiln({"sweep", "exp.toml", "--grid", "optimizers.adam.lr=1e-3,1e-2", "--grid", "data.batch_size=16,32",
                "--parallel", "2", "--name", "g", "--metric", "loss/mse"},
               dir_.path());
  ASSERT_EQ(result.exit_code(), 0) << result.describe();
  EXPECT_EQ(sql_rows(db_, "SELECT r.name, r.status FROM runs r JOIN sweeps s ON s.id = r.sweep_id "
                          "WHERE s.name = 'g' ORDER BY r.name"),
            (Rows{{"g-001", "completed"}, {"g-002", "completed"}, {"g-003", "completed"}, {"g-004", "completed"}}));
  // The last key varies fastest; each trial's overrides are recorded and are its run's config.
  EXPECT_EQ(sql_value(db_, "SELECT overrides FROM sweep_trials WHERE trial = 2"),
            R"({"data.batch_size":"32","optimizers.adam.lr":"1e-3"})");
  EXPECT_THAT(sql_value(db_, "SELECT config FROM runs WHERE name = 'g-003'"), HasSubstr("batch_size = 16"));
  EXPECT_THAT(sql_value(db_, "SELECT config FROM runs WHERE name = 'g-003'"), HasSubstr("lr = 0.01"));
  EXPECT_EQ(sql_value(db_, "SELECT COUNT(*) FROM summaries s JOIN runs r ON r.id = s.run_id "
                           "WHERE r.name = 'g-004' AND s.tag = 'loss/mse'"),
            "7");  // steps 0, 5, ..., 25 and the last
  // The ranking printed is the summaries' own order, best (lowest) first.
  const Rows best = sql_rows(db_, "SELECT r.name FROM summaries s JOIN runs r ON r.id = s.run_id "
                                  "WHERE s.tag = 'loss/mse' GROUP BY r.name ORDER BY MIN(s.value)");
  ASSERT_EQ(best.size(), 4u);
  std::vector<std::string> printed;
  for (const std::string& line : kiln::test::lines(result.out))
    if (line.rfind("  ", 0) == 0) printed.push_back(line.substr(5, 5));
  EXPECT_EQ(printed, (std::vector<std::string>{best[0][0], best[1][0], best[2][0], best[3][0]}));
  EXPECT_EQ(sql_value(db_, "SELECT run FROM sweep_best WHERE rank = 1"), best[0][0]);
  // Each trial's output is in its log, not on the terminal.
  EXPECT_THAT(kiln::test::read_file(dir_ / "runs/g-002.log"), HasSubstr("step 30/30"));
  EXPECT_THAT(result.out, HasSubstr("trial 2/4 g-002 completed, loss/mse "));
}

TEST_F(cli_sweep, the_same_file_by_another_path_resumes_the_sweep_which_records_it_absolute) {
  write_experiment("", 10);
  const KilnResult first = run_kiln({"sweep", "exp.toml", "--grid", "optimizers.adam.lr=1e-3,1e-2", "--name", "p"},
                                    dir_.path());
  ASSERT_EQ(first.exit_code(), 0) << first.describe();
  EXPECT_EQ(sql_value(db_, "SELECT experiment FROM sweeps WHERE name = 'p'"), (dir_ / "exp.toml").string());
  for (const std::string& spelling : {std::string("./exp.toml"), (dir_ / "exp.toml").string()}) {
    const KilnResult again =
        run_kiln({"sweep", spelling, "--grid", "optimizers.adam.lr=1e-3,1e-2", "--name", "p"}, dir_.path());
    ASSERT_EQ(again.exit_code(), 0) << spelling << ": " << again.describe();
    EXPECT_THAT(again.out, HasSubstr("2 trials, 1 at a time, 2 already done")) << spelling;
  }
  // A sweep recorded by an older kiln, with the path as it was given, is still found by it.
  kiln::test::sql_exec(db_, "UPDATE sweeps SET experiment = 'exp.toml', spec = json_set(spec, '$.experiment', 'exp.toml') "
                            "WHERE name = 'p'");
  const KilnResult old = run_kiln({"sweep", "./exp.toml", "--grid", "optimizers.adam.lr=1e-3,1e-2", "--name", "p"},
                                  dir_.path());
  ASSERT_EQ(old.exit_code(), 0) << old.describe();
  EXPECT_THAT(old.out, HasSubstr("2 already done"));
  // Another file is another definition.
  kiln::test::write_text(dir_, "other.toml", kiln::test::read_file(dir_ / "exp.toml"));
  const KilnResult other = run_kiln({"sweep", "other.toml", "--grid", "optimizers.adam.lr=1e-3,1e-2", "--name", "p"},
                                    dir_.path());
  EXPECT_TRUE(kiln::test::fails_with_one_error_line(other, 2)) << other.describe();
  EXPECT_THAT(kiln::test::error_line(other),
              HasSubstr("another definition (experiment 'exp.toml' -> '" + (dir_ / "other.toml").string() + "')"));
}

TEST_F(cli_sweep, a_rerun_after_kill_9_finishes_without_repeating_finished_trials) {
  write_experiment("", 30);
  const std::vector<std::string> command = {"sweep", "exp.toml", "--grid", "experiment.max_steps=30,40,20000",
                                            "--name", "k"};
  {
    KilnProcess sweep(command, dir_.path());
    // Killed while trial 3 (20000 steps) has a run with summaries.
    const auto trial_3_started = [](const KilnProcess& p) { return p.out().find("k-003 started") != std::string::npos; };
    ASSERT_TRUE(sweep.wait_until(trial_3_started, std::chrono::seconds(120))) << sweep.out() << sweep.err();
    ASSERT_TRUE(poll_until(
        [&] {
          return sql_value(db_, "SELECT COUNT(*) FROM summaries s JOIN runs r ON r.id = s.run_id "
                                "WHERE r.name = 'k-003'") != "0";
        },
        std::chrono::seconds(60)));
    sweep.send_signal(SIGKILL);
    EXPECT_EQ(sweep.finish().wait_status & 0x7f, SIGKILL);
  }
  // Its trial got SIGTERM (PR_SET_PDEATHSIG) and stops by itself, checkpointing.
  poll_until([&] { return sql_value(db_, "SELECT status FROM runs WHERE name = 'k-003'") != "running"; },
             std::chrono::seconds(60));
  EXPECT_EQ(sql_value(db_, "SELECT status FROM runs WHERE name = 'k-003'"), "stopped");
  const std::string finished_sql =
      "SELECT r.id, r.name, (SELECT COUNT(*) FROM summaries s WHERE s.run_id = r.id), "
      "(SELECT MAX(step) FROM summaries s WHERE s.run_id = r.id) FROM runs r WHERE r.name IN ('k-001', 'k-002') "
      "ORDER BY r.name";
  const Rows before = sql_rows(db_, finished_sql);
  ASSERT_EQ(before.size(), 2u);

  const KilnResult rerun = run_kiln(command, dir_.path());
  ASSERT_EQ(rerun.exit_code(), 0) << rerun.describe();
  EXPECT_THAT(rerun.out, HasSubstr("3 trials, 1 at a time, 2 already done"));
  EXPECT_THAT(rerun.out, Not(HasSubstr("k-001 started")));
  EXPECT_EQ(sql_rows(db_, finished_sql), before);
  EXPECT_EQ(sql_rows(db_, "SELECT name, status FROM runs ORDER BY name"),
            (Rows{{"k-001", "completed"}, {"k-002", "completed"}, {"k-003", "completed"}}));
  EXPECT_EQ(sql_value(db_, "SELECT MAX(step) FROM summaries s JOIN runs r ON r.id = s.run_id WHERE r.name = 'k-003'"),
            "19999");
}

TEST_F(cli_sweep, a_rerun_at_once_after_kill_9_waits_for_the_trial_still_stopping_then_resumes_it) {
  write_experiment("", 30);
  const std::vector<std::string> command = {"sweep", "exp.toml", "--grid", "experiment.max_steps=20000,30",
                                            "--name", "w"};
  {
    KilnProcess sweep(command, dir_.path());
    const auto trial_1_started = [](const KilnProcess& p) { return p.out().find("w-001 started") != std::string::npos; };
    ASSERT_TRUE(sweep.wait_until(trial_1_started, std::chrono::seconds(120))) << sweep.out() << sweep.err();
    ASSERT_TRUE(poll_until(
        [&] {
          return sql_value(db_, "SELECT COUNT(*) FROM summaries s JOIN runs r ON r.id = s.run_id "
                                "WHERE r.name = 'w-001'") != "0";
        },
        std::chrono::seconds(120)))
        << sweep.out() << sweep.err();
    sweep.send_signal(SIGKILL);
    EXPECT_EQ(sweep.finish().wait_status & 0x7f, SIGKILL);
  }
  // At once: the orphaned trial may still be stopping (its SIGTERM came with the sweep's end);
  // the rerun waits for it instead of failing to resume a run that is still running.
  const KilnResult rerun = run_kiln(command, dir_.path());
  ASSERT_EQ(rerun.exit_code(), 0) << rerun.describe();
  EXPECT_THAT(rerun.out, Not(HasSubstr("failed")));
  EXPECT_EQ(sql_rows(db_, "SELECT name, status FROM runs ORDER BY name"),
            (Rows{{"w-001", "completed"}, {"w-002", "completed"}}));
  EXPECT_EQ(sql_value(db_, "SELECT MAX(step) FROM summaries s JOIN runs r ON r.id = s.run_id WHERE r.name = 'w-001'"),
            "19999");
}

TEST_F(cli_sweep, median_stopping_cuts_a_trial_worse_than_the_finished_ones) {
  write_experiment("", 4000);
  // Two good learning rates finish; the third barely learns and is cut at a poll.
  const KilnResult result = run_kiln({"sweep", "exp.toml", "--grid", "optimizers.adam.lr=1e-2,2e-2,1e-9", "--name",
                                      "m", "--metric", "loss/mse", "--median-stop"},
                                     dir_.path(), {{"KILN_SWEEP_POLL_SECONDS", "0.1"}});
  ASSERT_EQ(result.exit_code(), 0) << result.describe();
  EXPECT_EQ(sql_rows(db_, "SELECT run, status, cut_step IS NOT NULL FROM sweep_best ORDER BY run"),
            (Rows{{"m-001", "completed", "0"}, {"m-002", "completed", "0"}, {"m-003", "stopped", "1"}}));
  const std::string cut = sql_value(db_, "SELECT cut_step FROM sweep_trials WHERE trial = 3");
  EXPECT_EQ(sql_value(db_, "SELECT step FROM events e JOIN runs r ON r.id = e.run_id "
                           "WHERE r.name = 'm-003' AND e.kind = 'sweep_cut'"),
            cut);
  EXPECT_THAT(sql_value(db_, "SELECT message FROM events WHERE kind = 'sweep_cut'"),
              StartsWith("median stopping: loss/mse "));
  EXPECT_THAT(result.out, HasSubstr("trial 3 m-003 cut at step " + cut));
  // A cut trial is done: a rerun keeps it.
  const KilnResult rerun = run_kiln({"sweep", "exp.toml", "--grid", "optimizers.adam.lr=1e-2,2e-2,1e-9", "--name", "m",
                                     "--metric", "loss/mse", "--median-stop"},
                                    dir_.path());
  EXPECT_EQ(rerun.exit_code(), 0) << rerun.describe();
  EXPECT_THAT(rerun.out, HasSubstr("3 already done"));
}

TEST_F(cli_sweep, sigint_stops_the_trials_and_exits_130) {
  write_experiment("", 100000);
  KilnProcess sweep({"sweep", "exp.toml", "--grid", "optimizers.adam.lr=1e-3,1e-2", "--name", "c"}, dir_.path());
  ASSERT_TRUE(sweep.wait_until([](const KilnProcess& p) { return p.out().find("c-001 started") != std::string::npos; },
                               std::chrono::seconds(60)));
  ASSERT_TRUE(poll_until([&] { return sql_value(db_, "SELECT COUNT(*) FROM summaries") != "0"; }, std::chrono::seconds(60)));
  sweep.send_signal(SIGINT);
  const KilnResult result = sweep.finish();
  EXPECT_EQ(result.exit_code(), 130) << result.describe();
  EXPECT_THAT(result.out, HasSubstr("sweep c stopped: run the same command again to resume it"));
  EXPECT_EQ(sql_rows(db_, "SELECT name, status FROM runs"), (Rows{{"c-001", "stopped"}}));
}

TEST_F(cli_sweep, some_failed_trials_exit_1_saying_how_many) {
  write_experiment("[plugins]\npaths = [\"" + kiln::test::fixture_dir().string() +
                   "\"]\n[[hooks]]\nplugin = \"throw_at\"\nname = \"flaky\"\nstep = 3\n");
  const KilnResult result = run_kiln({"sweep", "exp.toml", "--grid", "hooks.flaky.step=3,1000", "--name", "p"}, dir_.path());
  EXPECT_TRUE(kiln::test::fails_with_one_error_line(result, 1)) << result.describe();
  EXPECT_EQ(kiln::test::error_line(result),
            "error: 1 of 2 trials did not complete; rerun the same command to retry them");
  EXPECT_THAT(result.out, HasSubstr("trial 1/2 p-001 failed: step 3: throw_at: failing at step 3 as asked (in hook "
                                    "'flaky', after_step) (log: runs/p-001.log)"));
  EXPECT_EQ(sql_rows(db_, "SELECT name, status FROM runs ORDER BY name"),
            (Rows{{"p-001", "failed"}, {"p-002", "completed"}}));
}

TEST_F(cli_sweep, the_sweep_table_declares_a_sweep_and_kiln_run_ignores_it) {
  write_experiment("[sweep]\nname = \"tbl\"\nparallel = 2\nmetric = \"loss/mse\"\n"
                   "grid = { \"data.batch_size\" = [16, 32], \"optimizers.adam.lr\" = [1e-2] }\n");
  const KilnResult run = run_kiln({"run", "exp.toml"}, dir_.path());
  ASSERT_EQ(run.exit_code(), 0) << run.describe();
  const KilnResult result = run_kiln({"sweep", "exp.toml"}, dir_.path());
  ASSERT_EQ(result.exit_code(), 0) << result.describe();
  EXPECT_THAT(result.out, HasSubstr("sweep tbl: 2 trials, 2 at a time"));
  EXPECT_EQ(sql_rows(db_, "SELECT name, sweep_id IS NOT NULL FROM runs ORDER BY name"),
            (Rows{{"t", "0"}, {"tbl-001", "1"}, {"tbl-002", "1"}}));
  EXPECT_EQ(sql_value(db_, "SELECT overrides FROM sweep_trials WHERE trial = 2"),
            R"({"data.batch_size":"32","optimizers.adam.lr":"0.01"})");
  EXPECT_EQ(sql_value(db_, "SELECT metric FROM sweeps"), "loss/mse");
}

}  // namespace
