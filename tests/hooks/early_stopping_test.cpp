// The built-in early_stopping hook: its table, when it stops (min, max, min_delta, NaN),
// the best checkpoint it keeps, its state across a resume, and a tag never recorded.
#include <cmath>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "../support/run_fixture.hpp"
#include "config/experiment.hpp"
#include "hooks/early_stopping.hpp"
#include "store/checkpoints.hpp"
#include "store/history.hpp"
#include "store/query.hpp"
#include "train/null_run.hpp"

namespace kiln::runner {
namespace {

using kiln::test::mlp_experiment;
using kiln::test::RunFixture;
using kiln::test::TempDir;
using kiln::test::write_text;

namespace fs = std::filesystem;

// ---- Its table ------------------------------------------------------------------------

/// The options of an mlp experiment with `extra` at its end, read as run setup reads them.
EarlyStopping::Options options_of(const std::string& extra, bool has_saver = true) {
  TempDir dir;
  const ExperimentSpec spec = load_experiment(write_text(dir, "exp.toml", mlp_experiment(extra)));
  return EarlyStopping::Options::read(*spec.early_stopping, has_saver);
}

/// The error reading them is, the file's path shown as exp.toml.
std::string error_of(const std::string& extra, bool has_saver = true) {
  TempDir dir;
  const auto file = write_text(dir, "exp.toml", mlp_experiment(extra));
  try {
    EarlyStopping::Options::read(*load_experiment(file).early_stopping, has_saver);
  } catch (const ConfigError& e) {
    const std::string what = e.what();
    return what.rfind(file.string(), 0) == 0 ? "exp.toml" + what.substr(file.string().size()) : what;
  }
  return "(no error)";
}

TEST(early_stopping_options, monitor_alone_gives_the_defaults) {
  const EarlyStopping::Options options = options_of("[early_stopping]\nmonitor = \"eval/l1\"\n");
  EXPECT_EQ(options.monitor, "eval/l1");
  EXPECT_FALSE(options.maximize);
  EXPECT_EQ(options.patience, 5);
  EXPECT_EQ(options.min_delta, 0.0);
  EXPECT_TRUE(options.keep_best);
  // Without a saver there is nothing to keep: keep_best defaults to false.
  EXPECT_FALSE(options_of("[early_stopping]\nmonitor = \"eval/l1\"\n", /*has_saver=*/false).keep_best);
}

TEST(early_stopping_options, are_read_from_the_table) {
  const EarlyStopping::Options options = options_of(
      "[early_stopping]\nmonitor = \"eval/psnr\"\nmode = \"max\"\npatience = 3\nmin_delta = 0.5\nkeep_best = false\n");
  EXPECT_EQ(options.monitor, "eval/psnr");
  EXPECT_TRUE(options.maximize);
  EXPECT_EQ(options.patience, 3);
  EXPECT_EQ(options.min_delta, 0.5);
  EXPECT_FALSE(options.keep_best);
}

TEST(early_stopping_options, bad_values_are_errors_at_their_keys) {
  EXPECT_EQ(error_of("[early_stopping]\npatience = 3\n"), "exp.toml:23:1: [early_stopping]: missing key 'monitor' (has: patience)");
  EXPECT_EQ(error_of("[early_stopping]\nmonitor = \"\"\n"),
            "exp.toml:24:11: early_stopping.monitor: must name a summary tag, such as \"eval/l1\"");
  EXPECT_EQ(error_of("[early_stopping]\nmonitor = \"eval/l1\"\nmode = \"mx\"\n"),
            "exp.toml:25:8: early_stopping.mode: expected \"min\" or \"max\", got \"mx\"; did you mean \"max\"?");
  EXPECT_EQ(error_of("[early_stopping]\nmonitor = \"eval/l1\"\npatience = 0\n"),
            "exp.toml:25:12: early_stopping.patience: must be greater than 0, got 0");
  EXPECT_EQ(error_of("[early_stopping]\nmonitor = \"eval/l1\"\nmin_delta = -0.1\n"),
            "exp.toml:25:13: early_stopping.min_delta: must be 0 or more, got -0.1");
  EXPECT_EQ(error_of("[early_stopping]\nmonitor = \"eval/l1\"\nkeep_best = true\n", /*has_saver=*/false),
            "exp.toml:25:13: early_stopping.keep_best: keep_best = true needs the saver, and this experiment has "
            "[saver] enabled = false");
}

TEST(early_stopping_options, a_misspelled_key_is_an_unknown_key_and_keep_best_without_a_saver_fails_setup) {
  TempDir dir;
  try {
    RunFixture run(dir, mlp_experiment("[early_stopping]\nmonitor = \"eval/l1\"\npatiense = 2\n", 10));
    ADD_FAILURE() << "patiense was accepted";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("unknown key 'patiense' in [early_stopping]; did you mean 'patience'?"),
              std::string::npos)
        << e.what();
  }
  try {
    RunFixture run(dir, mlp_experiment("[saver]\nenabled = false\n[early_stopping]\nmonitor = \"m\"\nkeep_best = true\n", 10));
    ADD_FAILURE() << "keep_best without a saver was accepted";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("early_stopping.keep_best: keep_best = true needs the saver"), std::string::npos)
        << e.what();
  }
}

