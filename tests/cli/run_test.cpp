// `kiln run` end to end: what it prints, and what lands in the run directory and the database.
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
using ::testing::_;
using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::MatchesRegex;
using ::testing::Not;
using ::testing::StartsWith;
using Rows = std::vector<std::vector<std::string>>;

/// 30 steps with summaries every 10: steps 0, 10, 20 and the last, 29.
std::string thirty_step_experiment() {
  return mlp_experiment("[supervisor]\nsummary_every_steps = 10\n", /*max_steps=*/30);
}

class cli_run : public ::testing::Test {
 protected:
  void SetUp() override { write_text(dir_, "exp.toml", thirty_step_experiment()); }

  /// `kiln run exp.toml` with `extra_args`, which must succeed.
  KilnResult run(const std::vector<std::string>& extra_args = {}) {
    std::vector<std::string> args = {"run", "exp.toml"};
    args.insert(args.end(), extra_args.begin(), extra_args.end());
    KilnResult result = run_kiln(args, dir_.path());
    EXPECT_EQ(result.exit_code(), 0) << result.describe();
    return result;
  }

  /// The steps at which `tag` was recorded for the run `name`.
  std::vector<std::string> steps(const std::string& name, const std::string& tag) const {
    std::vector<std::string> out;
    for (const auto& row : sql_rows(db_, "SELECT s.step FROM summaries s JOIN runs r ON r.id = s.run_id"
                                         " WHERE r.name = '" + name + "' AND s.tag = '" + tag + "' ORDER BY s.step"))
      out.push_back(row.front());
    return out;
  }

  TempDir dir_;
  fs::path db_ = dir_ / "runs/kiln.db";
};

TEST_F(cli_run, prints_the_run_and_the_database) {
  const KilnResult result = run();
  const std::vector<std::string> out = message_lines(result.out);
  ASSERT_FALSE(out.empty()) << result.describe();
  EXPECT_THAT(out[0], StartsWith("run t completed"));
  EXPECT_THAT(out, Contains(MatchesRegex(" *run directory +runs/t")));
  EXPECT_THAT(out, Contains(MatchesRegex(" *database +runs/kiln\\.db")));
  EXPECT_THAT(message_lines(result.err), IsEmpty()) << "a run that succeeds prints no error";
  EXPECT_TRUE(fs::is_directory(dir_ / "runs/t"));
  EXPECT_EQ(sql_rows(db_, "SELECT name, status, experiment, error FROM runs"),
            (Rows{{"t", "completed", "exp.toml", "NULL"}}));
}

TEST_F(cli_run, records_summaries_every_tenth_step_and_at_the_last) {
  run();
  EXPECT_THAT(steps("t", "loss/mse"), ElementsAre("0", "10", "20", "29"));
  EXPECT_THAT(steps("t", "time/step_ms"), ElementsAre("0", "10", "20", "29"));
}

TEST_F(cli_run, query_csv_counts_the_summaries_per_tag) {
  run();
  const KilnResult result =
      run_kiln({"query", "--csv", "SELECT tag, COUNT(*) FROM summaries GROUP BY tag ORDER BY tag"}, dir_.path());
  ASSERT_EQ(result.exit_code(), 0) << result.describe();
  EXPECT_EQ(result.out, "tag,COUNT(*)\nloss/mse,4\nlr/adam,4\ntime/step_ms,4\n");
  EXPECT_EQ(result.err, "");
}

TEST_F(cli_run, query_json_gives_one_object_per_row) {
  run();
  const KilnResult result = run_kiln({"query", "--json",
                                      "SELECT r.name, r.status, r.error, s.tag, COUNT(*) AS n, MAX(s.step) AS last"
                                      " FROM summaries s JOIN runs r ON r.id = s.run_id GROUP BY s.tag ORDER BY s.tag"},
                                     dir_.path());
  ASSERT_EQ(result.exit_code(), 0) << result.describe();
  EXPECT_EQ(compact_json(result.out),
            "[{\"name\":\"t\",\"status\":\"completed\",\"error\":null,\"tag\":\"loss/mse\",\"n\":4,\"last\":29},"
            "{\"name\":\"t\",\"status\":\"completed\",\"error\":null,\"tag\":\"lr/adam\",\"n\":4,\"last\":29},"
            "{\"name\":\"t\",\"status\":\"completed\",\"error\":null,\"tag\":\"time/step_ms\",\"n\":4,\"last\":29}]");
}

