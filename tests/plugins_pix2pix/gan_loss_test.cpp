// The `gan` loss: BCE and least squares towards real or fake, against the hand formulas.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "document.hpp"
#include "pix2pix_experiment.hpp"

namespace kiln::test {
namespace {

using detail::Document;

/// Builds loss `plugin` from "[[losses]]\nplugin = ...\n<keys>" (a document named exp.toml)
/// and computes it on `outputs` and `batch` within a step of a small pix2pix run.
class LossBench {
 public:
  LossBench() : run_(pix2pix_experiment(32)), host_({}, KILN_PLUGIN_DIR) {}

  std::shared_ptr<Loss> make(const std::string& plugin, const std::string& keys) {
    doc_ = Document::parse("[[losses]]\nplugin = \"" + plugin + "\"\n" + keys, "exp.toml");
    return host_.make_loss(plugin, "", doc_->root().tables("losses").at(0));
  }

  double compute(const std::string& plugin, const std::string& keys, const Outputs& outputs,
                 const Batch& batch = Batch("batch")) {
    Step step(run_.trainer, 0);
    const torch::Tensor value = make(plugin, keys)->compute(outputs, batch, step);
    EXPECT_EQ(value.dim(), 0);
    return value.item<double>();
  }

  std::string config_error(const std::string& plugin, const std::string& keys) {
    try {
      make(plugin, keys);
    } catch (const ConfigError& e) {
      return e.what();
    }
    return "(no error)";
  }

 private:
  TrainerFixture run_;
  runner::PluginHost host_;
  std::shared_ptr<Document> doc_;
};

Outputs logits(const torch::Tensor& x) {
  Outputs outputs("outputs");
  outputs.set("d", x);
  return outputs;
}

const torch::Tensor kLogits = torch::tensor({-3.0, -0.5, 0.0, 0.25, 2.0, 7.0}, torch::kDouble).reshape({1, 1, 2, 3});

TEST(gan_loss, unknown_mode_is_a_positioned_error_listing_the_modes) {
  LossBench bench;
  EXPECT_EQ(bench.config_error("gan", "mode = \"wgan\"\ninput = \"d\"\ntarget = \"real\"\n"),
            "exp.toml:3:8: losses.gan.mode: expected \"bce\" or \"lsgan\", got \"wgan\"; did you mean \"lsgan\"?");
}

TEST(gan_loss, unknown_target_is_a_positioned_error_listing_the_targets) {
  LossBench bench;
  EXPECT_EQ(bench.config_error("gan", "input = \"d\"\ntarget = \"true\"\n"),
            "exp.toml:4:10: losses.gan.target: expected \"real\" or \"fake\", got \"true\"");
}

TEST(gan_loss, missing_input_is_a_positioned_error) {
  LossBench bench;
  EXPECT_EQ(bench.config_error("gan", "target = \"real\"\n"),
            "exp.toml:1:1: [losses.gan]: missing key 'input' (has: plugin, target)");
}

TEST(gan_loss, bce_towards_real_is_minus_mean_log_sigmoid) {
  LossBench bench;
  const double expected = -torch::log(torch::sigmoid(kLogits)).mean().item<double>();
  EXPECT_NEAR(bench.compute("gan", "input = \"d\"\ntarget = \"real\"\n", logits(kLogits)), expected, 1e-12);
  // bce is the default mode.
  EXPECT_NEAR(bench.compute("gan", "mode = \"bce\"\ninput = \"d\"\ntarget = \"real\"\n", logits(kLogits)), expected,
              1e-12);
}

TEST(gan_loss, bce_towards_fake_is_minus_mean_log_one_minus_sigmoid) {
  LossBench bench;
  const double expected = -torch::log(1 - torch::sigmoid(kLogits)).mean().item<double>();
  EXPECT_NEAR(bench.compute("gan", "input = \"d\"\ntarget = \"fake\"\n", logits(kLogits)), expected, 1e-12);
}

TEST(gan_loss, bce_stays_finite_for_confident_logits) {
  LossBench bench;
  const auto extreme = torch::tensor({-200.0, 200.0});
  EXPECT_NEAR(bench.compute("gan", "input = \"d\"\ntarget = \"real\"\n", logits(extreme)), 100.0, 1e-4);
}

TEST(gan_loss, lsgan_is_the_mean_squared_distance_to_one_or_zero) {
  LossBench bench;
  EXPECT_NEAR(bench.compute("gan", "mode = \"lsgan\"\ninput = \"d\"\ntarget = \"real\"\n", logits(kLogits)),
              (kLogits - 1).pow(2).mean().item<double>(), 1e-12);
  EXPECT_NEAR(bench.compute("gan", "mode = \"lsgan\"\ninput = \"d\"\ntarget = \"fake\"\n", logits(kLogits)),
              kLogits.pow(2).mean().item<double>(), 1e-12);
}

}  // namespace
}  // namespace kiln::test
