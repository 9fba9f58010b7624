// The trainer's training controls: phases as hooks reach them (learning rates), before_update,
// clip_norm / clip_value, accumulation, latest_summary, and what errors inside a step say.
#include <cmath>
#include <optional>
#include <sstream>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>
#include <torch/torch.h>

#include "../support/experiment_file.hpp"
#include "../support/memory_recorder.hpp"
#include "../support/trainer_fixture.hpp"
#include "../support/run_fixture.hpp"
#include "config/experiment.hpp"
#include "hooks/supervisor.hpp"
#include "plugins/plugin_host.hpp"
#include "train/trainer.hpp"

namespace kiln::runner {
namespace {

using kiln::test::MemoryRecorder;
using kiln::test::mlp_experiment;
using kiln::test::TempDir;
using kiln::test::write_text;

/// A trainer of `text` with the supervisor (summaries every step, no progress lines).
struct Fixture : kiln::test::TrainerFixture {
  Fixture(const std::string& text, std::vector<std::string> overrides = {})
      : TrainerFixture(text, with_quiet(std::move(overrides))) {}
  static std::vector<std::string> with_quiet(std::vector<std::string> overrides) {
    overrides.insert(overrides.begin(), {"supervisor.summary_every_steps=1", "supervisor.log_every_steps=0"});
    return overrides;
  }
};

/// mlp_experiment with `keys` added to its optimizer's table ("adam", lr 1e-2 unless replaced).
std::string with_optimizer_keys(const std::string& keys, long max_steps = 20, const std::string& type = "adam") {
  std::string text = mlp_experiment("", max_steps);
  const std::string table = "[[optimizers]]\nname = \"adam\"\ntype = \"adam\"\n";
  const auto at = text.find(table);
  return text.substr(0, at) + "[[optimizers]]\nname = \"adam\"\ntype = \"" + type + "\"\n" + keys +
         text.substr(at + table.size());
}

/// Copies of the phase's gradients as before_update sees them, and after the update.
class GradientWatcher : public Hook {
 public:
  void before_update(Step& step) override {
    before.clear();
    for (const torch::Tensor& param : step.parameters()) before.push_back(param.grad().detach().clone());
  }
  void after_phase(Step& step) override {
    after.clear();
    for (const torch::Tensor& param : step.run().phase(step.phase()).parameters())
      after.push_back(param.grad().detach().clone());
  }
  std::vector<torch::Tensor> before, after;
};

double l2_norm(const std::vector<torch::Tensor>& grads) {
  double sum = 0;
  for (const torch::Tensor& grad : grads) sum += grad.to(torch::kDouble).pow(2).sum().item<double>();
  return std::sqrt(sum);
}

TEST(training_controls, a_clip_that_is_not_a_positive_number_is_a_config_error_at_its_key) {
  for (const std::string bad : {"clip_norm = 0\n", "clip_value = -1\n", "clip_norm = \"big\"\n", "clip_value = inf\n"}) {
    SCOPED_TRACE(bad);
    try {
      Fixture f(with_optimizer_keys(bad));
      FAIL() << "accepted";
    } catch (const ConfigError& e) {
      EXPECT_EQ(e.where().line, 21) << e.what();
      EXPECT_NE(std::string(e.what()).find(bad.substr(0, bad.find(' '))), std::string::npos) << e.what();
    }
  }
}

TEST(training_controls, clip_norm_scales_the_gradients_as_clip_grad_norm_and_records_the_norm_before) {
  Fixture f(with_optimizer_keys("clip_norm = 0.05\n", /*max_steps=*/1));
  auto watcher = std::make_shared<GradientWatcher>();
  f.trainer.add_hook("watcher", watcher);
  f.trainer.run();
  ASSERT_EQ(watcher->before.size(), 4u);
  const double norm = l2_norm(watcher->before);
  ASSERT_GT(norm, 0.05) << "the test needs gradients above the bound";
  const double factor = 0.05 / (norm + 1e-6);
  for (std::size_t i = 0; i < watcher->before.size(); ++i)
    EXPECT_TRUE(torch::allclose(watcher->after[i], watcher->before[i] * factor, /*rtol=*/1e-5, /*atol=*/1e-9)) << i;
  EXPECT_NEAR(l2_norm(watcher->after), 0.05, 1e-6);
  ASSERT_EQ(f.recorder.values("grad_norm/adam").size(), 1u);
  EXPECT_NEAR(f.recorder.values("grad_norm/adam")[0], norm, 1e-5 * norm);
}

TEST(training_controls, clip_norm_leaves_gradients_under_the_bound_alone) {
  Fixture f(with_optimizer_keys("clip_norm = 1e6\n", /*max_steps=*/1));
  auto watcher = std::make_shared<GradientWatcher>();
  f.trainer.add_hook("watcher", watcher);
  f.trainer.run();
  for (std::size_t i = 0; i < watcher->before.size(); ++i) EXPECT_TRUE(torch::equal(watcher->after[i], watcher->before[i]));
}

TEST(training_controls, clip_value_clamps_each_gradient) {
  Fixture f(with_optimizer_keys("clip_value = 0.01\n", /*max_steps=*/1));
  auto watcher = std::make_shared<GradientWatcher>();
  f.trainer.add_hook("watcher", watcher);
  f.trainer.run();
  double largest = 0;
  for (std::size_t i = 0; i < watcher->before.size(); ++i) {
    largest = std::max(largest, watcher->before[i].abs().max().item<double>());
    EXPECT_TRUE(torch::equal(watcher->after[i], watcher->before[i].clamp(-0.01, 0.01))) << i;
  }
  EXPECT_GT(largest, 0.01) << "the test needs gradients beyond the bound";
  EXPECT_EQ(f.recorder.values("grad_norm/adam").size(), 1u);
}

TEST(training_controls, grad_norms_are_summaries_only_when_a_clip_or_the_supervisor_asks) {
  Fixture plain(mlp_experiment("", 3));
  plain.trainer.run();
  EXPECT_EQ(plain.recorder.summaries.count("grad_norm/adam"), 0u);

  Fixture asked(mlp_experiment("", 3), {"supervisor.grad_norms=true"});
  auto watcher = std::make_shared<GradientWatcher>();
  asked.trainer.add_hook("watcher", watcher);
  asked.trainer.run();
  const auto& rows = asked.recorder.summaries.at("grad_norm/adam");
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows.back().first, 2);
  EXPECT_NEAR(rows.back().second, l2_norm(watcher->before), 1e-5 * rows.back().second);
}

TEST(training_controls, grad_norms_and_rates_read_a_step_late_are_recorded_as_at_once) {
  // CUDA hands values out a step late; forced here on the CPU. Same rows, same steps.
  const std::string text = with_optimizer_keys("clip_norm = 0.05\n", /*max_steps=*/7);
  Fixture now(text, {"experiment.accumulate=2"});
  Fixture late(text, {"experiment.accumulate=2"});
  late.trainer.force_value_lag_for_tests(1);
  now.trainer.run();
  late.trainer.run();
  for (const char* tag : {"grad_norm/adam", "lr/adam", "loss/mse"}) {
    SCOPED_TRACE(tag);
    ASSERT_EQ(now.recorder.summaries.at(tag).size(), 7u);
    EXPECT_EQ(late.recorder.summaries.at(tag), now.recorder.summaries.at(tag));
  }
}

/// In before_update: checks what it is given, then replaces every gradient with ones.
class GradientsToOnes : public Hook {
 public:
  void before_update(Step& step) override {
    ++calls;
    phase = step.phase();
    count = step.parameters().size();
    for (const torch::Tensor& param : step.parameters()) {
      ASSERT_TRUE(param.grad().defined());
      param.grad().fill_(1.0);
    }
  }
  int calls = 0;
  std::string phase;
  std::size_t count = 0;
};

TEST(training_controls, before_update_sees_the_phase_gradients_and_its_change_reaches_the_update) {
  // Plain SGD: the update is exactly lr * gradient, so ones move every weight by -lr.
  Fixture f(with_optimizer_keys("", /*max_steps=*/1, "sgd"));
  auto hook = std::make_shared<GradientsToOnes>();
  f.trainer.add_hook("ones", hook);
  std::vector<torch::Tensor> before;
  for (const torch::Tensor& param : f.trainer.model().parameters()) before.push_back(param.detach().clone());
  f.trainer.run();
  EXPECT_EQ(hook->calls, 1);
  EXPECT_EQ(hook->phase, "adam");
  EXPECT_EQ(hook->count, 4u);
  const auto after = f.trainer.model().parameters();
  for (std::size_t i = 0; i < before.size(); ++i)
    EXPECT_TRUE(torch::allclose(after[i], before[i] - 1e-2, /*rtol=*/0, /*atol=*/1e-7)) << i;
}

TEST(training_controls, micro_batches_give_the_update_of_one_batch_of_their_sum) {
  // 6 steps of 64 examples: once as one batch, once as 4 micro-batches of 16 (the same
  // examples: the loader's order does not depend on the batch size), across an epoch's end.
  Fixture whole(with_optimizer_keys("", /*max_steps=*/6, "sgd"), {"data.batch_size=64", "optimizers.adam.lr=0.1"});
  Fixture parts(with_optimizer_keys("", /*max_steps=*/6, "sgd"),
                {"data.batch_size=16", "experiment.accumulate=4", "optimizers.adam.lr=0.1"});
  ASSERT_EQ(parts.trainer.accumulate(), 4);
  whole.trainer.run();
  parts.trainer.run();
  const auto a = whole.trainer.model().parameters(), b = parts.trainer.model().parameters();
  ASSERT_EQ(a.size(), b.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    EXPECT_LT((a[i] - b[i]).abs().max().item<double>(), 1e-6) << i;
  }
  // The losses hooks see are the micro-batches' mean: the whole batch's loss.
  const auto la = whole.recorder.values("loss/mse"), lb = parts.recorder.values("loss/mse");
  ASSERT_EQ(la.size(), 6u);
  ASSERT_EQ(lb.size(), 6u);
  for (std::size_t i = 0; i < la.size(); ++i) EXPECT_NEAR(la[i], lb[i], 1e-6) << i;
  // Each step took 4 batches from the loader.
  EXPECT_EQ(parts.trainer.loader().cursor().batch, 24);
}

/// Counts the micro-batches each phase runs and what its scratch held.
class MicroBatchWatcher : public Hook {
 public:
  void before_step(Step& step) override { seen.push_back(step.micro_batches()); }
  void before_update(Step& step) override { seen.push_back(step.micro_batch()); }
  std::vector<int> seen;
};

TEST(training_controls, a_step_of_n_micro_batches_forwards_each_before_one_update) {
  Fixture f(mlp_experiment("", 2), {"experiment.accumulate=3"});
  auto watcher = std::make_shared<MicroBatchWatcher>();
  f.trainer.add_hook("watcher", watcher);
  f.trainer.run();
  // micro_batches() at the step's start, then the last micro-batch's index at the one update.
  EXPECT_EQ(watcher->seen, (std::vector<int>{3, 2, 3, 2}));
  EXPECT_EQ(f.trainer.loader().cursor().batch, 6);
}

/// Each phase's forward count as the last micro-batch's scratch held it (two_towers counts its
/// forward passes in the scratch), and the micro-batch it came from.
class ForwardCounter : public Hook {
 public:
  void after_phase(Step& step) override {
    log.push_back(fmt::format("{}: micro-batch {} of {}, forwards {}", step.phase(), step.micro_batch(),
                              step.micro_batches(), step.outputs().at("forwards").item<int>()));
  }
  std::vector<std::string> log;
};

TEST(training_controls, each_micro_batch_has_its_own_scratch_that_the_next_phase_finds) {
  // two_towers: phase "second" runs after "first" and counts the forward passes in the
  // scratch. One scratch per micro-batch: each is forwarded once per phase, so the second
  // phase's pass over a micro-batch is its second, whatever N is.
  TempDir dir;
  const std::string text =
      std::string("[experiment]\nname = \"towers\"\nseed = 3\nmax_steps = 2\nthreads = 1\naccumulate = 3\n") +
      "[plugins]\npaths = [\"" KILN_FIXTURE_DIR "\"]\n"
      "[data]\nplugin = \"noise\"\nbatch_size = 8\n"
      "[model]\nplugin = \"two_towers\"\n"
      "[[losses]]\nname = \"m\"\nplugin = \"mean_square\"\n"
      "[[optimizers]]\nname = \"second\"\ntype = \"sgd\"\nparams = \"b\"\nlosses = [\"m\"]\nafter = [\"first\"]\n"
      "[[optimizers]]\nname = \"first\"\ntype = \"sgd\"\nparams = \"a\"\nlosses = [\"m\"]\n";
  Fixture f(text);
  auto counter = std::make_shared<ForwardCounter>();
  f.trainer.add_hook("counter", counter);
  f.trainer.run();
  EXPECT_EQ(counter->log, (std::vector<std::string>{
                              "first: micro-batch 2 of 3, forwards 1", "second: micro-batch 2 of 3, forwards 2",
                              "first: micro-batch 2 of 3, forwards 1", "second: micro-batch 2 of 3, forwards 2"}));
  EXPECT_EQ(f.trainer.loader().cursor().batch, 6);
}

/// Sets the phase's learning rate from a hook at one step.
class SetsLr : public Hook {
 public:
  SetsLr(std::int64_t at, double lr) : at_(at), lr_(lr) {}
  void before_step(Step& step) override {
    if (step.run().global_step() == at_) step.run().phase("adam").set_lr(lr_);
    seen.push_back(step.run().phase("adam").lr(0));
  }
  std::vector<double> seen;

