// The `l1` loss: mean absolute error between a model output and a batch entry.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "document.hpp"
#include "pix2pix_experiment.hpp"

namespace kiln::test {
namespace {

using detail::Document;

double l1(const std::string& keys, const Outputs& outputs, const Batch& batch) {
  TrainerFixture run(pix2pix_experiment(32));
  auto doc = Document::parse("[[losses]]\nplugin = \"l1\"\n" + keys, "exp.toml");
  auto loss = run.host.make_loss("l1", "", doc->root().tables("losses").at(0));
  Step step(run.trainer, 0);
  const torch::Tensor value = loss->compute(outputs, batch, step);
  EXPECT_EQ(value.dim(), 0);
  return value.item<double>();
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
