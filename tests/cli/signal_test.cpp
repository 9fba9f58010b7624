// Runs that end early: SIGINT and SIGTERM stop a run cleanly; a step that throws fails it.
#include <csignal>
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
using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::MatchesRegex;
using ::testing::StartsWith;
using Rows = std::vector<std::vector<std::string>>;
using namespace std::chrono_literals;

/// Starts a run far too long to finish, waits for its first progress line, sends `signal`,
/// and checks that it stops cleanly: exit 0, status stopped, the signal in the events.
void expect_clean_stop_on(int signal, const std::string& name) {
  TempDir dir;
  write_text(dir, "exp.toml", mlp_experiment("[supervisor]\nlog_every_steps = 1\n", /*max_steps=*/1000000000));
  KilnProcess kiln({"run", "exp.toml"}, dir.path());
  // kiln installs its signal handlers before the first step, so once a progress line shows
  // the signal is kiln's to handle.
  const auto progress = [](const KilnProcess& p) { return has_progress_line(p.err()); };
  ASSERT_TRUE(kiln.wait_until(progress, 60s)) << "no progress line within 60 s:\n" << kiln.out() << kiln.err();
  kiln.send_signal(signal);
  const KilnResult result = kiln.finish();

  ASSERT_TRUE(result.exited()) << result.describe();
  EXPECT_EQ(result.exit_code(), 0) << result.describe();
  EXPECT_THAT(message_lines(result.err), IsEmpty());
  const std::vector<std::string> out = message_lines(result.out);
  ASSERT_FALSE(out.empty()) << result.describe();
  EXPECT_THAT(out[0], StartsWith("run t stopped"));
  EXPECT_THAT(out[0], HasSubstr(name));

  const fs::path db = dir / "runs/kiln.db";
  EXPECT_EQ(sql_rows(db, "SELECT status, error FROM runs"), (Rows{{"stopped", "NULL"}}));
  const Rows signals = sql_rows(db, "SELECT message FROM events WHERE kind = 'signal'");
  ASSERT_EQ(signals.size(), 1u);
  const std::string prefix = name + " received: stopping at step ";
  ASSERT_THAT(signals[0][0], MatchesRegex(prefix + "[0-9]+"));
  const std::string stopped_at = signals[0][0].substr(prefix.size());
  // The run stops right after the step that saw the signal (step N - 1 of N completed), and
  // that step gets its summaries.
  EXPECT_EQ(sql_value(db, "SELECT MAX(step) FROM summaries WHERE tag = 'loss/mse'"),
            std::to_string(std::stoll(stopped_at) - 1));
  EXPECT_EQ(sql_value(db, "SELECT step FROM events WHERE kind = 'stop'"), stopped_at);
  EXPECT_EQ(sql_value(db, "SELECT step FROM events WHERE kind = 'signal'"), stopped_at);

  const KilnResult runs = run_kiln({"runs"}, dir.path());
  ASSERT_EQ(runs.exit_code(), 0) << runs.describe();
  EXPECT_THAT(lines(runs.out), Contains(MatchesRegex(" *1 +t +stopped +.*")));
}

TEST(cli_signals, sigint_stops_the_run_cleanly) { expect_clean_stop_on(SIGINT, "SIGINT"); }

TEST(cli_signals, sigterm_stops_the_run_cleanly) { expect_clean_stop_on(SIGTERM, "SIGTERM"); }

TEST(cli_signals, progress_lines_go_to_stderr) {
  TempDir dir;
  write_text(dir, "exp.toml", mlp_experiment("[supervisor]\nlog_every_steps = 10\n", /*max_steps=*/30));
  const KilnResult result = run_kiln({"run", "exp.toml"}, dir.path());
  ASSERT_EQ(result.exit_code(), 0) << result.describe();
  EXPECT_TRUE(has_progress_line(result.err)) << result.describe();
  EXPECT_FALSE(has_progress_line(result.out)) << result.describe();
}

TEST(cli_failures, loss_that_throws_fails_the_run_with_exit_code_1) {
  TempDir dir;
  const std::string text =
      replace_once(mlp_experiment(), "plugin = \"mse\"\n", "plugin = \"mse\"\nprediction = \"nope\"\n");
  write_text(dir, "exp.toml", text);
  const KilnResult result = run_kiln({"run", "exp.toml"}, dir.path());

  EXPECT_TRUE(fails_with_one_error_line(result, 1));
  const std::string why =
      "step 0: in loss 'mse' (phase 'adam'): no tensor 'nope' in outputs (has: prediction)";
  EXPECT_EQ(error_line(result), "error: run t failed at " + why);
  EXPECT_THAT(message_lines(result.out), IsEmpty());

  const fs::path db = dir / "runs/kiln.db";
  EXPECT_EQ(sql_rows(db, "SELECT name, status, error, ended IS NOT NULL FROM runs"),
            (Rows{{"t", "failed", why, "1"}}));
  EXPECT_THAT(sql_rows(db, "SELECT kind, step, message FROM events ORDER BY id"),
              Contains(std::vector<std::string>{"failure", "0", why}));

  const KilnResult runs = run_kiln({"runs", "--status", "failed"}, dir.path());
  ASSERT_EQ(runs.exit_code(), 0) << runs.describe();
  EXPECT_THAT(lines(runs.out), Contains(MatchesRegex(" *1 +t +failed +.*")));
}

TEST(cli_failures, an_evaluation_of_shapes_that_would_broadcast_is_refused_at_its_key_before_the_run) {
  TempDir dir;
  // The evaluate hook compares the prediction ([8, 1]) with the batch's inputs x ([8, 4]) by
  // mistake: element by element they would broadcast to [8, 4] and give a meaningless eval/mse.
  // Its prepare() runs one held-out batch, so run and validate refuse it before anything is written.
  const std::string text = mlp_experiment(
      "[eval_data]\nplugin = \"synthetic_regression\"\nsize = 8\ninputs = 4\n"
      "[[hooks]]\nplugin = \"evaluate\"\nprediction = \"prediction\"\ntarget = \"x\"\nmetric = \"mse\"\n"
      "every_steps = 2\ncount = 8\n",
      4);
  write_text(dir, "exp.toml", text);
  for (const char* command : {"run", "validate"}) {
    const KilnResult result = run_kiln({command, "exp.toml"}, dir.path());
    EXPECT_TRUE(fails_with_one_error_line(result, 2)) << command;
    EXPECT_EQ(error_line(result),
              "error: exp.toml:30:10: hooks.evaluate.target: model output 'prediction' has shape [8, 1] and eval batch "
              "entry 'x' has shape [8, 4]; they differ and would broadcast to [8, 4] — reshape one of them")
        << command;
    EXPECT_FALSE(fs::exists(dir / "runs" / "kiln.db")) << command;
  }
  // A prediction the model does not output is refused at its key too.
  write_text(dir, "exp.toml", replace_once(text, "prediction = \"prediction\"", "prediction = \"pred\""));
  const KilnResult result = run_kiln({"validate", "exp.toml"}, dir.path());
  EXPECT_TRUE(fails_with_one_error_line(result, 2));
  EXPECT_EQ(error_line(result),
            "error: exp.toml:29:14: hooks.evaluate.prediction: the model outputs no 'pred' (outputs: prediction)");
}

}  // namespace
}  // namespace kiln::test
