// The saver: its table, retention as tf.train.Saver, restore with fallback, strictness,
// init_from, NaN.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <algorithm>
#include <fstream>

#include "../support/run_fixture.hpp"
#include "hooks/checkpoint_file.hpp"
#include "hooks/retention.hpp"
#include "store/checkpoints.hpp"
#include "store/query.hpp"

namespace kiln::runner {
namespace {

using kiln::test::mlp_experiment;
using kiln::test::RunFixture;
using kiln::test::TempDir;
using kiln::test::write_text;

namespace fs = std::filesystem;

std::vector<std::string> column(const fs::path& db, const std::string& sql) {
  std::vector<std::string> out;
  for (const auto& row : store::query_readonly(db, sql).rows) {
    const auto& cell = row.at(0);
    if (auto* s = std::get_if<std::string>(&cell)) out.push_back(*s);
    else if (auto* i = std::get_if<std::int64_t>(&cell)) out.push_back(std::to_string(*i));
    else if (auto* d = std::get_if<double>(&cell)) out.push_back(std::to_string(static_cast<long long>(*d)));
    else out.push_back("NULL");
  }
  return out;
}

std::vector<std::string> files_in(const fs::path& dir) {
  std::vector<std::string> out;
  for (const auto& entry : fs::directory_iterator(dir)) out.push_back(entry.path().filename().string());
  std::sort(out.begin(), out.end());
  return out;
}

/// The saver's options of an mlp experiment with `extra` at its end and `overrides`.
Saver::Options options_of(const std::string& extra, const std::vector<std::string>& overrides = {}) {
  TempDir dir;
  return Saver::Options::read(load_experiment(write_text(dir, "exp.toml", mlp_experiment(extra)), overrides).saver);
}

/// The error reading them is, the file's path shown as exp.toml.
std::string error_of(const std::string& extra) {
  TempDir dir;
  const auto file = write_text(dir, "exp.toml", mlp_experiment(extra));
  try {
    Saver::Options::read(load_experiment(file).saver);
  } catch (const ConfigError& e) {
    const std::string what = e.what();
    return what.rfind(file.string(), 0) == 0 ? "exp.toml" + what.substr(file.string().size()) : what;
  }
  return "(no error)";
}

TEST(saver_options, without_a_table_are_the_defaults) {
  const Saver::Options options = options_of("");
  EXPECT_TRUE(options.enabled);
  EXPECT_EQ(options.every_steps, 0);
  EXPECT_EQ(options.every_secs, 600.0);
  EXPECT_EQ(options.max_to_keep, 5);
  EXPECT_EQ(options.keep_every_hours, 0.0);
}

TEST(saver_options, are_read_from_the_table_and_every_steps_turns_the_time_default_off) {
  const Saver::Options options =
      options_of("[saver]\nenabled = false\nevery_steps = 50\nmax_to_keep = 0\nkeep_every_hours = 0.5\n");
  EXPECT_FALSE(options.enabled);
  EXPECT_EQ(options.every_steps, 50);
  EXPECT_EQ(options.every_secs, 0.0);
  EXPECT_EQ(options.max_to_keep, 0);
  EXPECT_EQ(options.keep_every_hours, 0.5);
  EXPECT_EQ(options_of("[saver]\nevery_steps = 50\n", {"saver.every_secs=30"}).every_secs, 30.0);
}

TEST(saver_options, bad_values_are_errors_at_their_keys) {
  EXPECT_EQ(error_of("[saver]\nevery_secs = nan\n"),
            "exp.toml:24:14: saver.every_secs: must be a finite number, got nan");
  EXPECT_EQ(error_of("[saver]\nkeep_every_hours = -1\n"),
            "exp.toml:24:20: saver.keep_every_hours: must be 0 or more, got -1");
  EXPECT_EQ(error_of("[saver]\nmax_to_keep = -2\n"), "exp.toml:24:15: saver.max_to_keep: must be 0 or more, got -2");
  EXPECT_EQ(error_of("[saver]\nenabled = \"no\"\n"),
            "exp.toml:24:11: saver.enabled: expected a boolean (true or false), got a string");
}

TEST(saver, enabled_false_means_no_saver_and_its_other_keys_are_still_known) {
  TempDir dir;
  RunFixture run(dir, mlp_experiment("[saver]\nenabled = false\nevery_steps = 5\n", 10),
                 {"supervisor.log_every_steps=0"});
  EXPECT_EQ(run.saver, nullptr);
  for (const OrderedHook& hook : run.trainer.hooks()) EXPECT_NE(hook.name, "saver");
  EXPECT_EQ(run.execute().status, "completed");
  EXPECT_EQ(column(dir / "runs" / "kiln.db", "SELECT COUNT(*) FROM checkpoints"), std::vector<std::string>{"0"});
}

TEST(saver, a_misspelled_key_of_its_table_is_an_unknown_key_with_a_suggestion) {
  TempDir dir;
  try {
    RunFixture run(dir, mlp_experiment("[saver]\nevery_step = 5\n", 10));
    FAIL() << "every_step was accepted";
  } catch (const ConfigError& e) {
    EXPECT_EQ(std::string(e.what()),
              (dir / "exp.toml").string() +
                  ":24:1: unknown key 'every_step' in [saver]; did you mean 'every_steps'? "
                  "(known keys: enabled, every_secs, every_steps, keep_every_hours, max_to_keep)");
  }
}

TEST(retention, max_to_keep_zero_keeps_everything) {
  const auto decision = apply_retention({{1, 0}, {2, 10}, {3, 20}}, 0, 0.5, 0);
  EXPECT_TRUE(decision.remove.empty());
  EXPECT_TRUE(decision.keep_hours.empty());
}

TEST(retention, oldest_go_first_without_keep_every_hours) {
  const auto decision = apply_retention({{1, 0}, {2, 10}, {3, 20}, {4, 30}}, 2, 0, 0);
  EXPECT_EQ(decision.remove, (std::vector<std::int64_t>{1, 2}));
}

/// Sets the saver's simulated clock to 60 s per step, before the saver runs (priority 900).
class Clock : public Hook {
 public:
  explicit Clock(double& now) : now_(now) {}
  void after_step(Step& step) override { now_ = 60.0 * static_cast<double>(step.run().global_step()); }

