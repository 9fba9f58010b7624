// pix2pix trained by the runner: per step, the discriminator's update, then the generator's.
#include <set>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "pix2pix_experiment.hpp"

namespace kiln::test {
namespace {

/// After each phase: which parameter groups changed since the previous snapshot (taken in
/// before_step and after every phase). BatchNorm running statistics are buffers, not
/// parameters, so a forward pass alone changes no group.
class GroupWatcher : public Hook {
 public:
  void before_step(Step& step) override { snapshot(step.run().model()); }
  void after_phase(Step& step) override {
    std::string changed;
    for (const auto& [name, params] : step.run().model().parameter_groups()) {
      const auto& before = before_.at(name);
      for (std::size_t i = 0; i < params.size(); ++i) {
        if (!torch::equal(params[i], before[i])) {
          changed += changed.empty() ? name : ", " + name;
          break;
        }
      }
    }
    log.push_back(step.phase() + ": " + changed);
    snapshot(step.run().model());
  }

  std::vector<std::string> log;

 private:
  void snapshot(Model& model) {
    before_.clear();
    for (const auto& [name, params] : model.parameter_groups())
      for (const auto& p : params) before_[name].push_back(p.detach().clone());
  }
  std::map<std::string, std::vector<torch::Tensor>> before_;
};

/// Checks, phase by phase, that every phase of a step sees the one fake the step made first.
class FakeWatcher : public Hook {
 public:
  void before_step(Step&) override { first_.reset(); }
  void after_phase(Step& step) override {
    const torch::Tensor& fake = step.outputs().at("fake");
    if (!first_.defined()) first_ = fake;
    log.push_back(step.phase() + (fake.is_same(first_) ? ": the step's fake" : ": another fake"));
    losses = step.losses().names();
  }

  std::vector<std::string> log;
  std::vector<std::string> losses;  ///< after the step's last phase

 private:
  torch::Tensor first_;
};

/// The value of every num_batches_tracked buffer under `prefix`: the training-mode forward
/// passes each BatchNorm has seen.
std::set<std::int64_t> batches_tracked(Model& model, const std::string& prefix) {
  std::set<std::int64_t> counts;
  for (const auto& buffer : model.named_buffers()) {
    const std::string& name = buffer.key();
    if (name.rfind(prefix, 0) == 0 && name.find("num_batches_tracked") != std::string::npos)
      counts.insert(buffer.value().item<std::int64_t>());
  }
  return counts;
}

TEST(pix2pix_training, discriminator_phase_changes_only_d_then_generator_phase_only_g) {
  TrainerFixture run(pix2pix_experiment(32, "ngf = 8\nndf = 8\n", /*max_steps=*/2));
  auto watcher = std::make_shared<GroupWatcher>();
  run.trainer.add_hook("groups", watcher, 0);
  run.trainer.run();
  // The generator's optimizer is declared first but comes `after` the discriminator's.
  EXPECT_EQ(watcher->log, (std::vector<std::string>{"discriminator: discriminator", "generator: generator",
                                                     "discriminator: discriminator", "generator: generator"}));
}

TEST(pix2pix_training, generator_runs_once_per_step_and_both_phases_use_its_fake) {
  TrainerFixture run(pix2pix_experiment(32, "ngf = 8\nndf = 8\n", /*max_steps=*/3));
  auto watcher = std::make_shared<FakeWatcher>();
  run.trainer.add_hook("fakes", watcher, 0);
  run.trainer.run();

  EXPECT_EQ(watcher->log, (std::vector<std::string>{"discriminator: the step's fake", "generator: the step's fake",
                                                     "discriminator: the step's fake", "generator: the step's fake",
                                                     "discriminator: the step's fake", "generator: the step's fake"}));
  EXPECT_EQ(watcher->losses, (std::vector<std::string>{"d_fake", "d_real", "g_gan", "l1"}));
  // Every training-mode forward pass counts in BatchNorm's num_batches_tracked: the
  // generator ran once per step; the discriminator three times (real, detached fake, fake).
  Model& model = run.trainer.model();
  EXPECT_EQ(batches_tracked(model, "generator."), std::set<std::int64_t>{3});
  EXPECT_EQ(batches_tracked(model, "discriminator."), std::set<std::int64_t>{9});
}

TEST(pix2pix_training, a_misnamed_discriminator_phase_fails_naming_the_outputs_there_are) {
  TrainerFixture run(pix2pix_experiment(32, "ngf = 8\nndf = 8\ndiscriminator_phase = \"disc\"\n", 1));
  try {
    run.trainer.run();
    FAIL() << "the d_real loss found no d_real";
  } catch (const Error& e) {
    // The discriminator's phase is served as a generator phase: no d_real.
    EXPECT_STREQ(e.what(),
                 "in loss 'd_real' (phase 'discriminator'): no tensor 'd_real' in outputs (has: d_fake, fake)");
  }
}

}  // namespace
}  // namespace kiln::test