 private:
  std::int64_t at_;
  double lr_;
};

TEST(training_controls, a_hook_sets_the_learning_rate_the_optimizer_updates_with) {
  Fixture f(mlp_experiment("", 5));
  auto hook = std::make_shared<SetsLr>(2, 0.25);
  f.trainer.add_hook("sets_lr", hook);
  f.trainer.run();
  EXPECT_EQ(hook->seen, (std::vector<double>{1e-2, 1e-2, 0.25, 0.25, 0.25}));
  EXPECT_EQ(f.trainer.phases().at(0).optimizer->param_groups().at(0).options().get_lr(), 0.25);
  // The supervisor's lr/adam: the rate of each step's update.
  EXPECT_EQ(f.recorder.values("lr/adam"), (std::vector<double>{1e-2, 1e-2, 0.25, 0.25, 0.25}));
}

TEST(training_controls, a_learning_rate_set_by_a_hook_resumes_exactly) {
  // Straight: 8 steps, the hook setting 0.25 at step 2. Resumed: 4 steps, the state, then a
  // fresh trainer (whose hook never fires again) from it to 8.
  Fixture straight(mlp_experiment("", 8));
  straight.trainer.add_hook("sets_lr", std::make_shared<SetsLr>(2, 0.25));
  straight.trainer.run();
  const TensorMap end = straight.trainer.capture_state();

  Fixture first(mlp_experiment("", 4));
  first.trainer.add_hook("sets_lr", std::make_shared<SetsLr>(2, 0.25));
  first.trainer.run();
  const TensorMap middle = first.trainer.capture_state();
  EXPECT_EQ(middle.at("lr/adam/0").scalar_type(), torch::kDouble);
  EXPECT_EQ(middle.at("lr/adam/0").item<double>(), 0.25);

  Fixture second(mlp_experiment("", 8));
  auto hook = std::make_shared<SetsLr>(-1, 0);
  second.trainer.add_hook("sets_lr", hook);
  second.trainer.restore_state(middle);
  EXPECT_EQ(second.trainer.phase("adam").lr(0), 0.25);
  second.trainer.run();
  EXPECT_EQ(hook->seen, (std::vector<double>{0.25, 0.25, 0.25, 0.25}));
  const TensorMap resumed = second.trainer.capture_state();
  ASSERT_EQ(resumed.names(), end.names());
  for (const std::string& name : end.names())
    EXPECT_TRUE(torch::equal(resumed.at(name), end.at(name))) << name << " differs after the resume";
}

TEST(training_controls, a_checkpoint_without_learning_rates_restores_the_configured_one) {
  Fixture first(mlp_experiment("", 3));
  first.trainer.add_hook("sets_lr", std::make_shared<SetsLr>(1, 0.25));
  first.trainer.run();
  TensorMap old("checkpoint");
  for (const auto& [name, tensor] : first.trainer.capture_state())
    if (name.rfind("lr/", 0) != 0) old.set(name, tensor);

  Fixture second(mlp_experiment("", 6));
  second.trainer.add_hook("sets_lr", std::make_shared<SetsLr>(-1, 0));
  second.trainer.phase("adam").set_lr(0.5);
  second.trainer.restore_state(old);
  EXPECT_EQ(second.trainer.global_step(), 3);
  EXPECT_EQ(second.trainer.phase("adam").lr(0), 1e-2);
}

TEST(training_controls, a_learning_rate_entry_of_no_phase_is_unexpected) {
  Fixture f(mlp_experiment("", 1));
  f.trainer.run();
  TensorMap state = f.trainer.capture_state();
  state.set("lr/adma/0", torch::tensor(0.1, torch::kDouble));
  state.set("lr/adam/3", torch::tensor(0.1, torch::kDouble));
  try {
    f.trainer.restore_state(state);
    FAIL() << "restored";
  } catch (const CheckpointError& e) {
    EXPECT_NE(std::string(e.what()).find("unexpected: lr/adam/3, lr/adma/0"), std::string::npos) << e.what();
  }
}

TEST(training_controls, a_schedule_sets_the_rate_before_the_hooks_and_a_hook_wins_for_its_step) {
  // step: 0.01 halved every 2 steps; the hook sets 0.25 at step 3, for step 3 only.
  Fixture f(with_optimizer_keys("schedule = { type = \"step\", step_size = 2, gamma = 0.5 }\n", /*max_steps=*/6));
  auto hook = std::make_shared<SetsLr>(3, 0.25);
  f.trainer.add_hook("sets_lr", hook);
  f.trainer.run();
  EXPECT_EQ(hook->seen, (std::vector<double>{0.01, 0.01, 0.005, 0.25, 0.0025, 0.0025}));
  EXPECT_EQ(f.recorder.values("lr/adam"), (std::vector<double>{0.01, 0.01, 0.005, 0.25, 0.0025, 0.0025}));
}

TEST(training_controls, a_schedules_state_is_in_checkpoints_and_a_resume_continues_it) {
  // fixture_schedule's "counting" halves the rate at each call and keeps the calls as state.
  const std::string text =
      with_optimizer_keys("schedule = { plugin = \"counting\" }\n", /*max_steps=*/6) +
      "[plugins]\npaths = [\"" KILN_FIXTURE_DIR "/../schedule\"]\n";
  Fixture straight(text);
  straight.trainer.run();
  const TensorMap end = straight.trainer.capture_state();
  EXPECT_EQ(end.at("schedule/adam/calls").item<std::int64_t>(), 6);

  Fixture first(text, {"experiment.max_steps=3"});
  first.trainer.run();
  const TensorMap middle = first.trainer.capture_state();
  EXPECT_EQ(middle.at("schedule/adam/calls").item<std::int64_t>(), 3);
  Fixture second(text);
  second.trainer.restore_state(middle);
  second.trainer.run();
  // Its rates went on from the fourth call: 0.01 / 2^3, / 2^4, / 2^5.
  const std::vector<double> rates = second.recorder.values("lr/adam");
  EXPECT_EQ(rates, (std::vector<double>{0.01 / 8, 0.01 / 16, 0.01 / 32}));
  const TensorMap resumed = second.trainer.capture_state();
  ASSERT_EQ(resumed.names(), end.names());
  for (const std::string& name : end.names())
    EXPECT_TRUE(torch::equal(resumed.at(name), end.at(name))) << name << " differs after the resume";
}

TEST(training_controls, phase_names_and_an_unknown_phase_name_the_phases) {
  Fixture f(mlp_experiment("", 1));
  EXPECT_EQ(f.trainer.phase_names(), (std::vector<std::string>{"adam"}));
  EXPECT_EQ(f.trainer.phase("adam").name(), "adam");
  EXPECT_EQ(f.trainer.phase("adam").parameters().size(), 4u);
  EXPECT_EQ(f.trainer.phase("adam").param_groups(), 1u);
  try {
    f.trainer.phase("adma");
    FAIL();
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "this run has no phase 'adma'; did you mean 'adam'? (phases: adam)");
  }
}