 private:
  double& now_;
};

TEST(saver, retention_reproduces_tf_saver_on_a_simulated_clock) {
  // A save every 10 steps = every 10 simulated minutes, 20 saves; max_to_keep = 7 and
  // keep_every_hours = 0.5, the deadline starting at t = 1800 s (the saver began at 0).
  // tf.train.Saver pops the oldest past 7 and keeps it when created after the deadline:
  // steps 40 (t=2400), 70 (4200), 100 (6000) and 130 (7800) are kept for good, each moving
  // the deadline on by 1800 s; 140..200 are the last 7; the rest are deleted.
  TempDir dir;
  double now = 0;
  {
    RunFixture run(dir, mlp_experiment("", 200),
                   {"saver.every_steps=10", "saver.max_to_keep=7", "saver.keep_every_hours=0.5",
                    "supervisor.log_every_steps=0"},
                   [&] { return now; });
    run.trainer.add_hook("clock", std::make_shared<Clock>(now), priority::saver - 100);
    EXPECT_EQ(run.execute().status, "completed");
  }
  const fs::path db = dir / "runs" / "kiln.db";
  EXPECT_EQ(column(db, "SELECT step FROM checkpoints WHERE kept = 'keep_every_hours' ORDER BY step"),
            (std::vector<std::string>{"40", "70", "100", "130"}));
  EXPECT_EQ(column(db, "SELECT step FROM checkpoints WHERE kept = 'max_to_keep' ORDER BY step"),
            (std::vector<std::string>{"140", "150", "160", "170", "180", "190", "200"}));
  EXPECT_EQ(column(db, "SELECT step FROM checkpoints WHERE deleted IS NOT NULL ORDER BY step"),
            (std::vector<std::string>{"10", "20", "30", "50", "60", "80", "90", "110", "120"}));
  EXPECT_EQ(column(db, "SELECT next_keep_time FROM retention"), (std::vector<std::string>{"9000"}));
  EXPECT_EQ(files_in(dir / "runs" / "t" / "checkpoints"),
            (std::vector<std::string>{"ckpt-100.kiln", "ckpt-130.kiln", "ckpt-140.kiln", "ckpt-150.kiln",
                                      "ckpt-160.kiln", "ckpt-170.kiln", "ckpt-180.kiln", "ckpt-190.kiln",
                                      "ckpt-200.kiln", "ckpt-40.kiln", "ckpt-70.kiln", "latest"}));
  std::ifstream latest(dir / "runs" / "t" / "checkpoints" / "latest");
  std::string pointer;
  latest >> pointer;
  EXPECT_EQ(pointer, "ckpt-200.kiln");
}

TEST(saver, resume_continues_from_the_latest_checkpoint) {
  TempDir dir;
  {
    RunFixture run(dir, mlp_experiment("", 30), {"saver.every_steps=10", "supervisor.log_every_steps=0"});
    EXPECT_EQ(run.execute().status, "completed");
  }
  RunFixture again(dir, mlp_experiment("", 50), {"saver.every_steps=10", "supervisor.log_every_steps=0"});
  EXPECT_EQ(again.execute().status, "completed");
  EXPECT_EQ(again.saver->restored_step(), 30);
  EXPECT_EQ(again.trainer.steps_run(), 20);
  EXPECT_EQ(again.trainer.global_step(), 50);
}

TEST(saver, a_corrupt_latest_checkpoint_falls_back_to_the_newest_valid_one) {
  TempDir dir;
  {
    RunFixture run(dir, mlp_experiment("", 30), {"saver.every_steps=10", "supervisor.log_every_steps=0"});
    EXPECT_EQ(run.execute().status, "completed");
  }
  const fs::path latest = dir / "runs" / "t" / "checkpoints" / "ckpt-30.kiln";
  {
    std::fstream file(latest, std::ios::in | std::ios::out | std::ios::binary);
    file.seekp(200);
    file.put('\x7f');
  }
  RunFixture again(dir, mlp_experiment("", 40), {"saver.every_steps=10", "supervisor.log_every_steps=0"});
  EXPECT_EQ(again.execute().status, "completed");
  EXPECT_EQ(again.saver->restored_step(), 20);
  const fs::path db = dir / "runs" / "kiln.db";
  const auto fallbacks = column(db, "SELECT message FROM events WHERE kind = 'fallback'");
  ASSERT_EQ(fallbacks.size(), 1u);
  EXPECT_NE(fallbacks[0].find("is corrupt"), std::string::npos) << fallbacks[0];
  EXPECT_EQ(column(db, "SELECT deleted IS NOT NULL FROM checkpoints WHERE step = 30"), (std::vector<std::string>{"0"}));
}

TEST(saver, restore_is_strict_and_names_what_does_not_fit) {
  TempDir dir;
  {
    RunFixture run(dir, mlp_experiment("", 10), {"saver.every_steps=10", "supervisor.log_every_steps=0"});
    EXPECT_EQ(run.execute().status, "completed");
  }
  RunFixture changed(dir, mlp_experiment("", 20), {"model.hidden=[8, 8]", "supervisor.log_every_steps=0"});
  const RunOutcome outcome = changed.execute();
  ASSERT_EQ(outcome.status, "failed") << "restored into a different model";
  const std::string& what = outcome.error;
  EXPECT_NE(what.find("missing: model/net.4.bias, model/net.4.weight"), std::string::npos) << what;
  EXPECT_NE(what.find("wrong shape or type: model/net.2.bias (checkpoint [1], model [8]), model/net.2.weight"), std::string::npos) << what;
  EXPECT_EQ(changed.trainer.global_step(), 0) << "nothing trained after a refused restore";
}

TEST(saver, init_from_a_run_loads_weights_only_and_resume_wins_afterwards) {
  TempDir dir;
  {
    RunFixture source(dir, mlp_experiment("", 20), {"saver.every_steps=10", "supervisor.log_every_steps=0"});
    EXPECT_EQ(source.execute().status, "completed");
  }
  const std::string text = mlp_experiment("", 10);
  auto renamed = [&](const std::string& name) {
    std::string t = text;
    t.replace(t.find("name = \"t\""), 10, "name = \"" + name + "\"");
    return t;
  };
  {
    RunFixture child(dir, renamed("child") + "[saver]\nevery_steps = 5\n",
                     {"experiment.init_from=\"t\"", "supervisor.log_every_steps=0"});
    EXPECT_EQ(child.execute().status, "completed");
    EXPECT_EQ(child.trainer.steps_run(), 10);  // the step count is not inherited
  }
  const fs::path db = dir / "runs" / "kiln.db";
  const auto init = column(db, "SELECT message FROM events e JOIN runs r ON r.id = e.run_id "
                               "WHERE r.name = 'child' AND kind = 'init_from'");
  ASSERT_EQ(init.size(), 1u);
  EXPECT_NE(init[0].find("ckpt-20.kiln"), std::string::npos) << init[0];
  // Run again: its own checkpoint wins over init_from.
  RunFixture again(dir, renamed("child"), {"experiment.init_from=\"t\"", "experiment.max_steps=15",
                                           "supervisor.log_every_steps=0"});
  EXPECT_EQ(again.execute().status, "completed");
  EXPECT_EQ(again.saver->restored_step(), 10);
}

TEST(saver, init_from_an_unknown_run_is_a_positioned_error_before_the_run_starts) {
  TempDir dir;
  {
    RunFixture source(dir, mlp_experiment("", 10), {"supervisor.log_every_steps=0"});
    EXPECT_EQ(source.execute().status, "completed");
  }
  try {
    RunFixture run(dir, mlp_experiment("", 10), {"experiment.name=\"child\"", "experiment.init_from=\"nope\"",
                                                  "supervisor.log_every_steps=0"});
    FAIL() << "an unknown init_from run was accepted";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("experiment.init_from: no checkpoint file or run named 'nope'"),
              std::string::npos)
        << e.what();
  }
  // Found before the run's row was made: the database has the source run only.
  EXPECT_EQ(column(dir / "runs" / "kiln.db", "SELECT name FROM runs"), (std::vector<std::string>{"t"}));
}

TEST(saver, init_from_a_checkpoint_that_does_not_fit_is_a_positioned_error_before_the_run_starts) {
  TempDir dir;
  {
    RunFixture source(dir, mlp_experiment("", 10), {"supervisor.log_every_steps=0"});
    EXPECT_EQ(source.execute().status, "completed");  // hidden = [8]
  }
  try {
    RunFixture run(dir, mlp_experiment("", 10), {"experiment.name=\"child\"", "experiment.init_from=\"t\"",
                                                  "model.hidden=[16]", "supervisor.log_every_steps=0"});
    FAIL() << "a checkpoint of another shape was accepted";
  } catch (const ConfigError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("experiment.init_from: the checkpoint "), std::string::npos) << what;
    EXPECT_NE(what.find("does not fit this experiment's model; wrong shape or type: model/"), std::string::npos)
        << what;
    EXPECT_NE(what.find("(checkpoint [8, 4], model [16, 4])"), std::string::npos) << what;
    EXPECT_NE(what.find("strict = false loads what fits"), std::string::npos) << what;
  }
  // Found before the run's row was made: the database has the source run only.
  EXPECT_EQ(column(dir / "runs" / "kiln.db", "SELECT name FROM runs"), (std::vector<std::string>{"t"}));
  // Not strict: the run starts, loading what fits.
  RunFixture loose(dir, mlp_experiment("", 10),
                   {"experiment.name=\"child\"", "experiment.init_from={ from = \"t\", strict = false }",
                    "model.hidden=[16]", "supervisor.log_every_steps=0"});
  EXPECT_EQ(loose.execute().status, "completed");
}

