// Phases: each optimizer updates only its own parameter group, in `after` order.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "../support/experiment_file.hpp"
#include "../support/memory_recorder.hpp"
#include "config/experiment.hpp"
#include "plugins/plugin_host.hpp"
#include "train/trainer.hpp"

namespace kiln::runner {
namespace {

using kiln::test::MemoryRecorder;
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

}  // namespace
}  // namespace kiln::runner
