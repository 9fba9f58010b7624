// Readout on the CPU: values come back in order, by step, with their names; nothing lags.
#include <cmath>
#include <limits>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "train/readout.hpp"

namespace kiln::runner {
namespace {

TEST(readout, a_cpu_step_is_collected_at_once_in_the_order_added) {
  Readout readout(c10::Device(c10::kCPU));
  readout.add("loss/d", torch::tensor(0.25f));
  readout.add("loss/g", torch::tensor({1.5}, torch::kFloat64));  // one element, any shape
  readout.end_step(7);
  EXPECT_EQ(readout.in_flight(), 1u);
  const std::vector<StepScalars> done = readout.collect(/*lag=*/2);
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].step, 7);
  ASSERT_EQ(done[0].values.size(), 2u);
  EXPECT_EQ(done[0].values[0].first, "loss/d");
  EXPECT_DOUBLE_EQ(done[0].values[0].second, 0.25);
  EXPECT_EQ(done[0].values[1].first, "loss/g");
  EXPECT_DOUBLE_EQ(done[0].values[1].second, 1.5);
  EXPECT_EQ(readout.in_flight(), 0u);
}

TEST(readout, steps_come_back_oldest_first_and_empty_steps_cost_nothing) {
  Readout readout(c10::Device(c10::kCPU));
  for (int step = 0; step < 3; ++step) {
    if (step != 1) readout.add("x", torch::tensor(static_cast<float>(step)));
    readout.end_step(step);
  }
  EXPECT_EQ(readout.in_flight(), 2u);
  const std::vector<StepScalars> done = readout.collect(0);
  ASSERT_EQ(done.size(), 2u);
  EXPECT_EQ(done[0].step, 0);
  EXPECT_EQ(done[1].step, 2);
  EXPECT_DOUBLE_EQ(done[1].values.at(0).second, 2.0);
}

TEST(readout, values_taken_out_of_a_gather_and_added_again_are_read_as_they_are_then) {
  // What a captured CUDA graph does: the values its capture added are taken out and kept;
  // after each replay (which refills them in place) they are added again and read.
  Readout readout(c10::Device(c10::kCPU));
  readout.add("tensor/before", torch::tensor(9.0f));  // a before_step hook's: stays in the gather
  const std::size_t before = readout.gathered();
  readout.add("loss/d", torch::tensor(0.5f));
  readout.add("loss/g", torch::tensor(2.0f));
  const auto taken = readout.take_since(before);
  ASSERT_EQ(taken.size(), 2u);
  EXPECT_EQ(taken[0].first, "loss/d");
  EXPECT_EQ(taken[1].first, "loss/g");
  EXPECT_EQ(taken[0].second.scalar_type(), torch::kFloat64);  // as add() keeps them
  EXPECT_EQ(readout.gathered(), 1u);
  EXPECT_TRUE(readout.take_since(5).empty());  // past the end: nothing, nothing changed
  EXPECT_EQ(readout.gathered(), 1u);
  for (const double value : {3.0, 4.0}) {
    for (const auto& [name, tensor] : taken) {
      tensor.fill_(value);  // the replay
      readout.add(name, tensor);
    }
    readout.end_step(static_cast<std::int64_t>(value));
  }
  const std::vector<StepScalars> done = readout.collect(0);
  ASSERT_EQ(done.size(), 2u);
  ASSERT_EQ(done[0].values.size(), 3u);
  EXPECT_EQ(done[0].values[0].first, "tensor/before");
  EXPECT_DOUBLE_EQ(done[0].values[1].second, 3.0);  // read at its end_step, not after the next fill
  EXPECT_DOUBLE_EQ(done[0].values[2].second, 3.0);
  ASSERT_EQ(done[1].values.size(), 2u);
  EXPECT_EQ(done[1].values[1].first, "loss/g");
  EXPECT_DOUBLE_EQ(done[1].values[1].second, 4.0);
}

TEST(readout, values_are_detached_copies) {
  Readout readout(c10::Device(c10::kCPU));
  torch::Tensor w = torch::ones({}, torch::requires_grad());
  torch::Tensor loss = w * 3;
  readout.add("loss", loss);
  readout.end_step(0);
  w.data().fill_(10);  // a later update must not change what step 0 read
  EXPECT_DOUBLE_EQ(readout.collect(0).at(0).values.at(0).second, 3.0);
}

TEST(readout, non_finite_values_come_back_as_they_are) {
  Readout readout(c10::Device(c10::kCPU));
  readout.add("nan", torch::tensor(std::nanf("")));
  readout.add("inf", torch::tensor(-std::numeric_limits<float>::infinity()));
  readout.end_step(0);
  const StepScalars step = readout.collect(0).at(0);
  EXPECT_TRUE(std::isnan(step.values[0].second));
  EXPECT_EQ(step.values[1].second, -std::numeric_limits<double>::infinity());
}

}  // namespace
}  // namespace kiln::runner
