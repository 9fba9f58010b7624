// Phases: each optimizer updates only its own parameter group, in `after` order; the
// optimizer table builds, checkpoints and restores each type exactly.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "../support/experiment_file.hpp"
#include "../support/memory_recorder.hpp"
#include "config/experiment.hpp"
#include "plugins/plugin_host.hpp"
#include "train/optimizers.hpp"
#include "train/trainer.hpp"

namespace kiln::runner {
namespace {

using kiln::test::MemoryRecorder;
using kiln::test::mlp_experiment;
using kiln::test::TempDir;
using kiln::test::write_text;

std::string two_towers(const std::string& loss = "mean_square") {
  return std::string("[experiment]\nname = \"towers\"\nseed = 3\nmax_steps = 2\nthreads = 1\n") +
         "[plugins]\npaths = [\"" KILN_FIXTURE_DIR "\"]\n"
         "[data]\nplugin = \"noise\"\nbatch_size = 8\n"
         "[model]\nplugin = \"two_towers\"\n"
         "[[losses]]\nname = \"m\"\nplugin = \"" + loss + "\"\n"
         "[[optimizers]]\nname = \"second\"\ntype = \"sgd\"\nparams = \"b\"\nlr = 0.1\nlosses = [\"m\"]\nafter = [\"first\"]\n"
         "[[optimizers]]\nname = \"first\"\ntype = \"sgd\"\nparams = \"a\"\nlr = 0.1\nlosses = [\"m\"]\n";
}

/// After each phase: which groups changed since the previous snapshot, and which have grads.
class PhaseWatcher : public Hook {
 public:
  void before_step(Step& step) override { snapshot(step.run().model()); }
  void after_phase(Step& step) override {
    auto groups = step.run().model().parameter_groups();
    std::string changed, with_grad;
    for (auto& [name, params] : groups) {
      for (std::size_t i = 0; i < params.size(); ++i) {
        if (!torch::equal(params[i], before_[name][i])) {
          changed += name;
          break;
        }
      }
      if (params[0].grad().defined()) with_grad += name;
    }
    log.push_back(step.phase() + ": changed " + changed + ", grads " + with_grad +
                  ", forwards " + std::to_string(step.outputs().at("forwards").item<int>()));
    snapshot(step.run().model());
  }
  std::vector<std::string> log;

 private:
  void snapshot(Model& model) {
    before_.clear();
    for (auto& [name, params] : model.parameter_groups())
      for (auto& p : params) before_[name].push_back(p.detach().clone());
  }
  std::map<std::string, std::vector<torch::Tensor>> before_;
};

TEST(phases, each_phase_updates_only_its_group_in_after_order) {
  TempDir dir;
  const auto spec = load_experiment(write_text(dir, "exp.toml", two_towers()));
  PluginHost host(spec.plugin_paths, KILN_PLUGIN_DIR);
  Trainer trainer(spec, host);
  auto watcher = std::make_shared<PhaseWatcher>();
  trainer.add_hook("watcher", watcher, 0);
  MemoryRecorder recorder;
  trainer.attach(recorder, "towers", dir.path());
  trainer.run();
  // "first" runs before "second" though declared after it; the scratch counts the
  // forward passes of one step and starts again at the next step. Group b never gets a
  // gradient in phase "first": no wasted gradients for the other network.
  EXPECT_EQ(watcher->log, (std::vector<std::string>{
                              "first: changed a, grads a, forwards 1",
                              "second: changed b, grads ab, forwards 2",
                              "first: changed a, grads ab, forwards 1",
                              "second: changed b, grads ab, forwards 2"}));
}

TEST(phases, a_loss_that_is_not_a_scalar_fails_the_step) {
  TempDir dir;
  const auto spec = load_experiment(write_text(dir, "exp.toml", two_towers("not_scalar")));
  PluginHost host(spec.plugin_paths, KILN_PLUGIN_DIR);
  Trainer trainer(spec, host);
  MemoryRecorder recorder;
  trainer.attach(recorder, "towers", dir.path());
  try {
    trainer.run();
    FAIL();
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "loss 'm' returned a tensor of shape [8, 1]; a loss must return a scalar");
  }
}

/// mlp_experiment with its one optimizer replaced by `optimizer` (keys after `type`).
std::string with_optimizer(const std::string& optimizer) {
  const std::string text = mlp_experiment();
  return text.substr(0, text.find("[[optimizers]]")) + "[[optimizers]]\nname = \"opt\"\nlosses = [\"mse\"]\ntype = " +
         optimizer + "\n";
}

/// A trainer of `text` run to `steps`, from `restore` when given; its state at the end.
TensorMap train(const std::string& text, long steps, const TensorMap* restore = nullptr) {
  TempDir dir;
  const auto spec = load_experiment(write_text(dir, "exp.toml", text), {"experiment.max_steps=" + std::to_string(steps)});
  PluginHost host(spec.plugin_paths, KILN_PLUGIN_DIR);
  Trainer trainer(spec, host);
  MemoryRecorder recorder;
  trainer.attach(recorder, "t", dir.path());
  if (restore) trainer.restore_state(*restore);
  trainer.run();
  return trainer.capture_state();
}

/// The names in `state` that start with `prefix`.
std::vector<std::string> names_with(const TensorMap& state, const std::string& prefix) {
  std::vector<std::string> out;
  for (const std::string& name : state.names())
    if (name.rfind(prefix, 0) == 0) out.push_back(name);
  return out;
}

TEST(optimizers, an_unknown_type_is_an_error_never_a_fallback) {
  try {
    optimizer_type("lion");
    FAIL();
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "no optimizer type 'lion' (types: adam, adamw, sgd)");
  }
}