TEST(saver, init_from_table_errors_are_at_the_key_that_is_wrong) {
  TempDir dir;
  {
    RunFixture source(dir, mlp_experiment("", 10), {"supervisor.log_every_steps=0"});
    EXPECT_EQ(source.execute().status, "completed");  // one checkpoint, at step 10
  }
  const auto error = [&](const std::string& init_from) -> std::string {
    try {
      RunFixture run(dir, mlp_experiment("", 10), {"experiment.name=\"child\"", "experiment.init_from=" + init_from,
                                                    "supervisor.log_every_steps=0"});
    } catch (const ConfigError& e) {
      return e.what();
    }
    return "accepted";
  };
  // An unknown run is at the table's `from` (not "experiment.init_from.init_from").
  const std::string unknown = error("{ from = \"nope\" }");
  EXPECT_NE(unknown.find("experiment.init_from.from: no checkpoint file or run named 'nope'"), std::string::npos)
      << unknown;
  // A step the run has no checkpoint at is at `step`.
  const std::string no_step = error("{ from = \"t\", step = 7 }");
  EXPECT_NE(no_step.find("experiment.init_from.step: run 't' has no checkpoint at step 7"), std::string::npos)
      << no_step;
  EXPECT_EQ(error("{ from = \"t\", step = 10 }"), "accepted");
}

