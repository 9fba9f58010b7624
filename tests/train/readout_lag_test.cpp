// The trainer handling loss values a step late, as it does on CUDA, forced on the CPU: the
// same summary rows, the same NaN failure (and no checkpoint after it), nothing lost at the end.
#include <cmath>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "../support/experiment_file.hpp"
#include "../support/memory_recorder.hpp"
#include "config/experiment.hpp"
#include "hooks/ema.hpp"
#include "hooks/supervisor.hpp"
#include "plugins/plugin_host.hpp"
#include "train/trainer.hpp"

namespace kiln::runner {
namespace {

using kiln::test::MemoryRecorder;
using kiln::test::mlp_experiment;
using kiln::test::TempDir;
using kiln::test::write_text;

using Rows = std::map<std::string, std::vector<std::pair<std::int64_t, double>>>;

/// A plugin-like hook: tensor summaries in a phase and after the step, and, at the saver's
/// place, the state a save would take after every step (its global step, whether its model
/// is finite).
class Probe : public Hook {
 public:
  explicit Probe(bool capture) : capture_(capture) {}
  int default_priority() const override { return priority::saver; }
  void after_phase(Step& step) override {
    step.summary("probe/phase", torch::tensor(0.25 * static_cast<double>(step.global_step())));
  }
  void after_step(Step& step) override {
    step.summary("probe/step", step.losses().begin()->second * 2);
    if (!capture_) return;
    const TensorMap state = step.run().capture_state();
    bool finite = true;
    for (const auto& [name, tensor] : state)
      if (name.rfind("model/", 0) == 0 && !torch::isfinite(tensor).all().item<bool>()) finite = false;
    captured.emplace_back(state.at("step").item<std::int64_t>(), finite);
  }
  std::vector<std::pair<std::int64_t, bool>> captured;

 private:
  bool capture_;
};

/// Asks for a stop at one step, as a signal would.
class StopAt : public Hook {
 public:
  explicit StopAt(std::int64_t step) : step_(step) {}
  void after_step(Step& step) override {
    if (step.global_step() == step_) step.run().request_stop("enough");
  }

 private:
  std::int64_t step_;
};

/// A run of the mlp experiment with the supervisor, an EMA of the losses and the probe,
/// handling values `lag` steps late.
struct LaggedRun {
  LaggedRun(std::size_t lag, const std::string& experiment, const std::vector<std::string>& overrides,
            bool capture = false)
      : spec(load_experiment(write_text(dir, "exp.toml", experiment), overrides)),
        host(spec.plugin_paths, KILN_PLUGIN_DIR),
        trainer(spec, host) {
    trainer.force_value_lag_for_tests(lag);
    const Supervisor::Options supervision = Supervisor::Options::read(spec.supervisor);
    trainer.add_hook("supervisor", std::make_shared<Supervisor>(supervision));
    if (spec.ema) {
      ema = std::make_shared<Ema>(Ema::Options::read(*spec.ema, spec.loss_names(), supervision));
      trainer.add_hook("ema", ema);
    }
    probe = std::make_shared<Probe>(capture);
    trainer.add_hook("probe", probe);
    trainer.attach(recorder, "t", dir.path());
  }
  /// The run's error, or "" when it completed.
  std::string run() {
    try {
      trainer.run();
    } catch (const Error& e) {
      return e.what();
    }
    return "";
  }
  /// The summaries, time/step_ms with its steps only (its values are times).
  Rows rows() const {
    Rows rows = recorder.summaries;
    if (auto it = rows.find("time/step_ms"); it != rows.end())
      for (auto& [step, value] : it->second) value = 0;
    return rows;
  }

