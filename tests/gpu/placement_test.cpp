// Where a run on the GPU keeps what it trains: the model, every optimizer moment, the EMA's
// shadows and evaluate()'s outputs on cuda:0; the loader's batches in pinned host memory,
// so that the trainer's copy to the device can be non_blocking.
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "../support/run_fixture.hpp"
#include "gpu_support.hpp"

namespace kiln::test::gpu {
namespace {

class gpu_placement : public GpuTest {};

/// Every parameter and buffer of the model on `device`; returns how many parameters.
std::size_t expect_model_on(Model& model, const c10::Device& device) {
  std::size_t params = 0, buffers = 0;
  for (const auto& item : model.named_parameters()) {
    ++params;
    EXPECT_EQ(item.value().device(), device) << "parameter " << item.key();
  }
  for (const auto& item : model.named_buffers()) {
    if (!item.value().defined()) continue;
    ++buffers;
    EXPECT_EQ(item.value().device(), device) << "buffer " << item.key();
  }
  EXPECT_GT(params, 0u);
  return params;
}

/// Every tensor of the next training batch in pinned host memory.
void expect_next_batch_pinned(runner::Trainer& trainer) {
  const Batch batch = trainer.loader().next();
  ASSERT_FALSE(batch.empty());
  for (const auto& [name, tensor] : batch) {
    EXPECT_TRUE(tensor.device().is_cpu()) << "batch entry " << name << " is on " << tensor.device();
    EXPECT_TRUE(tensor.is_pinned()) << "batch entry " << name << " is not in pinned memory";
  }
}

TEST_F(gpu_placement, pix2pix_weights_optimizer_moments_ema_and_evaluation_are_on_cuda0) {
  TempDir dir;
  RunFixture run(dir, small_pix2pix(/*max_steps=*/2), {device_override("cuda")});
  EXPECT_EQ(trainer_device(run.trainer), kCuda0);
  // Built by the loader's worker ([data] workers = 1); the run then trains on batches 1 and 2.
  expect_next_batch_pinned(run.trainer);
  const runner::RunOutcome outcome = run.execute();
  ASSERT_EQ(outcome.status, "completed") << outcome.error;
  ASSERT_EQ(run.trainer.global_step(), 2);

  Model& model = run.trainer.model();
  expect_model_on(model, kCuda0);

  // After two steps every parameter of both phases has Adam's state, on the GPU.
  ASSERT_EQ(run.trainer.phases().size(), 2u);
  expect_optimizer_moments_on(run.trainer, kCuda0);

  // The EMA's shadows: one per generator parameter.
  EXPECT_EQ(expect_ema_shadows_on(run.trainer, kCuda0), model.parameter_groups().at("generator").size());

  // evaluate() takes a batch as a hook builds it, on the CPU, and answers on the device, with
  // the EMA's weights and with the trained ones; the model is back in training mode after.
  const Dataset* held_out = run.trainer.dataset("eval");
  ASSERT_NE(held_out, nullptr);
  const Batch batch = held_out->get_batch({{0, 11}, {1, 12}});
  for (const bool averaged : {true, false}) {
    const TensorMap outputs = run.trainer.evaluate(batch, averaged);
    ASSERT_TRUE(outputs.contains("fake")) << "evaluate() gave no 'fake'";
    EXPECT_EQ(outputs.at("fake").sizes(), (std::vector<std::int64_t>{2, 3, kPix2pixSize, kPix2pixSize}));
    for (const auto& [name, tensor] : outputs)
      EXPECT_EQ(tensor.device(), kCuda0) << "output " << name << (averaged ? " (EMA weights)" : " (trained weights)");
    EXPECT_TRUE(model.is_training());
  }
  expect_model_on(model, kCuda0);
}

TEST_F(gpu_placement, auto_is_the_first_gpu_at_tf32_and_batches_loaded_without_workers_are_pinned_too) {
  TempDir dir;
  RunFixture run(dir, mlp_with_ema(/*max_steps=*/3), {device_override("auto"), "data.workers=0"});
  EXPECT_EQ(trainer_device(run.trainer), kCuda0);
  EXPECT_EQ(trainer_precision(run.trainer), "tf32") << "CUDA's default precision";
  expect_next_batch_pinned(run.trainer);  // built on the training thread ([data] workers = 0)
  const runner::RunOutcome outcome = run.execute();
  ASSERT_EQ(outcome.status, "completed") << outcome.error;
  expect_model_on(run.trainer.model(), kCuda0);
}

}  // namespace
}  // namespace kiln::test::gpu
