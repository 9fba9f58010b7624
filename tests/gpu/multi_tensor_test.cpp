// The multi-tensor steps on the GPU: adam, adamw and sgd (momentum, nesterov, weight decay)
// over parameters on cuda:0 give, step for step, LibTorch's loop's parameters and state with
// "foreach", and with "fused" where this LibTorch has it (adam, adamw; 2.0 or later), within
// 1e-5 relative + 1e-6 absolute; state a fused step made continues under the loop, as it does
// when a checkpoint of a fused run resumes with implementation = "loop".
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "gpu_support.hpp"
#include "train/multi_tensor.hpp"
#include "train/optimizers.hpp"

namespace kiln::test::gpu {
namespace {

namespace optim = torch::optim;
using runner::StepImplementation;

using Params = std::vector<torch::Tensor>;
using MakeOptimizer = std::function<std::unique_ptr<optim::Optimizer>(Params, StepImplementation)>;

/// One optimizer type with the options under test, as kiln's multi-tensor optimizer.
struct Case {
  std::string type;  ///< "adam", "adamw", "sgd"
  MakeOptimizer make;
};

std::vector<Case> cases() {
  return {
      {"adam",
       [](Params params, StepImplementation how) -> std::unique_ptr<optim::Optimizer> {
         return std::make_unique<runner::MultiTensorAdam>(std::move(params),
                                                          optim::AdamOptions(1e-2).weight_decay(0.01), how);
       }},
      {"adamw",
       [](Params params, StepImplementation how) -> std::unique_ptr<optim::Optimizer> {
         return std::make_unique<runner::MultiTensorAdamW>(std::move(params),
                                                           optim::AdamWOptions(1e-2).weight_decay(0.01), how);
       }},
      {"sgd",
       [](Params params, StepImplementation how) -> std::unique_ptr<optim::Optimizer> {
         return std::make_unique<runner::MultiTensorSGD>(
             std::move(params), optim::SGDOptions(0.1).momentum(0.9).nesterov(true).weight_decay(0.01), how);
       }},
  };
}

/// Parameter shapes of a small network: a convolution's weight and bias, a matrix, a single
/// number, a 4-d weight whose size is no multiple of a kernel's chunk.
const std::vector<std::vector<std::int64_t>> kShapes = {{4, 3, 3, 3}, {4}, {5, 7}, {1}, {2, 3, 5, 7}};
constexpr int kSteps = 6;

/// The same parameters every call, made on the CPU and copied to cuda:0.
Params fresh_params() {
  torch::manual_seed(7);
  Params params;
  for (const auto& shape : kShapes) params.push_back(torch::randn(shape).to(kCuda0).requires_grad_(true));
  return params;
}

/// Steps [from, to) of `optimizer` over `params`, with gradients made on the CPU from a seed
/// per step and parameter (so every optimizer compared sees the same ones), on cuda:0.
void run_steps(optim::Optimizer& optimizer, Params& params, int from, int to) {
  for (int step = from; step < to; ++step) {
    for (std::size_t i = 0; i < params.size(); ++i) {
      torch::manual_seed(1000 * step + static_cast<int>(i));
      params[i].mutable_grad() = torch::randn(kShapes[i]).to(kCuda0);
    }
    optimizer.step();
  }
}

/// |a - b| <= 1e-6 + 1e-5·|b| element by element, in the same shape and dtype; integers exactly.
::testing::AssertionResult close(const torch::Tensor& actual, const torch::Tensor& expected) {
  const torch::Tensor a = actual.detach().to(torch::kCPU), b = expected.detach().to(torch::kCPU);
  if (a.sizes() != b.sizes() || a.scalar_type() != b.scalar_type())
    return ::testing::AssertionFailure() << "is " << a.scalar_type() << a.sizes() << ", expected " << b.scalar_type()
                                         << b.sizes();
  if (!a.is_floating_point())
    return torch::equal(a, b) ? ::testing::AssertionSuccess()
                              : ::testing::AssertionFailure() << "differs (compared exactly): " << a << " vs " << b;
  if (torch::allclose(a, b, /*rtol=*/1e-5, /*atol=*/1e-6)) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "largest |a - b| "
                                       << (a.to(torch::kDouble) - b.to(torch::kDouble)).abs().max().item<double>();
}

/// The parameters and every state field (exp_avg, exp_avg_sq, momentum_buffer, step) of
/// `actual` agree with `expected`'s; every moment lives on cuda:0.
void expect_same(const std::string& type_name, const optim::Optimizer& actual, const Params& actual_params,
                 const optim::Optimizer& expected, const Params& expected_params) {
  for (std::size_t i = 0; i < actual_params.size(); ++i) {
    EXPECT_EQ(actual_params[i].device(), kCuda0) << "parameter " << i;
    EXPECT_TRUE(close(actual_params[i], expected_params[i])) << "parameter " << i;
  }
  const runner::OptimizerType& type = runner::optimizer_type(type_name);
  const auto actual_state = type.capture(actual, actual_params);
  const auto expected_state = type.capture(expected, expected_params);
  ASSERT_EQ(expected_state.size(), actual_params.size()) << "every parameter has state after its steps";
  ASSERT_EQ(actual_state.size(), expected_state.size()) << "parameters with state";
  std::size_t moments = 0;
  for (const auto& [index, fields] : expected_state) {
    ASSERT_EQ(actual_state.count(index), 1u) << "parameter " << index << " has no state";
    const runner::StateFields& mine = actual_state.at(index);
    ASSERT_EQ(mine.size(), fields.size()) << "parameter " << index << "'s fields";
    for (const auto& [field, value] : fields) {
      ASSERT_EQ(mine.count(field), 1u) << "parameter " << index << " lacks " << field;
      EXPECT_TRUE(close(mine.at(field), value)) << "parameter " << index << ", " << field;
      const runner::StateField* about = type.field(field);
      ASSERT_NE(about, nullptr) << field;
      if (!about->param_shaped) continue;
      ++moments;
      EXPECT_EQ(mine.at(field).device(), kCuda0) << "parameter " << index << ", " << field;
    }
  }
  // adam, adamw: exp_avg and exp_avg_sq; sgd with momentum: momentum_buffer.
  EXPECT_GE(moments, (type_name == "sgd" ? 1 : 2) * actual_params.size());
}

/// Parameters that are still equal to the initial ones would make every comparison trivial.
void expect_moved(const Params& params) {
  const Params initial = fresh_params();
  EXPECT_FALSE(torch::equal(params[0].detach().cpu(), initial[0].detach().cpu()));
}

class gpu_multi_tensor : public GpuTest {};

/// `implementation`'s kSteps steps against the loop's, for `c`.
void compare_with_loop(const Case& c, StepImplementation implementation) {
  SCOPED_TRACE(c.type + ": loop vs " + std::string(runner::step_implementation_name(implementation)));
  Params loop_params = fresh_params();
  Params other_params = fresh_params();
  const auto loop = c.make(loop_params, StepImplementation::loop);
  const auto other = c.make(other_params, implementation);
  run_steps(*loop, loop_params, 0, kSteps);
  run_steps(*other, other_params, 0, kSteps);
  EXPECT_EQ(dynamic_cast<const runner::MultiTensorStep&>(*loop).last(), StepImplementation::loop);
  EXPECT_EQ(dynamic_cast<const runner::MultiTensorStep&>(*other).last(), implementation);
  expect_same(c.type, *other, other_params, *loop, loop_params);
  expect_moved(loop_params);
}

TEST_F(gpu_multi_tensor, foreach_gives_the_loops_parameters_and_state_on_cuda) {
  for (const Case& c : cases()) compare_with_loop(c, StepImplementation::foreach);
}

TEST_F(gpu_multi_tensor, fused_gives_the_loops_parameters_and_state_on_cuda) {
  EXPECT_FALSE(runner::has_fused_step("sgd"));
  bool compared = false;
  for (const Case& c : cases()) {
    if (c.type == "sgd") continue;  // sgd has no fused step
    if (!runner::has_fused_step(c.type)) continue;
    compare_with_loop(c, StepImplementation::fused);
    compared = true;
  }
  if (!compared)
    GTEST_SKIP() << "no fused step here: " << runner::fused_step_refusal("adam") << " (LibTorch " TORCH_VERSION ")";
}

TEST_F(gpu_multi_tensor, auto_runs_fused_on_cuda_where_it_exists_else_foreach) {
  for (const Case& c : cases()) {
    Params params = fresh_params();
    const auto optimizer = c.make(params, StepImplementation::automatic);
    run_steps(*optimizer, params, 0, 1);
    EXPECT_EQ(dynamic_cast<const runner::MultiTensorStep&>(*optimizer).last(),
              runner::has_fused_step(c.type) ? StepImplementation::fused : StepImplementation::foreach)
        << c.type;
  }
}

// A checkpoint of a run with implementation = "fused" resumed with "loop" (or on a LibTorch
// without the fused kernels): the state the fused step made is torch::optim's own, and the
// loop carries it on as if it had made every step.
TEST_F(gpu_multi_tensor, state_made_by_fused_continues_under_the_loop) {
  bool compared = false;
  for (const Case& c : cases()) {
    if (c.type == "sgd" || !runner::has_fused_step(c.type)) continue;
    SCOPED_TRACE(c.type + ": fused then loop");
    const runner::OptimizerType& type = runner::optimizer_type(c.type);
    Params straight_params = fresh_params();
    const auto straight = c.make(straight_params, StepImplementation::loop);
    run_steps(*straight, straight_params, 0, kSteps);

    // Three fused steps, their state taken as a checkpoint takes it ...
    Params before = fresh_params();
    const auto fused = c.make(before, StepImplementation::fused);
    run_steps(*fused, before, 0, kSteps / 2);
    EXPECT_EQ(dynamic_cast<const runner::MultiTensorStep&>(*fused).last(), StepImplementation::fused);
    const auto checkpoint = type.capture(*fused, before);
    ASSERT_EQ(checkpoint.size(), before.size());
    for (const auto& [index, fields] : checkpoint)
      EXPECT_EQ(fields.at("step").item<std::int64_t>(), kSteps / 2) << "parameter " << index;

    // ... restored into a loop optimizer over copies of the parameters for the rest.
    Params after;
    for (const torch::Tensor& p : before) after.push_back(p.detach().clone().requires_grad_(true));
    const auto loop = c.make(after, StepImplementation::loop);
    type.restore(*loop, after, checkpoint);
    run_steps(*loop, after, kSteps / 2, kSteps);
    EXPECT_EQ(dynamic_cast<const runner::MultiTensorStep&>(*loop).last(), StepImplementation::loop);
    expect_same(c.type, *loop, after, *straight, straight_params);
    compared = true;
  }
  if (!compared)
    GTEST_SKIP() << "no fused step here: " << runner::fused_step_refusal("adam") << " (LibTorch " TORCH_VERSION ")";
}

}  // namespace
}  // namespace kiln::test::gpu