  TempDir dir;
  ExperimentSpec spec;
  PluginHost host;
  Trainer trainer;
  MemoryRecorder recorder;
  std::shared_ptr<Ema> ema;
  std::shared_ptr<Probe> probe;
};

const std::string kEma = "[ema]\ndecay = 0.8\nparams = [\"all\"]\nlosses = [\"mse\"]\n";
const std::vector<std::string> kEvery3 = {"supervisor.summary_every_steps=3", "supervisor.log_every_steps=0"};

std::vector<std::int64_t> steps_of(const Rows& rows, const std::string& tag) {
  std::vector<std::int64_t> steps;
  for (const auto& [step, value] : rows.at(tag)) steps.push_back(step);
  return steps;
}

TEST(readout_lag, a_holding_readout_hands_steps_out_only_when_they_are_more_than_lag_behind) {
  Readout readout(c10::Device(c10::kCPU), /*hold=*/true);
  readout.add("x", torch::tensor(1.0));
  readout.end_step(0);
  EXPECT_TRUE(readout.collect(1).empty());
  EXPECT_FALSE(readout.gathering());
  readout.add("x", torch::tensor(2.0));
  EXPECT_TRUE(readout.gathering());
  readout.end_step(1);
  const std::vector<StepScalars> first = readout.collect(1);
  ASSERT_EQ(first.size(), 1u);
  EXPECT_EQ(first[0].step, 0);
  EXPECT_EQ(readout.in_flight(), 1u);
  const std::vector<StepScalars> rest = readout.collect(0);
  ASSERT_EQ(rest.size(), 1u);
  EXPECT_EQ(rest[0].step, 1);
  EXPECT_DOUBLE_EQ(rest[0].values.at(0).second, 2.0);
}

TEST(readout_lag, the_cpu_collects_at_once_and_the_test_setter_holds_values_back) {
  LaggedRun on_cpu(0, mlp_experiment("", 2), kEvery3);
  EXPECT_EQ(on_cpu.trainer.value_lag(), 0u);
  LaggedRun lagged(1, mlp_experiment("", 2), kEvery3);
  EXPECT_EQ(lagged.trainer.value_lag(), 1u);
}

TEST(readout_lag, a_step_late_the_summary_rows_and_the_training_are_the_same) {
  LaggedRun now(0, mlp_experiment(kEma, 11), kEvery3);
  LaggedRun late(1, mlp_experiment(kEma, 11), kEvery3);
  ASSERT_EQ(now.run(), "");
  ASSERT_EQ(late.run(), "");

  const Rows rows = now.rows();
  EXPECT_EQ(steps_of(rows, "loss/mse"), (std::vector<std::int64_t>{0, 3, 6, 9, 10}));
  EXPECT_EQ(steps_of(rows, "ema/mse"), (std::vector<std::int64_t>{0, 3, 6, 9, 10}));
  EXPECT_EQ(steps_of(rows, "time/step_ms"), (std::vector<std::int64_t>{0, 3, 6, 9, 10}));
  EXPECT_EQ(rows.at("probe/phase").size(), 11u);
  EXPECT_EQ(rows.at("probe/step").size(), 11u);
  EXPECT_EQ(rows.at("probe/phase").at(4), (std::pair<std::int64_t, double>{4, 1.0}));
  EXPECT_EQ(late.rows(), rows);  // tag, step and value, bit for bit

  EXPECT_EQ(late.ema->loss_shadow("mse"), now.ema->loss_shadow("mse"));
  const TensorMap a = now.trainer.capture_state();
  const TensorMap b = late.trainer.capture_state();
  ASSERT_EQ(a.names(), b.names());
  for (const auto& [name, tensor] : a) EXPECT_TRUE(torch::equal(tensor, b.at(name))) << name;
}

/// After every other hook, what the EMA has averaged of the losses so far.
class EmaWatcher : public Hook {
 public:
  explicit EmaWatcher(const Ema& ema) : ema_(ema) {}
  int default_priority() const override { return 2000; }
  void after_step(Step&) override { seen.push_back(ema_.loss_shadow("mse")); }
  std::vector<double> seen;