TEST(saver, state_round_trip_is_exact) {
  TempDir dir;
  RunFixture run(dir, mlp_experiment("", 10), {"supervisor.log_every_steps=0"});
  EXPECT_EQ(run.execute().status, "completed");
  const TensorMap before = run.trainer.capture_state();
  run.trainer.restore_state(before);
  const TensorMap after = run.trainer.capture_state();
  ASSERT_EQ(before.names(), after.names());
  for (const auto& [name, tensor] : before) EXPECT_TRUE(torch::equal(tensor, after.at(name))) << name;
  EXPECT_TRUE(before.contains("optim/adam/0/exp_avg"));
  EXPECT_EQ(before.at("step").item<std::int64_t>(), 10);
}


/// Asks the saver to keep the checkpoint of chosen steps for "best", as early stopping does
/// through RunContext::keep_checkpoint; at `priority` (before the saver's turn, or after it).
class KeepAt : public Hook {
 public:
  KeepAt(std::shared_ptr<Saver> saver, std::vector<std::int64_t> steps, std::string reason = "best")
      : saver_(std::move(saver)), steps_(std::move(steps)), reason_(std::move(reason)) {}
  void after_step(Step& step) override {
    const std::int64_t k = step.run().global_step();
    if (std::find(steps_.begin(), steps_.end(), k) != steps_.end()) saver_->keep(k, reason_);
  }