TEST(early_stopping_options, the_mode_follows_the_experiments_summaries_rules_and_may_not_contradict_them) {
  // No mode: the rules decide ("eval/a*" covers eval/acc; the exact rule wins for eval/acc_loss).
  const std::vector<std::pair<std::string, std::string>> rules = {{"eval/a*", "max"}, {"eval/acc_loss", "min"}};
  TempDir file_dir;
  const auto spec = load_experiment(
      write_text(file_dir, "exp.toml", mlp_experiment("[early_stopping]\nmonitor = \"eval/acc\"\n")));
  EXPECT_TRUE(EarlyStopping::Options::read(*spec.early_stopping, true, rules).maximize);
  const auto loss_spec = load_experiment(
      write_text(file_dir, "loss.toml", mlp_experiment("[early_stopping]\nmonitor = \"eval/acc_loss\"\n")));
  EXPECT_FALSE(EarlyStopping::Options::read(*loss_spec.early_stopping, true, rules).maximize);  // the exact rule
  // A mode that says otherwise is an error at mode, through run setup as kiln run reads it.
  TempDir dir;
  try {
    RunFixture run(dir, mlp_experiment("[summaries]\nmaximize = [\"eval/mse\"]\n[early_stopping]\nmonitor = "
                                       "\"eval/mse\"\nmode = \"min\"\n",
                                       10));
    ADD_FAILURE() << "a mode contradicting [summaries] was accepted";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("early_stopping.mode: mode = \"min\", but [summaries] maximize lists "
                                         "\"eval/mse\", which covers eval/mse: early stopping and the run's best "
                                         "values would disagree; drop `mode` or change the rule"),
              std::string::npos)
        << e.what();
  }
}

// ---- The hook on a scripted run ---------------------------------------------------------

/// A run whose monitored tag takes scripted values; records keeps, stops and events.
class ScriptedRun final : public NullRun {
 public:
  std::int64_t global_step() const override { return step; }
  std::optional<SummaryValue> latest_summary(std::string_view tag) const override {
    auto it = latest.find(std::string(tag));
    if (it == latest.end()) return std::nullopt;
    return it->second;
  }
  void keep_checkpoint(std::string_view reason) override { keeps.emplace_back(step, std::string(reason)); }
  void request_stop(std::string_view why) override {
    if (!stopped) reason = std::string(why);
    stopped = true;
  }
  bool stop_requested() const override { return stopped; }
  std::string stop_reason() const override { return reason; }
  void event(std::string_view kind, std::string_view message) override {
    events.emplace_back(std::string(kind), std::string(message));
  }

  std::int64_t step = 0;
  std::map<std::string, SummaryValue> latest;
  std::vector<std::pair<std::int64_t, std::string>> keeps;
  std::vector<std::pair<std::string, std::string>> events;
  bool stopped = false;
  std::string reason;
};

EarlyStopping::Options monitor(const std::string& tag, bool maximize, std::int64_t patience, double min_delta) {
  EarlyStopping::Options options;
  options.monitor = tag;
  options.maximize = maximize;
  options.patience = patience;
  options.min_delta = min_delta;
  return options;
}