 private:
  const Ema& ema_;
};

TEST(readout_lag, the_hooks_get_a_steps_values_one_step_later) {
  LaggedRun now(0, mlp_experiment(kEma, 5), kEvery3);
  LaggedRun late(1, mlp_experiment(kEma, 5), kEvery3);
  auto now_watch = std::make_shared<EmaWatcher>(*now.ema);
  auto late_watch = std::make_shared<EmaWatcher>(*late.ema);
  now.trainer.add_hook("watch", now_watch);
  late.trainer.add_hook("watch", late_watch);
  ASSERT_EQ(now.run(), "");
  ASSERT_EQ(late.run(), "");
  ASSERT_EQ(now_watch->seen.size(), 5u);
  // At step k's after_step the lagged EMA has averaged the losses of steps 0..k-1.
  std::vector<double> shifted = {0.0};
  shifted.insert(shifted.end(), now_watch->seen.begin(), now_watch->seen.end() - 1);
  EXPECT_EQ(late_watch->seen, shifted);
  EXPECT_EQ(late.ema->loss_shadow("mse"), now_watch->seen.back());  // the last one came at the end
}

TEST(readout_lag, a_checkpoint_mid_step_holds_the_ema_of_every_loss_so_far) {
  LaggedRun now(0, mlp_experiment(kEma, 6), kEvery3, /*capture=*/true);
  LaggedRun late(1, mlp_experiment(kEma, 6), kEvery3, /*capture=*/true);
  ASSERT_EQ(now.run(), "");
  ASSERT_EQ(late.run(), "");
  EXPECT_EQ(late.probe->captured, now.probe->captured);
  EXPECT_EQ(late.rows(), now.rows());
  EXPECT_EQ(late.ema->loss_shadow("mse"), now.ema->loss_shadow("mse"));
}

TEST(readout_lag, the_last_steps_values_are_recorded_when_the_run_ends) {
  LaggedRun late(1, mlp_experiment(kEma, 5), {"supervisor.summary_every_steps=100", "supervisor.log_every_steps=0"});
  ASSERT_EQ(late.run(), "");
  const Rows rows = late.rows();
  EXPECT_EQ(steps_of(rows, "loss/mse"), (std::vector<std::int64_t>{0, 4}));
  EXPECT_EQ(steps_of(rows, "ema/mse"), (std::vector<std::int64_t>{0, 4}));
  EXPECT_EQ(steps_of(rows, "probe/step"), (std::vector<std::int64_t>{0, 1, 2, 3, 4}));
}

TEST(readout_lag, a_stop_between_steps_loses_nothing) {
  LaggedRun now(0, mlp_experiment(kEma, 20), {"supervisor.summary_every_steps=100", "supervisor.log_every_steps=0"});
  LaggedRun late(1, mlp_experiment(kEma, 20), {"supervisor.summary_every_steps=100", "supervisor.log_every_steps=0"});
  for (LaggedRun* run : {&now, &late}) {
    run->trainer.add_hook("stop_at", std::make_shared<StopAt>(6));
    ASSERT_EQ(run->run(), "");
    EXPECT_EQ(run->trainer.global_step(), 7);
  }
  EXPECT_EQ(steps_of(late.rows(), "loss/mse"), (std::vector<std::int64_t>{0, 6}));
  EXPECT_EQ(late.rows(), now.rows());
}

// ---- on_nan ----

/// nan_at (a fixture plugin) instead of mse: NaN at step 7.
std::string nan_experiment(const std::string& supervisor) {
  std::string text = mlp_experiment("[plugins]\npaths = [\"" KILN_FIXTURE_DIR "\"]\n[supervisor]\nlog_every_steps = 0\n"
                                    "summary_every_steps = 1\n" + supervisor,
                                    20);
  const auto replace = [&](const std::string& from, const std::string& to) {
    const std::size_t at = text.find(from);
    ASSERT_NE(at, std::string::npos) << from;
    text.replace(at, from.size(), to);
  };
  replace("plugin = \"mse\"\n", "plugin = \"nan_at\"\nstep = 7\n");
  replace("losses = [\"mse\"]", "losses = [\"nan_at\"]");
  return text;
}

const std::string kNanError = "step 7, phase adam: loss nan_at is not finite";

TEST(readout_lag, a_nan_stops_the_run_with_the_same_message_and_no_later_checkpoint) {
  for (const bool capture : {false, true}) {
    SCOPED_TRACE(capture ? "a checkpoint every step" : "no checkpoints");
    LaggedRun now(0, nan_experiment(""), {}, capture);
    LaggedRun late(1, nan_experiment(""), {}, capture);
    for (LaggedRun* run : {&now, &late}) {
      EXPECT_EQ(run->run(), kNanError + " (on_nan = \"stop\")");
      EXPECT_EQ(run->trainer.global_step(), 7);  // the step that failed, as on the CPU
      EXPECT_EQ(run->trainer.failed_hook(), "");  // the loss failed, not the hook that asked for the state
      EXPECT_EQ(run->recorder.events.back(), (std::pair<std::string, std::string>{"nan", kNanError}));
    }
    // The state after step k holds k updates: the last taken is 7's, before the NaN step's update.
    if (capture) {
      std::vector<std::pair<std::int64_t, bool>> expected;
      for (std::int64_t k = 1; k <= 7; ++k) expected.emplace_back(k, true);
      EXPECT_EQ(late.probe->captured, expected);
      EXPECT_EQ(now.probe->captured, expected);
    }
    EXPECT_EQ(steps_of(late.rows(), "loss/nan_at"), (std::vector<std::int64_t>{0, 1, 2, 3, 4, 5, 6}));
    EXPECT_EQ(late.rows(), now.rows());
  }
}

TEST(readout_lag, on_nan_skip_drops_the_steps_values_as_on_the_cpu) {
  LaggedRun now(0, nan_experiment("on_nan = \"skip\"\n"), {});
  LaggedRun late(1, nan_experiment("on_nan = \"skip\"\n"), {});
  for (LaggedRun* run : {&now, &late}) {
    ASSERT_EQ(run->run(), "");
    EXPECT_EQ(run->trainer.global_step(), 20);
  }
  std::vector<std::int64_t> expected;
  for (std::int64_t k = 0; k < 20; ++k)
    if (k != 7) expected.push_back(k);
  EXPECT_EQ(steps_of(late.rows(), "loss/nan_at"), expected);
  // The skipped step's phase ended at its check and its after_step hooks did not run.
  EXPECT_EQ(steps_of(late.rows(), "probe/phase"), expected);
  EXPECT_EQ(steps_of(late.rows(), "probe/step"), expected);
  EXPECT_EQ(late.rows(), now.rows());
  EXPECT_EQ(late.recorder.events, now.recorder.events);
}

}  // namespace
}  // namespace kiln::runner