 private:
  std::shared_ptr<Saver> saver_;
  std::vector<std::int64_t> steps_;
  std::string reason_;
};

/// "step:kept" for each live checkpoint, oldest first.
std::vector<std::string> live_checkpoints(const fs::path& db) {
  return column(db, "SELECT step || ':' || kept FROM checkpoints WHERE deleted IS NULL ORDER BY step");
}

TEST(saver_keep, a_kept_checkpoint_outlives_max_to_keep_and_the_next_one_kept_replaces_it) {
  // Saves every 10 steps, max_to_keep = 1; best asked for at 15 (not a save step: the saver
  // writes one for it) and at 30 (a save step anyway: that checkpoint is marked). When 30
  // becomes the best, 15 goes back under retention and, older than the newest recent one
  // (20), is deleted.
  TempDir dir;
  {
    RunFixture run(dir, mlp_experiment("", 40),
                   {"saver.every_steps=10", "saver.max_to_keep=1", "supervisor.log_every_steps=0"});
    run.trainer.add_hook("keeper", std::make_shared<KeepAt>(run.saver, std::vector<std::int64_t>{15}),
                         priority::saver - 100);
    ASSERT_EQ(run.execute().status, "completed");
  }
  const fs::path db = dir / "runs" / "kiln.db";
  EXPECT_EQ(live_checkpoints(db), (std::vector<std::string>{"15:best", "40:max_to_keep"}));
  EXPECT_EQ(column(db, "SELECT reason FROM checkpoints WHERE step = 15"), std::vector<std::string>{"best"});
  EXPECT_EQ(column(db, "SELECT step FROM checkpoints WHERE deleted IS NOT NULL ORDER BY step"),
            (std::vector<std::string>{"10", "20", "30"}));
  EXPECT_EQ(files_in(dir / "runs" / "t" / "checkpoints"),
            (std::vector<std::string>{"ckpt-15.kiln", "ckpt-40.kiln", "latest"}));

  TempDir second;
  {
    RunFixture run(second, mlp_experiment("", 40),
                   {"saver.every_steps=10", "saver.max_to_keep=1", "supervisor.log_every_steps=0"});
    run.trainer.add_hook("keeper", std::make_shared<KeepAt>(run.saver, std::vector<std::int64_t>{15, 30}),
                         priority::saver - 100);
    ASSERT_EQ(run.execute().status, "completed");
  }
  const fs::path db2 = second / "runs" / "kiln.db";
  EXPECT_EQ(live_checkpoints(db2), (std::vector<std::string>{"30:best", "40:max_to_keep"}));
  EXPECT_EQ(column(db2, "SELECT reason FROM checkpoints WHERE step = 30"), std::vector<std::string>{"steps"});
  EXPECT_EQ(column(db2, "SELECT step FROM checkpoints WHERE deleted IS NOT NULL ORDER BY step"),
            (std::vector<std::string>{"10", "15", "20"}));
  EXPECT_EQ(files_in(second / "runs" / "t" / "checkpoints"),
            (std::vector<std::string>{"ckpt-30.kiln", "ckpt-40.kiln", "latest"}));
}