TEST(training_controls, set_lr_refuses_rates_that_are_negative_or_not_finite_and_groups_out_of_range) {
  Fixture f(mlp_experiment("", 1));
  PhaseHandle& phase = f.trainer.phase("adam");
  for (const double bad : {-1.0, std::nan(""), static_cast<double>(INFINITY)}) {
    try {
      phase.set_lr(bad);
      FAIL() << bad;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("phase 'adam': a learning rate must be a finite number, 0 or more, got"),
                std::string::npos)
          << e.what();
    }
  }
  EXPECT_EQ(phase.lr(0), 1e-2);
  try {
    phase.lr(1);
    FAIL();
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "phase 'adam' has no parameter group 1 (it has 1)");
  }
  EXPECT_THROW(phase.set_lr(0.1, 1), Error);
  phase.set_lr(0.0);
  EXPECT_EQ(phase.lr(0), 0.0);
}

TEST(training_controls, latest_summary_is_the_value_of_the_highest_step_the_last_of_ties) {
  Fixture f(mlp_experiment("", 4));
  EXPECT_FALSE(f.trainer.latest_summary("eval/l1"));
  f.trainer.summary("eval/l1", 5, 1.0);
  f.trainer.summary("eval/l1", 3, 2.0);
  EXPECT_EQ(f.trainer.latest_summary("eval/l1")->step, 5);
  EXPECT_EQ(f.trainer.latest_summary("eval/l1")->value, 1.0);
  f.trainer.summary("eval/l1", 5, 3.0);
  EXPECT_EQ(f.trainer.latest_summary("eval/l1")->value, 3.0);
  // What the run recorded: the supervisor's last loss, and a tensor summary once read.
  class TensorSummary : public Hook {
    void after_step(Step& step) override { step.summary("custom/x", torch::tensor(2.0 * step.global_step())); }
  };
  f.trainer.add_hook("tensor", std::make_shared<TensorSummary>());
  f.trainer.run();
  const auto loss = f.trainer.latest_summary("loss/mse");
  ASSERT_TRUE(loss);
  EXPECT_EQ(loss->step, 3);
  EXPECT_EQ(loss->value, f.recorder.values("loss/mse").back());
  EXPECT_EQ(f.trainer.latest_summary("custom/x")->value, 6.0);
}