TEST_F(cli_run, runs_lists_the_run_as_completed) {
  run();
  const KilnResult result = run_kiln({"runs"}, dir_.path());
  ASSERT_EQ(result.exit_code(), 0) << result.describe();
  const std::vector<std::string> table = lines(result.out);
  ASSERT_EQ(table.size(), 4u) << result.out;  // header, separator, one run, "(1 row)"
  EXPECT_THAT(table[0], MatchesRegex("id +name +status +steps +started +duration +device +losses +experiment +reason"));
  EXPECT_THAT(table[2], MatchesRegex(" *1 +t +completed +30 +[-0-9]+ [:0-9]+ +[0-9.]+ s +cpu +mse [0-9.e-]+ +exp\\.toml"));
  EXPECT_EQ(table[3], "(1 row)");
}

TEST_F(cli_run, runs_filters_by_status) {
  run();
  const KilnResult completed = run_kiln({"runs", "--status", "completed"}, dir_.path());
  const KilnResult failed = run_kiln({"runs", "--status", "failed"}, dir_.path());
  ASSERT_EQ(completed.exit_code(), 0) << completed.describe();
  ASSERT_EQ(failed.exit_code(), 0) << failed.describe();
  EXPECT_THAT(completed.out, HasSubstr("(1 row)"));
  EXPECT_THAT(failed.out, HasSubstr("(0 rows)"));
}

TEST_F(cli_run, fresh_run_of_the_same_file_gets_the_next_name) {
  run();
  const KilnResult second = run({"--fresh"});
  EXPECT_THAT(message_lines(second.out).at(0), StartsWith("run t-2 completed"));
  EXPECT_EQ(sql_rows(db_, "SELECT name, status FROM runs ORDER BY id"),
            (Rows{{"t", "completed"}, {"t-2", "completed"}}));
  EXPECT_TRUE(fs::is_regular_file(dir_ / "runs/t-2/experiment.toml"));
  EXPECT_THAT(steps("t-2", "loss/mse"), ElementsAre("0", "10", "20", "29"));
}

TEST_F(cli_run, running_a_finished_experiment_again_starts_no_second_run) {
  run();
  const KilnResult again = run();
  EXPECT_THAT(message_lines(again.err), IsEmpty());
  EXPECT_EQ(sql_rows(db_, "SELECT name, status FROM runs"), (Rows{{"t", "completed"}}));
  EXPECT_THAT(steps("t", "loss/mse"), ElementsAre("0", "10", "20", "29"));
}

TEST_F(cli_run, set_overrides_the_steps_actually_run_and_is_recorded) {
  run({"--set", "experiment.max_steps=5"});
  EXPECT_THAT(steps("t", "loss/mse"), ElementsAre("0", "4"));
  EXPECT_EQ(sql_value(db_, "SELECT value FROM params WHERE key = 'experiment.max_steps'"), "5");
  const std::string resolved = read_file(dir_ / "runs/t/experiment.toml");
  EXPECT_THAT(lines(resolved), Contains("max_steps = 5"));
  EXPECT_THAT(resolved, Not(HasSubstr("max_steps = 30")));
}

TEST_F(cli_run, resolved_config_in_the_run_directory_is_the_one_in_the_database) {
  // 0.0625 is exact in binary, so it prints as written (see params_keep_floats_as_written).
  run({"--set", "optimizers.adam.lr=0.0625"});
  const std::string resolved = read_file(dir_ / "runs/t/experiment.toml");
  EXPECT_EQ(resolved, sql_value(db_, "SELECT config FROM runs WHERE name = 't'"));
  EXPECT_THAT(lines(resolved), Contains("lr = 0.0625"));
  EXPECT_EQ(sql_value(db_, "SELECT value FROM params WHERE key = 'optimizers.adam.lr'"), "0.0625");
}

TEST_F(cli_run, params_keep_floats_as_written) {
  run({"--set", "optimizers.adam.lr=3e-3"});
  EXPECT_EQ(sql_value(db_, "SELECT value FROM params WHERE key = 'optimizers.adam.lr'"), "0.003");
  EXPECT_THAT(lines(read_file(dir_ / "runs/t/experiment.toml")), Contains("lr = 0.003"));
}

TEST_F(cli_run, params_hold_the_flattened_config) {
  run();
  EXPECT_EQ(sql_rows(db_, "SELECT key, value FROM params WHERE key IN ('optimizers.adam.lr', 'optimizers.adam.type',"
                          " 'model.plugin', 'model.inputs', 'data.batch_size', 'losses.mse.plugin',"
                          " 'experiment.max_steps', 'supervisor.summary_every_steps') ORDER BY key"),
            (Rows{{"data.batch_size", "16"},
                  {"experiment.max_steps", "30"},
                  {"losses.mse.plugin", "mse"},
                  {"model.inputs", "4"},
                  {"model.plugin", "mlp"},
                  {"optimizers.adam.lr", "0.01"},
                  {"optimizers.adam.type", "adam"},
                  {"supervisor.summary_every_steps", "10"}}));
}