TEST(saver_keep, a_replaced_best_inside_the_recent_window_stays_as_a_recent_one) {
  // max_to_keep = 3: when 30 becomes the best, 15 rejoins 10 and 20 as a recent one; the
  // save at 40 then deletes the oldest of the four, 10.
  TempDir dir;
  {
    RunFixture run(dir, mlp_experiment("", 40),
                   {"saver.every_steps=10", "saver.max_to_keep=3", "supervisor.log_every_steps=0"});
    run.trainer.add_hook("keeper", std::make_shared<KeepAt>(run.saver, std::vector<std::int64_t>{15, 30}),
                         priority::saver - 100);
    ASSERT_EQ(run.execute().status, "completed");
  }
  const fs::path db = dir / "runs" / "kiln.db";
  EXPECT_EQ(live_checkpoints(db),
            (std::vector<std::string>{"15:max_to_keep", "20:max_to_keep", "30:best", "40:max_to_keep"}));
  EXPECT_EQ(column(db, "SELECT step FROM checkpoints WHERE deleted IS NOT NULL"), std::vector<std::string>{"10"});
}

TEST(saver_keep, a_failed_write_of_a_new_best_leaves_the_previous_best_kept) {
  // The save at 30, a new best, cannot be renamed into place (a folder holds its name): the
  // run fails at the next save, and 15 is still the best, its file there.
  TempDir dir;
  fs::create_directories(dir / "runs" / "t" / "checkpoints" / "ckpt-30.kiln" / "in-the-way");
  RunOutcome outcome;
  {
    RunFixture run(dir, mlp_experiment("", 40),
                   {"saver.every_steps=10", "saver.max_to_keep=1", "supervisor.log_every_steps=0"});
    run.trainer.add_hook("keeper", std::make_shared<KeepAt>(run.saver, std::vector<std::int64_t>{15, 30}),
                         priority::saver - 100);
    outcome = run.execute();
  }
  ASSERT_EQ(outcome.status, "failed");
  EXPECT_NE(outcome.error.find("checkpoint at step 30 was not saved"), std::string::npos) << outcome.error;
  const fs::path db = dir / "runs" / "kiln.db";
  EXPECT_EQ(live_checkpoints(db), (std::vector<std::string>{"15:best", "20:max_to_keep"}));
  EXPECT_TRUE(fs::exists(dir / "runs" / "t" / "checkpoints" / "ckpt-15.kiln"));
}

