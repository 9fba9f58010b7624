// The pix2pix model: its checks, the reference's sizes, and what each phase's forward returns.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "document.hpp"
#include "pix2pix_experiment.hpp"

namespace kiln::test {
namespace {

using detail::Document;

/// The model of a one-table document "[model]\nplugin = \"pix2pix\"\n<keys>", named exp.toml.
std::shared_ptr<Model> make_model(const std::string& keys) {
  auto doc = Document::parse("[model]\nplugin = \"pix2pix\"\n" + keys, "exp.toml");
  runner::PluginHost host({}, KILN_PLUGIN_DIR);
  return host.make_model("pix2pix", "", doc->root().table("model"));
}

std::string config_error(const std::string& keys) {
  try {
    make_model(keys);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "(no error)";
}

int dropout_layers(Model& model) {
  int count = 0;
  for (const auto& module : model.modules())
    if (module->as<torch::nn::Dropout>()) ++count;
  return count;
}

Batch random_pairs(std::int64_t n, std::int64_t size) {
  Batch batch("batch");
  batch.set("input", torch::rand({n, 3, size, size}) * 2 - 1);
  batch.set("target", torch::rand({n, 3, size, size}) * 2 - 1);
  return batch;
}

/// Whether `value` depends on any of `params` through the autograd graph.
bool depends_on(const torch::Tensor& value, const std::vector<torch::Tensor>& params) {
  const auto grads = torch::autograd::grad({value.sum()}, params, /*grad_outputs=*/{}, /*retain_graph=*/true,
                                           /*create_graph=*/false, /*allow_unused=*/true);
  for (const auto& g : grads)
    if (g.defined()) return true;
  return false;
}

TEST(pix2pix_model, image_size_that_is_not_a_power_of_two_is_a_positioned_error) {
  EXPECT_EQ(config_error("image_size = 48\n"),
            "exp.toml:3:14: model.image_size: must be a power of 2 and at least 4, got 48");
}

TEST(pix2pix_model, more_discriminator_layers_than_the_image_allows_is_a_positioned_error) {
  EXPECT_EQ(config_error("image_size = 32\nn_layers = 4\n"),
            "exp.toml:4:12: model.n_layers: 4 stride-2 layers leave no patch of a 32-pixel image; "
            "use fewer or larger images");
}

TEST(pix2pix_model, dropout_outside_zero_to_one_is_a_positioned_error) {
  EXPECT_EQ(config_error("dropout = 1.0\n"), "exp.toml:3:11: model.dropout: must be in [0, 1), got 1");
}

TEST(pix2pix_model, parameter_counts_at_256_equal_the_authors_implementation) {
  // unet_256 and the basic 70×70 PatchGAN with ngf = ndf = 64, norm = batch, as
  // pytorch-CycleGAN-and-pix2pix counts them. Built only, never run at this size.
  const auto model = make_model("");
  EXPECT_EQ(parameter_count(*model, "generator"), 54'413'955);
  EXPECT_EQ(parameter_count(*model, "discriminator"), 2'768'705);
  EXPECT_EQ(model->parameter_groups().size(), 2u);
  // The three ngf*8 decoder blocks after the bottleneck, and only them.
  EXPECT_EQ(dropout_layers(*model), 3);
}

TEST(pix2pix_model, smaller_images_have_fewer_levels_and_fewer_dropout_blocks) {
  EXPECT_EQ(dropout_layers(*make_model("image_size = 64\nngf = 4\nndf = 4\n")), 1);
  EXPECT_EQ(dropout_layers(*make_model("image_size = 32\nngf = 4\nndf = 4\n")), 0);
  EXPECT_EQ(dropout_layers(*make_model("image_size = 64\nngf = 4\nndf = 4\ndropout = 0\n")), 0);
}

TEST(pix2pix_model, weights_follow_the_reference_initialisation) {
  const auto model = make_model("image_size = 64\nngf = 32\nndf = 32\n");
  for (const auto& item : model->named_parameters()) {
    const std::string& name = item.key();
    const torch::Tensor& p = item.value();
    SCOPED_TRACE(name);
    const bool is_norm = p.dim() == 1 && name.find("weight") != std::string::npos;
    if (p.dim() == 4) {  // convolutions: N(0, 0.02)
      EXPECT_NEAR(p.std().item<double>(), 0.02, 0.004);
      EXPECT_NEAR(p.mean().item<double>(), 0.0, 0.004);
    } else if (is_norm) {  // BatchNorm weights: N(1, 0.02)
      EXPECT_NEAR(p.mean().item<double>(), 1.0, 0.02);
    } else {  // every bias starts at 0
      EXPECT_EQ(p.abs().max().item<double>(), 0.0);
    }
  }
}

TEST(pix2pix_model, discriminator_phase_scores_real_and_detached_fake_patches) {
  TrainerFixture run(pix2pix_experiment(32));
  Model& model = run.trainer.model();
  const Batch batch = random_pairs(2, 32);
  Step step(run.trainer, 0);
  step.set_phase("discriminator");
  const Outputs outputs = model.forward(batch, step);

  EXPECT_EQ(outputs.names(), (std::vector<std::string>{"d_fake", "d_real", "fake"}));
  EXPECT_EQ(outputs.at("fake").sizes(), torch::IntArrayRef({2, 3, 32, 32}));
  EXPECT_LE(outputs.at("fake").abs().max().item<double>(), 1.0);  // tanh
  // 32 → 16 → 8 → 4 by the stride-2 layers, then 3 and 2 by the stride-1 ones.
  EXPECT_EQ(outputs.at("d_real").sizes(), torch::IntArrayRef({2, 1, 2, 2}));
  EXPECT_EQ(outputs.at("d_fake").sizes(), torch::IntArrayRef({2, 1, 2, 2}));
  const auto groups = model.parameter_groups();
  EXPECT_FALSE(depends_on(outputs.at("d_fake"), groups.at("generator")));
  EXPECT_TRUE(depends_on(outputs.at("d_fake"), groups.at("discriminator")));
  EXPECT_TRUE(depends_on(outputs.at("fake"), groups.at("generator")));
}

TEST(pix2pix_model, generator_phase_reuses_the_steps_fake_and_lets_gradients_reach_the_generator) {
  TrainerFixture run(pix2pix_experiment(32));
  Model& model = run.trainer.model();
  const Batch batch = random_pairs(2, 32);
  Step step(run.trainer, 0);
  step.set_phase("discriminator");
  const torch::Tensor first_fake = model.forward(batch, step).at("fake");
  step.set_phase("generator");
  const Outputs outputs = model.forward(batch, step);

  EXPECT_EQ(outputs.names(), (std::vector<std::string>{"d_fake", "fake"}));
  EXPECT_TRUE(outputs.at("fake").is_same(first_fake));
  EXPECT_TRUE(step.scratch().at("fake").is_same(first_fake));
  EXPECT_TRUE(depends_on(outputs.at("d_fake"), model.parameter_groups().at("generator")));
}

TEST(pix2pix_model, patch_map_is_6x6_at_64_pixels) {
  TrainerFixture run(pix2pix_experiment(64, "ngf = 4\nndf = 4\n"));
  Step step(run.trainer, 0);
  step.set_phase("discriminator");
  const Outputs outputs = run.trainer.model().forward(random_pairs(2, 64), step);
  EXPECT_EQ(outputs.at("fake").sizes(), torch::IntArrayRef({2, 3, 64, 64}));
  EXPECT_EQ(outputs.at("d_real").sizes(), torch::IntArrayRef({2, 1, 6, 6}));
}

TEST(pix2pix_model, evaluation_computes_only_a_fresh_fake) {
  TrainerFixture run(pix2pix_experiment(32));
  const Batch batch = random_pairs(2, 32);
  Step step(run.trainer, 0);
  step.set_phase("eval");
  step.set_training(false);
  const Outputs outputs = run.trainer.model().forward(batch, step);
  EXPECT_EQ(outputs.names(), std::vector<std::string>{"fake"});
  EXPECT_EQ(outputs.at("fake").sizes(), torch::IntArrayRef({2, 3, 32, 32}));
  EXPECT_TRUE(step.scratch().empty());

  // The runner's own evaluation (eval mode, no gradients) asks for the same.
  const TensorMap evaluated = run.trainer.evaluate(batch, /*averaged=*/false);
  EXPECT_EQ(evaluated.names(), std::vector<std::string>{"fake"});
  EXPECT_FALSE(evaluated.at("fake").requires_grad());
}

}  // namespace
}  // namespace kiln::test
