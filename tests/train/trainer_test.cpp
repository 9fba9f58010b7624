// The training loop on the in-tree hello-world plugins: determinism, learning, hooks, stops.
#include <functional>
#include <stdexcept>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "../support/experiment_file.hpp"
#include "../support/memory_recorder.hpp"
#include "../support/trainer_fixture.hpp"
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

using Fixture = kiln::test::TrainerFixture;

std::vector<double> losses_of_a_run(long steps) {
  Fixture f(mlp_experiment("", steps), {"supervisor.summary_every_steps=1", "supervisor.log_every_steps=0"});
  f.trainer.run();
  return f.recorder.values("loss/mse");
}

/// A hook with state that refuses to take any back, as one would on a format it does not know.
class Refusing : public Hook {
 public:
  TensorMap state() const override {
    TensorMap state("hook state");
    state.set("count", torch::tensor(count_));
    return state;
  }
  void load_state(const TensorMap&) override { throw Error("refusing: state of an unknown version"); }
  void after_step(Step&) override { ++count_; }

 private:
  std::int64_t count_ = 0;
};

/// A hook whose prepare() refuses the experiment with `error`.
class RefusesToPrepare : public Hook {
 public:
  explicit RefusesToPrepare(std::function<void()> error) : error_(std::move(error)) {}
  void prepare(RunContext&) override { error_(); }

 private:
  std::function<void()> error_;
};

TEST(trainer, a_hook_refusing_in_prepare_is_named_unless_its_error_is_at_its_key) {
  Fixture f(mlp_experiment("", 3));
  f.trainer.add_hook("eval_mse", std::make_shared<RefusesToPrepare>([] { throw Error("needs an [eval_data] table"); }));
  try {
    f.trainer.prepare();
    ADD_FAILURE() << "prepare() passed";
  } catch (const ConfigError& e) {
    ADD_FAILURE() << "not a ConfigError: " << e.what();
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "needs an [eval_data] table (hook 'eval_mse', prepare)");
  }
  // A std::exception of the plugin's own is named the same way.
  Fixture g(mlp_experiment("", 3));
  g.trainer.add_hook("odd", std::make_shared<RefusesToPrepare>([] { throw std::runtime_error("odd refusal"); }));
  try {
    g.trainer.prepare();
    ADD_FAILURE() << "prepare() passed";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "odd refusal (hook 'odd', prepare)");
  }
  // A ConfigError is already at the hook's key: it comes out as it was.
  Fixture h(mlp_experiment("", 3));
  const Config model = h.spec.model.config;
  h.trainer.add_hook("keyed", std::make_shared<RefusesToPrepare>([model] { model.fail("plugin", "not this one"); }));
  try {
    h.trainer.prepare();
    ADD_FAILURE() << "prepare() passed";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("model.plugin: not this one"), std::string::npos) << e.what();
    EXPECT_EQ(std::string(e.what()).find("(hook"), std::string::npos) << e.what();
  }
}

TEST(trainer, restore_refused_by_a_hook_leaves_the_trainer_as_it_was) {
  // A checkpoint of step 10, then a trainer at step 3 of its own asked to take it.
  Fixture trained(mlp_experiment("", 10), {"supervisor.log_every_steps=0"});
  trained.trainer.add_hook("refusing", std::make_shared<Refusing>());
  trained.trainer.run();
  const TensorMap checkpoint = trained.trainer.capture_state();

  Fixture f(mlp_experiment("", 3), {"supervisor.log_every_steps=0"});
  f.trainer.add_hook("refusing", std::make_shared<Refusing>());
  f.trainer.run();
  const TensorMap before = f.trainer.capture_state();
  ASSERT_FALSE(torch::equal(before.at("model/net.0.weight"), checkpoint.at("model/net.0.weight")));

  EXPECT_THROW(f.trainer.restore_state(checkpoint), Error);
  EXPECT_EQ(f.trainer.global_step(), 3);
  const TensorMap after = f.trainer.capture_state();
  ASSERT_EQ(after.names(), before.names());
  for (const auto& [name, tensor] : before) EXPECT_TRUE(torch::equal(tensor, after.at(name))) << name;
}