/// Evaluations every 10 steps from step 10 with `values`, one step of after_step each; the
/// step at which a stop was asked for, or -1.
std::int64_t drive(EarlyStopping& hook, ScriptedRun& run, const std::vector<double>& values, std::size_t first = 0) {
  for (std::size_t i = first; i < values.size(); ++i) {
    run.step = 10 * static_cast<std::int64_t>(i + 1);
    run.latest["m"] = {run.step, values[i]};
    Step step(run, run.step);
    hook.after_step(step);
    if (run.stopped) return run.step;
  }
  return -1;
}

TEST(early_stopping, min_mode_stops_after_patience_evaluations_without_improvement_and_keeps_each_best) {
  EarlyStopping hook(monitor("m", /*maximize=*/false, /*patience=*/3, /*min_delta=*/0));
  ScriptedRun run;
  // Best 0.8 at step 20; 0.9, 0.85 and a tie, 0.8, are no improvements: the third stops.
  EXPECT_EQ(drive(hook, run, {1.0, 0.8, 0.9, 0.85, 0.8, 0.1}), 50);
  EXPECT_EQ(run.keeps, (std::vector<std::pair<std::int64_t, std::string>>{{10, "best"}, {20, "best"}}));
  EXPECT_EQ(run.reason, "early stopping: m did not improve on 0.8 (step 20) by more than 0 in 3 evaluations");
  EXPECT_EQ(run.events, (std::vector<std::pair<std::string, std::string>>{{"early_stopping", run.reason}}));
  EXPECT_EQ(hook.best_step(), 20);
  EXPECT_EQ(hook.evaluations(), 5);
}

TEST(early_stopping, max_mode_with_min_delta_needs_more_than_min_delta_to_improve) {
  EarlyStopping hook(monitor("m", /*maximize=*/true, /*patience=*/2, /*min_delta=*/0.02));
  ScriptedRun run;
  // 0.6 beats 0.5 by 0.1; 0.615 beats 0.6 by only 0.015 (1); 0.7 beats it (reset); 0.71
  // and 0.705 do not beat 0.7 by 0.02: the second of them stops.
  EXPECT_EQ(drive(hook, run, {0.5, 0.6, 0.615, 0.7, 0.71, 0.705, 0.9}), 60);
  EXPECT_EQ(run.keeps, (std::vector<std::pair<std::int64_t, std::string>>{{10, "best"}, {20, "best"}, {40, "best"}}));
  EXPECT_EQ(run.reason, "early stopping: m did not improve on 0.7 (step 40) by more than 0.02 in 2 evaluations");
}

TEST(early_stopping, min_mode_min_delta_and_a_value_that_is_not_finite_count_as_no_improvement) {
  EarlyStopping hook(monitor("m", /*maximize=*/false, /*patience=*/2, /*min_delta=*/0.1));
  ScriptedRun run;
  // 1.95 is within 0.1 of 2 (1), NaN (2): stop at the fourth evaluation, best still 2.
  EXPECT_EQ(drive(hook, run, {3.0, 2.0, 1.95, std::numeric_limits<double>::quiet_NaN(), 0.0}), 40);
  EXPECT_EQ(run.reason, "early stopping: m did not improve on 2 (step 20) by more than 0.1 in 2 evaluations");
  EarlyStopping never(monitor("m", false, 2, 0));
  ScriptedRun nan_run;
  const double nan = std::numeric_limits<double>::quiet_NaN();
  EXPECT_EQ(drive(never, nan_run, {nan, nan, 1.0}), 20);
  EXPECT_EQ(nan_run.reason, "early stopping: m had no finite value in 2 evaluations");
  EXPECT_TRUE(nan_run.keeps.empty());
}

TEST(early_stopping, only_a_newer_step_of_the_tag_is_an_evaluation) {
  EarlyStopping hook(monitor("m", false, /*patience=*/1, 0));
  ScriptedRun run;
  run.latest["m"] = {10, 1.0};
  for (run.step = 10; run.step < 30; ++run.step) {  // the same value seen for 20 steps
    Step step(run, run.step);
    hook.after_step(step);
  }
  EXPECT_EQ(hook.evaluations(), 1);
  EXPECT_FALSE(run.stopped);
  run.latest["other"] = {40, 0.0};  // another tag is not this one
  Step step(run, run.step);
  hook.after_step(step);
  EXPECT_EQ(hook.evaluations(), 1);
}