TEST(training_controls, a_tag_recorded_twice_at_a_step_is_said_once_but_not_for_steps_a_restore_sends_back_over) {
  std::ostringstream log;
  const auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(log);
  spdlog::default_logger()->sinks().push_back(sink);
  Fixture f(mlp_experiment("", 4));
  f.trainer.run();
  f.trainer.summary("eval/l1", 10, 1.0);
  f.trainer.summary("eval/l1", 10, 1.0);  // the same value again: nothing to say
  const TensorMap state = f.trainer.capture_state();
  f.trainer.restore_state(state);
  f.trainer.summary("eval/l1", 10, 2.0);  // a step the restore sends the run back over
  EXPECT_EQ(log.str().find("recorded twice"), std::string::npos) << log.str();
  f.trainer.summary("eval/l1", 11, 1.0);
  f.trainer.summary("eval/l1", 11, 3.0);
  f.trainer.summary("eval/l1", 12, 1.0);
  f.trainer.summary("eval/l1", 12, 4.0);  // said once per tag
  spdlog::default_logger()->sinks().pop_back();
  const std::string said = log.str();
  EXPECT_NE(said.find("summary 'eval/l1' was recorded twice at step 11, 1 then 3: the database keeps the later"),
            std::string::npos) << said;
  EXPECT_EQ(said.find("recorded twice"), said.rfind("recorded twice")) << said;
  EXPECT_EQ(f.recorder.values("eval/l1").back(), 4.0);
}