TEST_F(cli_run, plugins_record_the_library_of_every_name) {
  run();
  const Rows plugins = sql_rows(db_, "SELECT kind, name, library, version, abi, path, sha256 FROM plugins ORDER BY kind");
  ASSERT_EQ(plugins.size(), 3u);
  EXPECT_THAT(plugins[0], ElementsAre("dataset", "synthetic_regression", "datasets", "1.0.0", KILN_TEST_SDK_ABI,
                                      ::testing::EndsWith("/libdatasets.so"), MatchesRegex("[0-9a-f]{64}")));
  EXPECT_THAT(plugins[1], ElementsAre("loss", "mse", "losses", "1.0.0", KILN_TEST_SDK_ABI, ::testing::EndsWith("/liblosses.so"),
                                      MatchesRegex("[0-9a-f]{64}")));
  EXPECT_THAT(plugins[2], ElementsAre("model", "mlp", "mlp", "1.0.0", KILN_TEST_SDK_ABI, ::testing::EndsWith("/libmlp.so"),
                                      MatchesRegex("[0-9a-f]{64}")));
}

TEST_F(cli_run, events_record_the_start_and_the_stop) {
  run();
  const Rows events = sql_rows(db_, "SELECT kind, step FROM events ORDER BY id");
  EXPECT_THAT(events, Contains(ElementsAre("start", "0")));
  EXPECT_THAT(events, Contains(ElementsAre("stop", "30")));
  EXPECT_THAT(events, Not(Contains(ElementsAre("failure", _))));
}

TEST_F(cli_run, kiln_db_and_db_option_name_the_database_from_elsewhere) {
  run();
  fs::create_directories(dir_ / "elsewhere");
  const std::string sql = "SELECT name FROM runs";
  const KilnResult by_env =
      run_kiln({"query", "--csv", sql}, dir_ / "elsewhere", {{"KILN_DB", db_.string()}});
  const KilnResult by_option = run_kiln({"query", "--csv", "--db", db_.string(), sql}, dir_ / "elsewhere");
  EXPECT_EQ(by_env.out, "name\nt\n") << by_env.describe();
  EXPECT_EQ(by_option.out, "name\nt\n") << by_option.describe();
}

TEST_F(cli_run, shipped_hello_world_experiment_runs) {
  const fs::path experiment = source_dir() / "experiments/mlp.toml";
  const KilnResult result = run_kiln({"run", experiment.string(), "--set", "experiment.max_steps=20", "--set",
                                      "experiment.threads=1"},
                                     dir_.path());
  ASSERT_EQ(result.exit_code(), 0) << result.describe();
  EXPECT_THAT(message_lines(result.out).at(0), StartsWith("run mlp completed"));
  EXPECT_EQ(sql_value(db_, "SELECT experiment FROM runs"), experiment.string());
  EXPECT_THAT(steps("mlp", "loss/mse"), ElementsAre("0", "10", "19"));
}

TEST_F(cli_run, running_a_finished_run_again_changes_nothing) {
  run();
  const Rows events = sql_rows(db_, "SELECT id, kind, message FROM events ORDER BY id");
  const Rows runs = sql_rows(db_, "SELECT status, started, ended, config_hash FROM runs");
  const std::string config = read_file(dir_ / "runs/t/experiment.toml");
  const KilnResult again = run();
  EXPECT_EQ(message_lines(again.out).at(0),
            "run t already reached max_steps (30) at step 30; raise it to train on (--set experiment.max_steps=N), "
            "or start another run with --fresh");
  EXPECT_EQ(sql_rows(db_, "SELECT id, kind, message FROM events ORDER BY id"), events);
  EXPECT_EQ(sql_rows(db_, "SELECT status, started, ended, config_hash FROM runs"), runs);
  EXPECT_EQ(read_file(dir_ / "runs/t/experiment.toml"), config);
}

TEST_F(cli_run, resuming_with_a_changed_experiment_warns_and_records_what_changed) {
  run();
  const KilnResult resumed = run({"--set", "experiment.max_steps=40", "--set", "optimizers.adam.lr=0.02"});
  EXPECT_THAT(resumed.err, HasSubstr("run t resumes with a changed experiment (experiment.max_steps, "
                                     "optimizers.adam.lr); kiln run --fresh starts another run instead"));
  EXPECT_EQ(sql_value(db_, "SELECT message FROM events WHERE kind = 'resume'"),
            "resuming run t (it was completed) with a changed experiment: experiment.max_steps, optimizers.adam.lr");
  EXPECT_EQ(sql_value(db_, "SELECT status FROM runs"), "completed");
}