TEST(saver_keep, a_resumed_run_knows_its_best_and_replaces_it) {
  TempDir dir;
  const std::vector<std::string> overrides = {"saver.every_steps=10", "saver.max_to_keep=1",
                                              "supervisor.log_every_steps=0"};
  {
    RunFixture run(dir, mlp_experiment("", 20), overrides);
    run.trainer.add_hook("keeper", std::make_shared<KeepAt>(run.saver, std::vector<std::int64_t>{5}),
                         priority::saver - 100);
    ASSERT_EQ(run.execute().status, "completed");
  }
  const fs::path db = dir / "runs" / "kiln.db";
  EXPECT_EQ(live_checkpoints(db), (std::vector<std::string>{"5:best", "20:max_to_keep"}));
  {
    // Resumed at 20 without a new best: 5 stays kept through the saves at 30 and 40.
    RunFixture run(dir, mlp_experiment("", 40), overrides);
    ASSERT_EQ(run.execute().status, "completed");
  }
  EXPECT_EQ(live_checkpoints(db), (std::vector<std::string>{"5:best", "40:max_to_keep"}));
  {
    // A new best at 45, in the next process, takes over from 5, which is deleted.
    RunFixture run(dir, mlp_experiment("", 50), overrides);
    run.trainer.add_hook("keeper", std::make_shared<KeepAt>(run.saver, std::vector<std::int64_t>{45}),
                         priority::saver - 100);
    ASSERT_EQ(run.execute().status, "completed");
  }
  EXPECT_EQ(live_checkpoints(db), (std::vector<std::string>{"45:best", "50:max_to_keep"}));
  EXPECT_EQ(files_in(dir / "runs" / "t" / "checkpoints"),
            (std::vector<std::string>{"ckpt-45.kiln", "ckpt-50.kiln", "latest"}));
}

TEST(saver_keep, asked_after_the_savers_turn_it_marks_that_steps_checkpoint_or_writes_one) {
  // After the saver (priority saver + 50): at 20 the checkpoint saved anyway is marked; at
  // 25 one is written then. Both kept for their own reasons.
  TempDir dir;
  {
    RunFixture run(dir, mlp_experiment("", 30),
                   {"saver.every_steps=10", "saver.max_to_keep=1", "supervisor.log_every_steps=0"});
    run.trainer.add_hook("late_best", std::make_shared<KeepAt>(run.saver, std::vector<std::int64_t>{20}),
                         priority::saver + 50);
    run.trainer.add_hook("late_other", std::make_shared<KeepAt>(run.saver, std::vector<std::int64_t>{25}, "other"),
                         priority::saver + 50);
    ASSERT_EQ(run.execute().status, "completed");
  }
  const fs::path db = dir / "runs" / "kiln.db";
  EXPECT_EQ(live_checkpoints(db), (std::vector<std::string>{"20:best", "25:other", "30:max_to_keep"}));
  EXPECT_EQ(column(db, "SELECT reason FROM checkpoints WHERE step = 25"), std::vector<std::string>{"other"});
}

TEST(saver_keep, two_reasons_keep_one_checkpoint_until_each_moves_on) {
  TempDir dir;
  {
    RunFixture run(dir, mlp_experiment("", 30),
                   {"saver.every_steps=10", "saver.max_to_keep=1", "supervisor.log_every_steps=0"});
    run.trainer.add_hook("best", std::make_shared<KeepAt>(run.saver, std::vector<std::int64_t>{5, 25}),
                         priority::saver - 100);
    run.trainer.add_hook("other", std::make_shared<KeepAt>(run.saver, std::vector<std::int64_t>{5}, "other"),
                         priority::saver - 100);
    ASSERT_EQ(run.execute().status, "completed");
  }
  const fs::path db = dir / "runs" / "kiln.db";
  EXPECT_EQ(live_checkpoints(db), (std::vector<std::string>{"5:other", "25:best", "30:max_to_keep"}));
}