TEST(training_controls, keep_checkpoint_without_a_saver_is_an_error) {
  Fixture f(mlp_experiment("", 1));
  try {
    f.trainer.keep_checkpoint("best");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("this run has no saver"), std::string::npos) << e.what();
  }
}

/// The first training batch of `f`, on its device.
Batch first_batch(Fixture& f) { return f.trainer.to_device(f.trainer.loader().next()); }

TEST(training_controls, an_error_in_a_loss_names_the_loss_and_the_phase) {
  Fixture f(mlp_experiment("", 40) + "", {"losses.mse.prediction=\"nope\""});
  Step step(f.trainer, 30);
  try {
    f.trainer.train_step(first_batch(f), step);
    FAIL();
  } catch (const Error& e) {
    const std::string what = e.what();
    // The run puts the step in front (Run::train, "step 30: in loss ...": tests/cli/signal_test.cpp).
    EXPECT_EQ(what.rfind("in loss 'mse' (phase 'adam'): ", 0), 0u) << what;
    EXPECT_NE(what.find("nope"), std::string::npos) << what;
  }
}

TEST(training_controls, a_torch_error_in_a_model_becomes_an_error_without_a_backtrace) {
  // The model expects 5 inputs; the data has 4: the first linear layer's matmul fails.
  Fixture f(mlp_experiment("", 40), {"model.inputs=5"});
  Step step(f.trainer, 30);
  try {
    f.trainer.train_step(first_batch(f), step);
    FAIL();
  } catch (const c10::Error& e) {
    FAIL() << "a torch error came through as it was: " << e.what();
  } catch (const Error& e) {
    const std::string what = e.what();
    EXPECT_EQ(what.rfind("in model 'mlp' (phase 'adam'): ", 0), 0u) << what;
    EXPECT_EQ(what.find("Exception raised from"), std::string::npos) << what;
    EXPECT_GT(what.size(), std::string("in model 'mlp' (phase 'adam'): ").size()) << what;
  }
}