TEST(early_stopping, keep_best_false_keeps_nothing) {
  EarlyStopping::Options options = monitor("m", false, 2, 0);
  options.keep_best = false;
  EarlyStopping hook(options);
  ScriptedRun run;
  EXPECT_EQ(drive(hook, run, {1.0, 0.5, 0.6, 0.7}), 40);
  EXPECT_TRUE(run.keeps.empty());
}

TEST(early_stopping, state_round_trip_continues_to_the_same_stop) {
  const std::vector<double> values = {5, 4, 3, 3.5, 3.2, 3.1, 3.05, 2.0};
  EarlyStopping whole(monitor("m", false, 3, 0));
  ScriptedRun uninterrupted;
  const std::int64_t stop = drive(whole, uninterrupted, values);
  ASSERT_EQ(stop, 60);

  // Four evaluations, then the state (as a checkpoint holds it, through tensors) into a new hook.
  EarlyStopping first(monitor("m", false, 3, 0));
  ScriptedRun before;
  ASSERT_EQ(drive(first, before, {values.begin(), values.begin() + 4}), -1);
  const TensorMap state = first.state();
  EXPECT_EQ(state.names(),
            (std::vector<std::string>{"best_step", "best_value", "evaluations", "last_step", "without_improvement"}));
  EXPECT_EQ(state.at("best_value").item<double>(), 3.0);
  EXPECT_EQ(state.at("best_step").item<std::int64_t>(), 30);
  EXPECT_EQ(state.at("without_improvement").item<std::int64_t>(), 1);
  EXPECT_EQ(state.at("last_step").item<std::int64_t>(), 40);
  EarlyStopping second(monitor("m", false, 3, 0));
  second.load_state(state);
  ScriptedRun after;
  // The resumed process sees the step-40 value again (its hook records it at begin, say): not counted.
  after.step = 40;
  after.latest["m"] = {40, 3.5};
  Step again(after, 40);
  second.after_step(again);
  EXPECT_EQ(second.evaluations(), 4);
  EXPECT_EQ(drive(second, after, values, /*first=*/4), stop);
  EXPECT_EQ(after.reason, uninterrupted.reason);
  EXPECT_EQ(second.best_step(), 30);
}

TEST(early_stopping, a_run_resumed_after_it_stopped_stops_at_once_unless_patience_grew) {
  EarlyStopping first(monitor("m", false, 2, 0));
  ScriptedRun run;
  ASSERT_EQ(drive(first, run, {1.0, 2.0, 3.0}), 30);
  EarlyStopping same(monitor("m", false, 2, 0));
  same.load_state(first.state());
  ScriptedRun resumed;
  same.begin(resumed);
  EXPECT_TRUE(resumed.stopped);
  EXPECT_EQ(resumed.reason, run.reason);
  EarlyStopping patient(monitor("m", false, 3, 0));
  patient.load_state(first.state());
  ScriptedRun more;
  patient.begin(more);
  EXPECT_FALSE(more.stopped);
}

TEST(early_stopping, a_tag_never_recorded_is_an_event_at_the_end) {
  EarlyStopping hook(monitor("eval/l11", false, 2, 0));
  ScriptedRun run;
  run.latest["eval/l1"] = {10, 1.0};
  for (run.step = 1; run.step <= 20; ++run.step) {
    Step step(run, run.step);
    hook.after_step(step);
  }
  run.step = 20;
  hook.end(run);
  ASSERT_EQ(run.events.size(), 1u);
  EXPECT_EQ(run.events[0].first, "early_stopping");
  EXPECT_EQ(run.events[0].second,
            "eval/l11 was never recorded in this run's 20 steps, so early stopping never ran; is it the tag a hook "
            "writes (kiln show lists the run's tags)?");
  // Once seen, no such event.
  EarlyStopping seen(monitor("eval/l1", false, 2, 0));
  ScriptedRun other;
  other.latest["eval/l1"] = {10, 1.0};
  other.step = 10;
  Step step(other, 10);
  seen.after_step(step);
  seen.end(other);
  EXPECT_TRUE(other.events.empty());
}


