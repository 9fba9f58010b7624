// Autocast scopes and the fp16 gradient scaler, on the CPU (the scaler's arithmetic is the
// same on CUDA, where one multi-tensor kernel does the unscale).
#include <cmath>
#include <limits>
#include <string>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "train/precision.hpp"

namespace kiln::runner {
namespace {

const c10::Device kCpu(c10::kCPU);

TEST(autocast, bf16_casts_matmuls_inside_the_scope_only) {
  const torch::Tensor a = torch::rand({4, 4});
  {
    AutocastScope scope(kCpu, Precision::bf16);
    EXPECT_EQ(torch::mm(a, a).scalar_type(), torch::kBFloat16);
  }
  EXPECT_EQ(torch::mm(a, a).scalar_type(), torch::kFloat32);
}

TEST(autocast, fp32_and_tf32_cast_nothing) {
  const torch::Tensor a = torch::rand({4, 4});
  for (Precision precision : {Precision::fp32, Precision::tf32}) {
    AutocastScope scope(kCpu, precision);
    EXPECT_EQ(torch::mm(a, a).scalar_type(), torch::kFloat32) << precision_name(precision);
  }
}

TEST(autocast, nested_scopes_put_the_outer_state_back) {
  const torch::Tensor a = torch::rand({4, 4});
  AutocastScope outer(kCpu, Precision::bf16);
  { AutocastScope inner(kCpu, Precision::bf16); }
  EXPECT_EQ(torch::mm(a, a).scalar_type(), torch::kBFloat16);
}

TEST(autocast, gradients_flow_to_float32_weights) {
  torch::Tensor w = torch::rand({3, 3}, torch::requires_grad());
  torch::Tensor loss;
  {
    AutocastScope scope(kCpu, Precision::bf16);
    loss = torch::mm(torch::ones({2, 3}), w).sum();
  }
  loss.backward();
  ASSERT_TRUE(w.grad().defined());
  EXPECT_EQ(w.grad().scalar_type(), torch::kFloat32);
  EXPECT_TRUE(torch::allclose(w.grad(), torch::full({3, 3}, 2.0f)));
}

GradScaler::Options every(std::int64_t interval) {
  GradScaler::Options options;
  options.init_scale = 1024;
  options.growth_interval = interval;
  return options;
}

TEST(grad_scaler, scales_the_loss_in_float32) {
  GradScaler scaler(kCpu, GradScaler::Options{});
  const torch::Tensor scaled = scaler.scale(torch::tensor(0.5, torch::kFloat16));
  EXPECT_EQ(scaled.scalar_type(), torch::kFloat32);
  EXPECT_EQ(scaled.dim(), 0);
  EXPECT_DOUBLE_EQ(scaled.item<double>(), 32768.0);  // 65536 itself overflows fp16
}

TEST(grad_scaler, unscale_divides_gradients_and_reports_finite) {
  GradScaler scaler(kCpu, every(2000));
  torch::Tensor w = torch::ones({2}, torch::requires_grad());
  torch::Tensor unused = torch::ones({2}, torch::requires_grad());  // no gradient: skipped
  scaler.scale((w * 3).sum()).backward();
  EXPECT_TRUE(torch::allclose(w.grad(), torch::full({2}, 3.0f * 1024)));
  EXPECT_TRUE(scaler.unscale({w, unused}));
  EXPECT_TRUE(torch::allclose(w.grad(), torch::full({2}, 3.0f)));
}

TEST(grad_scaler, an_overflow_skips_and_backs_off) {
  GradScaler scaler(kCpu, every(2000));
  torch::Tensor w = torch::ones({2}, torch::requires_grad());
  w.mutable_grad() = torch::tensor({1.0f, std::numeric_limits<float>::infinity()});
  EXPECT_FALSE(scaler.unscale({w}));
  scaler.update(false);
  EXPECT_DOUBLE_EQ(scaler.current_scale(), 512.0);
  EXPECT_EQ(scaler.clean_steps(), 0);
  w.mutable_grad() = torch::tensor({std::nanf(""), 1.0f});
  EXPECT_FALSE(scaler.unscale({w}));
}

TEST(grad_scaler, grows_after_growth_interval_clean_steps) {
  GradScaler scaler(kCpu, every(3));
  scaler.update(true);
  scaler.update(true);
  EXPECT_DOUBLE_EQ(scaler.current_scale(), 1024.0);
  EXPECT_EQ(scaler.clean_steps(), 2);
  scaler.update(true);
  EXPECT_DOUBLE_EQ(scaler.current_scale(), 2048.0);
  EXPECT_EQ(scaler.clean_steps(), 0);
  scaler.update(true);
  scaler.update(false);  // an overflow restarts the count
  scaler.update(true);
  scaler.update(true);
  EXPECT_DOUBLE_EQ(scaler.current_scale(), 1024.0);
  EXPECT_EQ(scaler.clean_steps(), 2);
}

TEST(grad_scaler, state_round_trips) {
  GradScaler scaler(kCpu, every(3));
  scaler.update(false);
  scaler.update(true);
  GradScaler restored(kCpu, every(3));
  restored.load_state(scaler.state());
  EXPECT_DOUBLE_EQ(restored.current_scale(), 512.0);
  EXPECT_EQ(restored.clean_steps(), 1);
  restored.update(true);
  restored.update(true);
  EXPECT_DOUBLE_EQ(restored.current_scale(), 1024.0);  // on the same grid as the original
}

TEST(grad_scaler, malformed_state_is_refused_by_name) {
  GradScaler scaler(kCpu, every(3));
  auto message = [&](TensorMap state) {
    try {
      scaler.load_state(state);
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("(no error)");
  };
  TensorMap missing;
  missing.set("scale", torch::tensor({2.0f}));
  EXPECT_NE(message(missing).find("clean_steps"), std::string::npos) << message(missing);
  TensorMap negative;
  negative.set("scale", torch::tensor({-2.0f}));
  negative.set("clean_steps", torch::tensor({0}, torch::kInt64));
  EXPECT_EQ(message(negative), "grad scaler state: 'scale' must be finite and positive, got -2");
  TensorMap two;
  two.set("scale", torch::tensor({2.0f, 3.0f}));
  two.set("clean_steps", torch::tensor({0}, torch::kInt64));
  EXPECT_EQ(message(two), "grad scaler state: 'scale' must be one float, got a Float tensor of 2 elements");
  EXPECT_DOUBLE_EQ(scaler.current_scale(), 1024.0);  // untouched by the refusals
}

}  // namespace
}  // namespace kiln::runner