TEST(optimizers, options_of_another_type_are_an_error) {
  const torch::optim::SGDOptions sgd(0.1);
  try {
    optimizer_type("adam").build(sgd, 0.1, {torch::zeros({2}, torch::requires_grad())});
    FAIL();
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "optimizer type 'adam' was given options of another optimizer type");
  }
}

TEST(optimizers, each_type_gets_and_sets_its_learning_rate) {
  for (const std::string& name : optimizer_type_names()) {
    TempDir dir;
    const auto spec = load_experiment(write_text(dir, "exp.toml", with_optimizer("\"" + name + "\"\nlr = 0.25")));
    const OptimizerType& type = optimizer_type(name);
    auto optimizer = make_optimizer(spec.optimizers.at(0), {torch::zeros({2}, torch::requires_grad())});
    EXPECT_DOUBLE_EQ(type.lr(*optimizer), 0.25) << name;
    type.set_lr(*optimizer, 0.125);
    EXPECT_DOUBLE_EQ(type.lr(*optimizer), 0.125) << name;
  }
}

TEST(optimizers, a_resumed_run_of_each_type_ends_bit_identical_to_an_uninterrupted_one) {
  const std::vector<std::pair<std::string, std::vector<std::string>>> cases = {
      {"\"adam\"\nweight_decay = 0.01", {"exp_avg", "exp_avg_sq", "step"}},
      {"\"adamw\"", {"exp_avg", "exp_avg_sq", "step"}},
      {"\"sgd\"\nmomentum = 0.9\nnesterov = true", {"momentum_buffer"}},
  };
  for (const auto& [optimizer, fields] : cases) {
    const std::string text = with_optimizer(optimizer);
    const TensorMap straight = train(text, 6);
    const TensorMap halfway = train(text, 3);
    const TensorMap resumed = train(text, 6, &halfway);
    std::vector<std::string> expected;
    for (const std::string& field : fields) expected.push_back("optim/opt/0/" + field);
    EXPECT_EQ(names_with(halfway, "optim/opt/0/"), expected) << optimizer;
    ASSERT_EQ(resumed.names(), straight.names()) << optimizer;
    for (const std::string& name : straight.names())
      EXPECT_TRUE(torch::equal(resumed.at(name), straight.at(name))) << optimizer << ": " << name;
    EXPECT_EQ(halfway.at("step").item<std::int64_t>(), 3);
  }
}

TEST(optimizers, state_of_another_type_is_refused_naming_it) {
  const TensorMap adam = train(with_optimizer("\"adam\""), 2);
  TempDir dir;
  const auto spec = load_experiment(write_text(dir, "exp.toml", with_optimizer("\"sgd\"\nmomentum = 0.9")));
  PluginHost host(spec.plugin_paths, KILN_PLUGIN_DIR);
  Trainer trainer(spec, host);
  try {
    trainer.restore_state(adam);
    FAIL();
  } catch (const CheckpointError& e) {
    EXPECT_NE(std::string(e.what()).find("unexpected: optim/opt/0 (state of another optimizer type than sgd)"),
              std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace kiln::runner
