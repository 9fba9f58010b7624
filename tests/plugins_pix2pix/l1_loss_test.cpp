// The element-wise losses, `l1` (mean absolute error) and `mse`: their values, and the shapes they refuse.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "document.hpp"
#include "pix2pix_experiment.hpp"

namespace kiln::test {
namespace {

using detail::Document;

/// The value of the in-tree loss `plugin` with `keys` in its [[losses]] table.
double loss_value(const std::string& plugin, const std::string& keys, const Outputs& outputs, const Batch& batch) {
  TrainerFixture run(pix2pix_experiment(32));
  auto doc = Document::parse("[[losses]]\nplugin = \"" + plugin + "\"\n" + keys, "exp.toml");
  auto loss = run.host.make_loss(plugin, "", doc->root().tables("losses").at(0));
  Step step(run.trainer, 0);
  const torch::Tensor value = loss->compute(outputs, batch, step);
  EXPECT_EQ(value.dim(), 0);
  return value.item<double>();
}

double l1(const std::string& keys, const Outputs& outputs, const Batch& batch) {
  return loss_value("l1", keys, outputs, batch);
}

/// The message of the Error computing `plugin` on a `prediction` and a `target` gives.
std::string shape_error(const std::string& plugin, const std::string& keys, torch::Tensor prediction,
                        torch::Tensor target) {
  Outputs outputs("outputs");
  outputs.set("out", std::move(prediction));
  Batch batch("batch");
  batch.set("want", std::move(target));
  try {
    loss_value(plugin, "prediction = \"out\"\ntarget = \"want\"\n" + keys, outputs, batch);
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(element_wise_losses, refuse_shapes_that_differ_naming_the_output_the_target_and_both_shapes) {
  for (const std::string plugin : {"mse", "l1"}) {
    EXPECT_EQ(shape_error(plugin, "", torch::zeros({64}), torch::zeros({64, 1})),
              "model output 'out' has shape [64] and target 'want' has shape [64, 1]; they "
              "differ and would broadcast to [64, 64] — reshape one of them");
    EXPECT_EQ(shape_error(plugin, "name = \"recon\"\n", torch::zeros({2, 3, 8, 8}), torch::zeros({2, 1, 8, 8})),
              "model output 'out' has shape [2, 3, 8, 8] and target 'want' has shape [2, 1, 8, 8]; they "
              "differ and would broadcast to [2, 3, 8, 8] — reshape one of them");
    EXPECT_EQ(shape_error(plugin, "", torch::zeros({4, 3}), torch::zeros({4, 2})),
              "model output 'out' has shape [4, 3] and target 'want' has shape [4, 2]; they "
              "differ and do not broadcast — reshape one of them");
    EXPECT_EQ(shape_error(plugin, "", torch::zeros({}), torch::zeros({5})),
              "model output 'out' has shape [] and target 'want' has shape [5]; they differ "
              "and would broadcast to [5] — reshape one of them");
    EXPECT_EQ(shape_error(plugin, "", torch::ones({4, 1}), torch::zeros({4, 1})), "(no error)") << plugin;
  }
}

TEST(l1_loss, is_the_mean_absolute_difference_of_fake_and_target_by_default) {
  const auto a = torch::tensor({0.5, -1.0, 0.25, 1.0}, torch::kDouble).reshape({1, 1, 2, 2});
  const auto b = torch::tensor({-0.5, -1.0, 1.0, 0.0}, torch::kDouble).reshape({1, 1, 2, 2});
  Outputs outputs("outputs");
  outputs.set("fake", a);
  Batch batch("batch");
  batch.set("target", b);
  EXPECT_DOUBLE_EQ(l1("", outputs, batch), (1.0 + 0.0 + 0.75 + 1.0) / 4);
}

TEST(l1_loss, reads_the_output_and_batch_entry_it_is_told) {
  const auto a = torch::randn({2, 3, 4, 4}, torch::kDouble);
  const auto b = torch::randn({2, 3, 4, 4}, torch::kDouble);
  Outputs outputs("outputs");
  outputs.set("y", a);
  Batch batch("batch");
  batch.set("photo", b);
  EXPECT_NEAR(l1("prediction = \"y\"\ntarget = \"photo\"\n", outputs, batch), (a - b).abs().mean().item<double>(),
              1e-12);
}

}  // namespace
}  // namespace kiln::test
