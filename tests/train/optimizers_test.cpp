// The optimizer table reads an [[optimizers]] entry: its type, checked with a did-you-mean,
// and the type's own keys, each a positioned error when bad, when the optimizer is built.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "../support/experiment_file.hpp"
#include "config/experiment.hpp"
#include "plugins/plugin_host.hpp"
#include "train/optimizers.hpp"
#include "train/trainer.hpp"

namespace kiln::runner {
namespace {

using kiln::test::mlp_experiment;
using kiln::test::TempDir;
using kiln::test::write_text;

/// The mlp experiment with `optimizer` as its one [[optimizers]] entry.
std::string with_optimizer(const std::string& optimizer) {
  const std::string text = mlp_experiment();
  return text.substr(0, text.find("[[optimizers]]")) + "[[optimizers]]\nlosses = [\"mse\"]\n" + optimizer;
}

/// The optimizer the table builds for the one entry of `text`, on one parameter.
std::unique_ptr<torch::optim::Optimizer> build(const std::string& text) {
  TempDir dir;
  const ExperimentSpec spec = load_experiment(write_text(dir, "exp.toml", text));
  return make_optimizer(spec.optimizers.at(0), {torch::zeros({2}, torch::requires_grad())});
}

/// The error building it gives, the file's path shown as exp.toml.
std::string error_of(const std::string& text, const std::vector<std::string>& overrides = {}) {
  TempDir dir;
  const auto file = write_text(dir, "exp.toml", text);
  try {
    make_optimizer(load_experiment(file, overrides).optimizers.at(0), {torch::zeros({2}, torch::requires_grad())});
  } catch (const ConfigError& e) {
    const std::string what = e.what();
    return what.rfind(file.string(), 0) == 0 ? "exp.toml" + what.substr(file.string().size()) : what;
  }
  return "(no error)";
}

template <class Options>
const Options& options_of(const torch::optim::Optimizer& optimizer) {
  return dynamic_cast<const Options&>(optimizer.defaults());
}

TEST(optimizer_table, each_type_reads_its_own_keys_and_has_its_default_lr) {
  const auto adam = build(with_optimizer("type = \"adam\"\nbetas = [0.5, 0.99]\neps = 1e-6\nweight_decay = 0.1\n"));
  const auto& adam_options = options_of<torch::optim::AdamOptions>(*adam);
  EXPECT_DOUBLE_EQ(optimizer_type("adam").lr(*adam), 1e-3);
  EXPECT_DOUBLE_EQ(std::get<0>(adam_options.betas()), 0.5);
  EXPECT_DOUBLE_EQ(std::get<1>(adam_options.betas()), 0.99);
  EXPECT_DOUBLE_EQ(adam_options.eps(), 1e-6);
  EXPECT_DOUBLE_EQ(adam_options.weight_decay(), 0.1);
  EXPECT_FALSE(adam_options.amsgrad());

  const auto adamw = build(with_optimizer("type = \"adamw\"\nlr = 0.5\n"));
  const auto& adamw_options = options_of<torch::optim::AdamWOptions>(*adamw);
  EXPECT_DOUBLE_EQ(optimizer_type("adamw").lr(*adamw), 0.5);
  EXPECT_DOUBLE_EQ(std::get<0>(adamw_options.betas()), 0.9);
  EXPECT_DOUBLE_EQ(std::get<1>(adamw_options.betas()), 0.999);
  EXPECT_DOUBLE_EQ(adamw_options.eps(), 1e-8);
  EXPECT_DOUBLE_EQ(adamw_options.weight_decay(), 1e-2);
  EXPECT_FALSE(adamw_options.amsgrad());
  const auto amsgrad = build(with_optimizer("type = \"adamw\"\namsgrad = true\n"));
  EXPECT_TRUE(options_of<torch::optim::AdamWOptions>(*amsgrad).amsgrad());

  const auto sgd = build(with_optimizer("type = \"sgd\"\nnesterov = true\nmomentum = 0.5\n"));
  const auto& sgd_options = options_of<torch::optim::SGDOptions>(*sgd);
  EXPECT_DOUBLE_EQ(optimizer_type("sgd").lr(*sgd), 1e-2);
  EXPECT_DOUBLE_EQ(sgd_options.momentum(), 0.5);
  EXPECT_TRUE(sgd_options.nesterov());
  EXPECT_DOUBLE_EQ(sgd_options.weight_decay(), 0.0);
  EXPECT_DOUBLE_EQ(sgd_options.dampening(), 0.0);
  const auto damped = build(with_optimizer("type = \"sgd\"\nmomentum = 0.9\ndampening = 0.25\n"));
  EXPECT_DOUBLE_EQ(options_of<torch::optim::SGDOptions>(*damped).dampening(), 0.25);
}

TEST(optimizer_table, an_unknown_type_is_an_error_at_type_with_a_suggestion) {
  std::string text = mlp_experiment();
  text.replace(text.find("type = \"adam\""), 13, "type = \"adamm\"");
  EXPECT_EQ(error_of(text), "exp.toml:20:8: optimizers.adam.type: expected \"adam\", \"adamw\" or \"sgd\", got "
                            "\"adamm\"; did you mean \"adam\"?");
}

TEST(optimizer_table, bad_option_values_are_errors_at_their_keys) {
  EXPECT_EQ(error_of(mlp_experiment(), {"optimizers.adam.eps=0"}),
            "--set optimizers.adam.eps=0: optimizers.adam.eps: must be greater than 0, got 0");
  EXPECT_EQ(error_of(mlp_experiment(), {"optimizers.adam.weight_decay=-1"}),
            "--set optimizers.adam.weight_decay=-1: optimizers.adam.weight_decay: must be 0 or more, got -1");
  EXPECT_EQ(error_of(mlp_experiment(), {"optimizers.adam.type=\"sgd\"", "optimizers.adam.momentum=-0.5"}),
            "--set optimizers.adam.momentum=-0.5: optimizers.adam.momentum: must be 0 or more, got -0.5");
  EXPECT_EQ(error_of(mlp_experiment(), {"optimizers.adam.betas=[0.9]"}),
            "--set optimizers.adam.betas=[0.9]: optimizers.adam.betas: expected two numbers in [0, 1), e.g. "
            "[0.5, 0.999]");
  EXPECT_EQ(error_of(mlp_experiment(), {"optimizers.adam.betas=[0.9, 1]"}),
            "--set optimizers.adam.betas=[0.9, 1]: optimizers.adam.betas[1]: must be in [0, 1), got 1");
  EXPECT_EQ(error_of(mlp_experiment(), {"optimizers.adam.type=\"sgd\"", "optimizers.adam.dampening=2"}),
            "--set optimizers.adam.dampening=2: optimizers.adam.dampening: must be between 0 and 1, got 2");
  // LibTorch's SGD refuses these too, but with no position.
  EXPECT_EQ(error_of(mlp_experiment(), {"optimizers.adam.type=\"sgd\"", "optimizers.adam.nesterov=true"}),
            "--set optimizers.adam.nesterov=true: optimizers.adam.nesterov: nesterov momentum needs momentum > 0 and "
            "dampening = 0, got momentum = 0 and dampening = 0");
  EXPECT_EQ(error_of(mlp_experiment(), {"optimizers.adam.type=\"sgd\"", "optimizers.adam.nesterov=true",
                                        "optimizers.adam.momentum=0.9", "optimizers.adam.dampening=0.5"}),
            "--set optimizers.adam.nesterov=true: optimizers.adam.nesterov: nesterov momentum needs momentum > 0 and "
            "dampening = 0, got momentum = 0.9 and dampening = 0.5");
}

TEST(optimizer_table, a_key_of_another_type_is_left_unread) {
  TempDir dir;
  const auto spec =
      load_experiment(write_text(dir, "exp.toml", mlp_experiment("momentum = 0.9\nbetas = [0.5, 0.9]\n")));
  make_optimizer(spec.optimizers.at(0), {torch::zeros({2}, torch::requires_grad())});
  EXPECT_EQ(spec.optimizers.at(0).config.unread_keys(), std::vector<std::string>{"optimizers.adam.momentum"});
}

TEST(optimizer_table, the_trainer_checks_every_optimizer_before_any_run) {
  TempDir dir;
  const auto file = write_text(dir, "exp.toml", with_optimizer("name = \"g\"\ntype = \"sdg\"\n"));
  const ExperimentSpec spec = load_experiment(file);
  PluginHost host(spec.plugin_paths, KILN_PLUGIN_DIR);
  try {
    Trainer trainer(spec, host);
    FAIL() << "type = \"sdg\" was accepted";
  } catch (const ConfigError& e) {
    EXPECT_EQ(std::string(e.what()), file.string() + ":21:8: optimizers.g.type: expected \"adam\", \"adamw\" or "
                                                     "\"sgd\", got \"sdg\"; did you mean \"sgd\"?");
  }
}

}  // namespace
}  // namespace kiln::runner