// ---- In a run: the trainer, the saver and the store -------------------------------------

/// An evaluation hook: every 10 steps, eval/score takes the next of `values`
/// (a function of the step, so a resumed run sees what an uninterrupted one does).
class ScriptedMetric : public Hook {
 public:
  explicit ScriptedMetric(std::vector<double> values) : values_(std::move(values)) {}
  void after_step(Step& step) override {
    const std::int64_t k = step.run().global_step();
    const std::size_t i = static_cast<std::size_t>(k / 10) - 1;
    if (k % 10 == 0 && i < values_.size()) step.run().summary("eval/score", k, values_[i]);
  }

 private:
  std::vector<double> values_;
};

/// Best 3 at step 30; 40, 50 and 60 do not improve on it: patience 3 stops at step 60.
const std::vector<double> kScores = {5, 4, 3, 3.5, 3.2, 3.1, 3.05, 2.0, 1.0, 0.5};
const std::string kStopReason = "early stopping: eval/score did not improve on 3 (step 30) by more than 0 in 3 evaluations";

std::string with_early_stopping(long max_steps, const std::string& extra = "") {
  return mlp_experiment("[early_stopping]\nmonitor = \"eval/score\"\npatience = 3\n" + extra, max_steps);
}

const std::vector<std::string> kSaving = {"saver.every_steps=20", "saver.max_to_keep=1", "supervisor.log_every_steps=0"};

std::vector<std::string> column(const fs::path& db, const std::string& sql) {
  std::vector<std::string> out;
  for (const auto& row : store::query_readonly(db, sql).rows) {
    const auto& cell = row.at(0);
    if (auto* s = std::get_if<std::string>(&cell)) out.push_back(*s);
    else if (auto* i = std::get_if<std::int64_t>(&cell)) out.push_back(std::to_string(*i));
    else out.push_back("NULL");
  }
  return out;
}

RunOutcome run_scripted(const TempDir& dir, const std::string& text, const std::vector<std::string>& overrides = kSaving) {
  RunFixture run(dir, text, overrides);
  run.trainer.add_hook("scores", std::make_shared<ScriptedMetric>(kScores));
  return run.execute();
}

TEST(early_stopping_run, stops_at_the_right_evaluation_and_keeps_the_best_checkpoint_through_retention) {
  TempDir dir;
  const RunOutcome outcome = run_scripted(dir, with_early_stopping(200));
  ASSERT_EQ(outcome.status, "stopped") << outcome.error;
  EXPECT_EQ(outcome.step, 60);
  EXPECT_EQ(outcome.stop_reason, kStopReason);
  const fs::path db = dir / "runs" / "kiln.db";
  // Bests at 10 (written for it), 20 (a save anyway), 30 (written for it); max_to_keep = 1
  // deleted 10, 20 and 40 once each was neither the best nor the newest.
  EXPECT_EQ(column(db, "SELECT step || ':' || reason || ':' || kept FROM checkpoints WHERE deleted IS NULL ORDER BY step"),
            (std::vector<std::string>{"30:best:best", "60:steps:max_to_keep"}));
  EXPECT_EQ(column(db, "SELECT step FROM checkpoints WHERE deleted IS NOT NULL ORDER BY step"),
            (std::vector<std::string>{"10", "20", "40"}));
  EXPECT_TRUE(fs::exists(dir / "runs" / "t" / "checkpoints" / "ckpt-30.kiln"));
  EXPECT_FALSE(fs::exists(dir / "runs" / "t" / "checkpoints" / "ckpt-40.kiln"));
  EXPECT_EQ(column(db, "SELECT step || ': ' || message FROM events WHERE kind = 'early_stopping'"),
            std::vector<std::string>{"60: " + kStopReason});
  // What kiln runs shows for a stopped run: its last stop event, which names the reason.
  store::Database read(db, store::OpenMode::read_only);
  const std::optional<store::EventRow> stop = store::last_event(read, 1, "stop");
  ASSERT_TRUE(stop);
  EXPECT_EQ(stop->message.rfind("stopped (" + kStopReason + ") at step 60 after ", 0), 0u) << stop->message;
  const std::optional<store::CheckpointRow> best = store::kept_checkpoint(read, 1, store::kKeptBest);
  ASSERT_TRUE(best);
  EXPECT_EQ(best->step, 30);
}