TEST(trainer, unknown_parameter_group_lists_the_groups) {
  TempDir dir;
  const auto spec = load_experiment(write_text(dir, "exp.toml", mlp_experiment()), {"optimizers.adam.params=gen"});
  PluginHost host(spec.plugin_paths, KILN_PLUGIN_DIR);
  try {
    Trainer trainer(spec, host);
    FAIL();
  } catch (const ConfigError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("optimizers.adam.params: model 'mlp' has no parameter group 'gen' (groups: all)"),
              std::string::npos)
        << what;
  }
}

TEST(trainer, same_seed_single_thread_gives_the_same_losses_twice) {
  const auto first = losses_of_a_run(30);
  const auto second = losses_of_a_run(30);
  ASSERT_EQ(first.size(), 30u);
  EXPECT_EQ(first, second);  // bit for bit
}

TEST(trainer, a_different_seed_gives_different_losses) {
  Fixture f(mlp_experiment("", 5), {"experiment.seed=2", "supervisor.summary_every_steps=1", "supervisor.log_every_steps=0"});
  f.trainer.run();
  EXPECT_NE(f.recorder.values("loss/mse"), losses_of_a_run(5));
}

TEST(trainer, the_loss_falls) {
  const auto losses = losses_of_a_run(200);
  ASSERT_EQ(losses.size(), 200u);
  double early = 0, late = 0;
  for (int i = 0; i < 10; ++i) early += losses[i], late += losses[190 + i];
  EXPECT_LT(late, 0.5 * early) << "early " << early / 10 << " late " << late / 10;
}

TEST(trainer, summaries_follow_the_schedule_and_include_the_last_step) {
  Fixture f(mlp_experiment("", 25), {"supervisor.log_every_steps=0"});
  f.trainer.run();
  std::vector<std::int64_t> steps;
  for (const auto& [step, value] : f.recorder.summaries.at("loss/mse")) steps.push_back(step);
  EXPECT_EQ(steps, (std::vector<std::int64_t>{0, 10, 20, 24}));
  EXPECT_EQ(f.recorder.summaries.at("time/step_ms").size(), 4u);
  EXPECT_EQ(f.trainer.global_step(), 25);
}

/// Records the stages it sees, tagged with its name, into a shared log.
class Tracer : public Hook {
 public:
  Tracer(std::string name, std::vector<std::string>& log) : name_(std::move(name)), log_(log) {}
  void begin(RunContext&) override { log_.push_back(name_ + ":begin"); }
  void before_step(Step& step) override { log_.push_back(name_ + ":before_step"); }
  void after_phase(Step& step) override { log_.push_back(name_ + ":after_phase:" + step.phase()); }
  void after_step(Step& step) override {
    log_.push_back(name_ + ":after_step");
    if (stop_at_ == step.global_step()) step.run().request_stop("enough");
  }
  void end(RunContext&) override { log_.push_back(name_ + ":end"); }
  std::int64_t stop_at_ = -1;

 private:
  std::string name_;
  std::vector<std::string>& log_;
};

TEST(trainer, hooks_run_by_priority_then_declaration_order) {
  Fixture f(mlp_experiment("", 1), {"supervisor.log_every_steps=0"});
  std::vector<std::string> log;
  f.trainer.add_hook("late", std::make_shared<Tracer>("late", log), 50);
  f.trainer.add_hook("first", std::make_shared<Tracer>("first", log), 10);
  f.trainer.add_hook("second", std::make_shared<Tracer>("second", log), 10);
  f.trainer.run();
  EXPECT_EQ(log, (std::vector<std::string>{
                     "first:begin", "second:begin", "late:begin",
                     "first:before_step", "second:before_step", "late:before_step",
                     "first:after_phase:adam", "second:after_phase:adam", "late:after_phase:adam",
                     "first:after_step", "second:after_step", "late:after_step",
                     "first:end", "second:end", "late:end"}));
}

TEST(trainer, request_stop_ends_the_run_after_that_step) {
  Fixture f(mlp_experiment("", 100), {"supervisor.log_every_steps=0"});
  std::vector<std::string> log;
  auto tracer = std::make_shared<Tracer>("t", log);
  tracer->stop_at_ = 4;
  f.trainer.add_hook("t", tracer, 10);
  f.trainer.run();
  EXPECT_EQ(f.trainer.global_step(), 5);
  EXPECT_TRUE(f.trainer.stop_requested());
  EXPECT_EQ(f.trainer.stop_reason(), "enough");
}

}  // namespace
}  // namespace kiln::runner