TEST_F(cli_run, a_checkpoint_that_no_longer_fits_says_what_changed_and_how_to_start_afresh) {
  run();
  const KilnResult resumed =
      run_kiln({"run", "exp.toml", "--set", "experiment.max_steps=40", "--set", "model.hidden=[16]"}, dir_.path());
  EXPECT_EQ(resumed.exit_code(), 1) << resumed.describe();
  EXPECT_THAT(error_line(resumed), HasSubstr("does not fit this experiment"));
  EXPECT_THAT(error_line(resumed), HasSubstr("(the experiment changed since this run began: experiment.max_steps, "
                                             "model.hidden; its checkpoints are intact, and kiln run --fresh starts "
                                             "another run)"));
  // The checkpoint is still there for a run with the old experiment.
  EXPECT_TRUE(fs::exists(dir_ / "runs/t/checkpoints/ckpt-30.kiln"));
}

TEST_F(cli_run, a_hook_that_fails_is_named_in_the_error) {
  write_text(dir_, "exp.toml",
             thirty_step_experiment() + "[plugins]\npaths = [\"" + fixture_dir().string() +
                 "\"]\n[[hooks]]\nplugin = \"throw_at\"\nname = \"flaky\"\nstep = 3\n");
  const KilnResult result = run_kiln({"run", "exp.toml"}, dir_.path());
  EXPECT_TRUE(fails_with_one_error_line(result, 1));
  // The step is the run's global step as the hook saw it.
  const std::string why = "step 3: throw_at: failing at step 3 as asked (in hook 'flaky', after_step)";
  EXPECT_EQ(error_line(result), "error: run t failed at " + why);
  EXPECT_EQ(sql_value(db_, "SELECT error FROM runs"), why);
}

TEST_F(cli_run, kiln_db_names_the_database_a_run_writes_unless_the_experiment_does) {
  const fs::path shared = dir_ / "shared/all.db";
  const KilnResult by_env = run_kiln({"run", "exp.toml"}, dir_.path(), {{"KILN_DB", shared.string()}});
  ASSERT_EQ(by_env.exit_code(), 0) << by_env.describe();
  EXPECT_EQ(sql_value(shared, "SELECT name FROM runs"), "t");
  EXPECT_FALSE(fs::exists(db_));
  // `kiln runs` with the same environment finds it.
  EXPECT_THAT(run_kiln({"runs"}, dir_.path(), {{"KILN_DB", shared.string()}}).out, HasSubstr("(1 row)"));

  write_text(dir_, "own.toml", replace_once(thirty_step_experiment(), "name = \"t\"\n",
                                            "name = \"own\"\ndatabase = \"own.db\"\n"));
  const KilnResult own = run_kiln({"run", "own.toml"}, dir_.path(), {{"KILN_DB", shared.string()}});
  ASSERT_EQ(own.exit_code(), 0) << own.describe();
  EXPECT_EQ(sql_value(dir_ / "own.db", "SELECT name FROM runs"), "own");
  EXPECT_EQ(sql_value(shared, "SELECT COUNT(*) FROM runs"), "1");
}

TEST_F(cli_run, a_resumed_run_does_not_evaluate_step_0_again) {
  write_text(dir_, "exp.toml",
             thirty_step_experiment() +
                 "[eval_data]\nplugin = \"synthetic_regression\"\nsize = 32\ninputs = 4\n"
                 "[[hooks]]\nplugin = \"evaluate\"\nevery_steps = 10\nprediction = \"prediction\"\n"
                 "target = \"y\"\naveraged = false\n");
  run();
  const Rows first = sql_rows(db_, "SELECT step, value, wall_time FROM summaries WHERE tag = 'eval/l1' ORDER BY step");
  ASSERT_EQ(first.size(), 4u);  // steps 0, 10, 20 and the end, 30
  EXPECT_EQ(first[0][0], "0");
  run({"--set", "experiment.max_steps=50"});
  const Rows after = sql_rows(db_, "SELECT step, value, wall_time FROM summaries WHERE tag = 'eval/l1' ORDER BY step");
  ASSERT_EQ(after.size(), 6u);  // and 40, 50
  // Step 0 is the untrained model's value from the first process, not measured again.
  EXPECT_EQ(after[0], first[0]);
  EXPECT_EQ(after[5][0], "50");
}

}  // namespace
}  // namespace kiln::test