TEST(early_stopping_run, max_mode_keeps_the_highest) {
  TempDir dir;
  const RunOutcome outcome =
      run_scripted(dir, with_early_stopping(200, "mode = \"max\"\nmin_delta = 0.5\n"));
  // Highest first: 5 at step 10; nothing beats it by more than 0.5: 20, 30, 40 stop it.
  ASSERT_EQ(outcome.status, "stopped") << outcome.error;
  EXPECT_EQ(outcome.step, 40);
  EXPECT_EQ(outcome.stop_reason,
            "early stopping: eval/score did not improve on 5 (step 10) by more than 0.5 in 3 evaluations");
  EXPECT_EQ(column(dir / "runs" / "kiln.db", "SELECT step FROM checkpoints WHERE kept = 'best'"),
            std::vector<std::string>{"10"});
  // Its mode is the monitored tag's direction: metrics_best's best is the highest value.
  EXPECT_EQ(column(dir / "runs" / "kiln.db",
                   "SELECT direction || ':' || source FROM summary_directions WHERE pattern = 'eval/score'"),
            std::vector<std::string>{"max:hook"});
  EXPECT_EQ(column(dir / "runs" / "kiln.db",
                   "SELECT direction || ':' || best_value || ':' || best_step FROM metrics_best WHERE tag = 'eval/score'"),
            std::vector<std::string>{"max:5.0:10"});
}

TEST(early_stopping_run, a_resumed_run_stops_at_the_same_evaluation_as_an_uninterrupted_one) {
  TempDir whole;
  const RunOutcome uninterrupted = run_scripted(whole, with_early_stopping(200));
  ASSERT_EQ(uninterrupted.status, "stopped");

  // Killed at 45 (its final checkpoint holds one evaluation without improvement), resumed.
  TempDir parts;
  ASSERT_EQ(run_scripted(parts, with_early_stopping(45)).status, "completed");
  const fs::path db = parts / "runs" / "kiln.db";
  EXPECT_EQ(column(db, "SELECT step FROM checkpoints WHERE kept = 'best'"), std::vector<std::string>{"30"});
  const RunOutcome resumed = run_scripted(parts, with_early_stopping(200));
  ASSERT_EQ(resumed.status, "stopped") << resumed.error;
  EXPECT_EQ(resumed.step, uninterrupted.step);
  EXPECT_EQ(resumed.steps_run, 15);
  EXPECT_EQ(resumed.stop_reason, uninterrupted.stop_reason);
  EXPECT_EQ(column(db, "SELECT step FROM checkpoints WHERE kept = 'best'"), std::vector<std::string>{"30"});

  // Run again, it stops before a step: it had stopped early, and patience is unchanged.
  const RunOutcome again = run_scripted(parts, with_early_stopping(200));
  EXPECT_EQ(again.status, "stopped");
  EXPECT_EQ(again.steps_run, 0);
  EXPECT_EQ(again.stop_reason, kStopReason);
}

TEST(early_stopping_run, a_monitored_tag_never_recorded_is_an_event_and_the_run_completes) {
  TempDir dir;
  RunFixture run(dir, mlp_experiment("[early_stopping]\nmonitor = \"eval/scroe\"\n", 30), kSaving);
  run.trainer.add_hook("scores", std::make_shared<ScriptedMetric>(kScores));
  ASSERT_EQ(run.execute().status, "completed");
  EXPECT_EQ(column(dir / "runs" / "kiln.db", "SELECT message FROM events WHERE kind = 'early_stopping'"),
            std::vector<std::string>{"eval/scroe was never recorded in this run's 30 steps, so early stopping never "
                                     "ran; is it the tag a hook writes (kiln show lists the run's tags)?"});
  EXPECT_EQ(column(dir / "runs" / "kiln.db", "SELECT COUNT(*) FROM checkpoints WHERE kept = 'best'"),
            std::vector<std::string>{"0"});
}

}  // namespace
}  // namespace kiln::runner