TEST(saver_keep, bad_reasons_and_steps_it_cannot_keep_are_errors) {
  TempDir dir;
  RunFixture run(dir, mlp_experiment("", 10), {"saver.every_steps=5", "supervisor.log_every_steps=0"});
  for (const char* bad : {"", "Best", "max_to_keep", "keep_every_hours", "a,b"}) {
    try {
      run.saver->keep(3, bad);
      ADD_FAILURE() << "keep accepted '" << bad << "'";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("a reason is a lowercase word"), std::string::npos) << e.what();
    }
  }
  // At step 8, step 3 (past, no checkpoint at it): the run fails, naming the hook.
  class Past : public Hook {
   public:
    explicit Past(std::shared_ptr<Saver> saver) : saver_(std::move(saver)) {}
    void after_step(Step& step) override {
      if (step.run().global_step() == 8) saver_->keep(3, "best");
    }
    std::shared_ptr<Saver> saver_;
  };
  run.trainer.add_hook("past", std::make_shared<Past>(run.saver), priority::saver - 100);
  const RunOutcome outcome = run.execute();
  ASSERT_EQ(outcome.status, "failed");
  EXPECT_NE(outcome.error.find("cannot keep a checkpoint of step 3 for 'best': the run is past that step and saved none "
                               "at it (in hook 'past', after_step)"),
            std::string::npos)
      << outcome.error;
}

TEST(saver, init_from_best_takes_the_checkpoint_kept_as_best) {
  TempDir dir;
  {
    RunFixture source(dir, mlp_experiment("", 20), {"saver.every_steps=10", "supervisor.log_every_steps=0"});
    source.trainer.add_hook("keeper", std::make_shared<KeepAt>(source.saver, std::vector<std::int64_t>{7}),
                            priority::saver - 100);
    ASSERT_EQ(source.execute().status, "completed");
  }
  {
    RunFixture child(dir, mlp_experiment("", 5), {"experiment.name=\"child\"",
                                                  "experiment.init_from={ from = \"t\", best = true }",
                                                  "supervisor.log_every_steps=0"});
    ASSERT_EQ(child.execute().status, "completed");
  }
  const auto init = column(dir / "runs" / "kiln.db", "SELECT message FROM events e JOIN runs r ON r.id = e.run_id "
                                                     "WHERE r.name = 'child' AND kind = 'init_from'");
  ASSERT_EQ(init.size(), 1u);
  EXPECT_NE(init[0].find("ckpt-7.kiln"), std::string::npos) << init[0];
}

TEST(saver, init_from_best_without_a_best_checkpoint_or_with_a_file_is_an_error_at_best) {
  TempDir dir;
  {
    RunFixture source(dir, mlp_experiment("", 10), {"saver.every_steps=10", "supervisor.log_every_steps=0"});
    ASSERT_EQ(source.execute().status, "completed");
  }
  const auto error_with = [&](const std::string& init_from) -> std::string {
    try {
      RunFixture child(dir, mlp_experiment("", 5), {"experiment.name=\"child\"", "experiment.init_from=" + init_from,
                                                    "supervisor.log_every_steps=0"});
    } catch (const ConfigError& e) {
      return e.what();
    }
    return "(no error)";
  };
  const std::string none = error_with("{ from = \"t\", best = true }");
  EXPECT_NE(none.find("experiment.init_from.best: run 't' has no checkpoint kept as best (an [early_stopping] table "
                      "with keep_best = true keeps one)"),
            std::string::npos)
      << none;
  const std::string file = (dir / "runs" / "t" / "checkpoints" / "ckpt-10.kiln").string();
  const std::string with_file = error_with("{ from = \"" + file + "\", best = true }");
  EXPECT_NE(with_file.find("experiment.init_from.best: best = true takes a run's name in `from`, and '" + file +
                           "' is a file"),
            std::string::npos)
      << with_file;
  EXPECT_EQ(column(dir / "runs" / "kiln.db", "SELECT name FROM runs"), (std::vector<std::string>{"t"}));
}

}  // namespace
}  // namespace kiln::runner