/// Throws in `stage` when the run's global step is `at`.
class ThrowsAt : public Hook {
 public:
  ThrowsAt(std::string stage, std::int64_t at) : stage_(std::move(stage)), at_(at) {}
  void before_step(Step& step) override { check("before_step", step); }
  void before_update(Step& step) override { check("before_update", step); }
  void after_phase(Step& step) override { check("after_phase", step); }
  void after_step(Step& step) override { check("after_step", step); }

 private:
  void check(const char* stage, Step& step) {
    if (stage == stage_ && step.run().global_step() == at_)
      throw Error(fmt::format("{} saw global_step() {}", stage, step.run().global_step()));
  }
  std::string stage_;
  std::int64_t at_;
};

TEST(training_controls, a_failure_is_reported_at_the_global_step_the_failing_code_saw) {
  for (const std::string stage : {"before_step", "before_update", "after_phase", "after_step"}) {
    SCOPED_TRACE(stage);
    TempDir dir;
    kiln::test::RunFixture run(dir, mlp_experiment("", 40), {"supervisor.log_every_steps=0"});
    run.trainer.add_hook("thrower", std::make_shared<ThrowsAt>(stage, 30));
    const RunOutcome outcome = run.execute();
    EXPECT_EQ(outcome.status, "failed");
    EXPECT_EQ(outcome.error, fmt::format("step 30: {} saw global_step() 30 (in hook 'thrower', {})", stage, stage));
    EXPECT_EQ(outcome.step, 30);
  }
}

}  // namespace
}  // namespace kiln::runner
