// [experiment] cuda_graphs on the GPU: after its warm-up steps a run captures one step as a
// CUDA graph and replays it; the numbers are the eager run's (the same kernels, fp32), the
// optimizers' step counts of record advance with every replay, a schedule's rate reaches the
// replayed step, a resume captures again, and what a graph cannot replay is refused at its key.
#include <cmath>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "../cli/cli_support.hpp"
#include "../support/run_fixture.hpp"
#include "gpu_support.hpp"
#include "kiln/error.hpp"
#include "train/step_graph.hpp"

namespace kiln::test::gpu {
namespace {

class cuda_graphs : public GpuTest {
 protected:
  void SetUp() override {
    GpuTest::SetUp();
    if (IsSkipped()) return;
    if (const std::string why = runner::cuda_graphs_unavailable(); !why.empty()) GTEST_SKIP() << "cuda_graphs " << why;
  }
};

constexpr long kSteps = 16;

std::vector<std::string> on_cuda(bool graphs, std::vector<std::string> more = {}) {
  more.insert(more.begin(), {device_override("cuda:0"), precision_override("fp32"), "supervisor.log_every_steps=0",
                             "supervisor.summary_every_steps=1",
                             std::string("experiment.cuda_graphs=") + (graphs ? "true" : "false")});
  return more;
}

struct Trained {
  Summaries losses;
  TensorsByName weights;
  TensorsByName state;  // the trainer's state at the end (optimizer steps, moments, EMA)
  std::vector<std::vector<std::string>> graph_events;
};

Trained train(const TempDir& dir, const std::string& text, std::vector<std::string> overrides) {
  Trained out;
  RunFixture fixture(dir, text, overrides);
  const runner::RunOutcome outcome = fixture.execute();
  EXPECT_EQ(outcome.status, "completed") << outcome.error;
  out.weights = model_weights(fixture.trainer.model());
  out.state = on_cpu(fixture.trainer.capture_state());
  out.losses = summaries(dir / "runs/kiln.db", "loss/%");
  out.graph_events = sql_rows(dir / "runs/kiln.db", "SELECT step, message FROM events WHERE kind = 'cuda_graphs'");
  return out;
}

TEST_F(cuda_graphs, a_replayed_mlp_step_trains_as_the_eager_one_and_counts_its_steps) {
  TempDir eager_dir, graph_dir;
  const std::vector<std::string> schedule = {"optimizers.adam.schedule={ type = \"cosine\", warmup_steps = 5 }"};
  const Trained eager = train(eager_dir, mlp_with_ema(kSteps), on_cuda(false, schedule));
  const Trained graphed = train(graph_dir, mlp_with_ema(kSteps), on_cuda(true, schedule));
  // Captured once, at the step after the warm-up's.
  ASSERT_EQ(graphed.graph_events.size(), 1u);
  EXPECT_EQ(graphed.graph_events[0][0], std::to_string(runner::CapturedStep::kWarmupSteps));
  EXPECT_TRUE(eager.graph_events.empty());
  // Every step's loss, the weights, the moments and the EMA's shadows as the eager run's: the
  // same kernels, with the scheduled rate read from the device at every replay.
  ASSERT_EQ(graphed.losses.size(), static_cast<std::size_t>(kSteps));
  EXPECT_TRUE(summaries_close(graphed.losses, eager.losses, 1e-6, 1e-5));
  EXPECT_TRUE(tensors_close(graphed.weights, eager.weights, {""}, Tolerance{1e-6, 1e-5, 0}, 4));
  EXPECT_TRUE(tensors_close(graphed.state, eager.state, {"model/", "optim/", "hook/ema/"}, Tolerance{1e-6, 1e-5, 0},
                            12));
}

TEST_F(cuda_graphs, a_resumed_run_captures_again_and_ends_where_the_straight_one_does) {
  TempDir dir, straight_dir;
  const std::vector<std::string> save_half = {"saver.every_steps=" + std::to_string(kSteps / 2)};
  train(dir, mlp_with_ema(kSteps / 2), on_cuda(true, save_half));
  const Trained resumed = train(dir, mlp_with_ema(kSteps), on_cuda(true, save_half));
  const Trained straight = train(straight_dir, mlp_with_ema(kSteps), on_cuda(true, save_half));
  // One capture per process: the first at step 3, the resumed one 3 steps after its restore.
  ASSERT_EQ(resumed.graph_events.size(), 2u);
  EXPECT_EQ(resumed.graph_events[1][0], std::to_string(kSteps / 2 + runner::CapturedStep::kWarmupSteps));
  EXPECT_TRUE(tensors_close(resumed.state, straight.state, {"model/", "optim/", "hook/ema/"},
                            Tolerance{1e-6, 1e-5, 0}, 12));
}

TEST_F(cuda_graphs, pix2pix_replays_both_phases_and_the_ema_in_bf16) {
  TempDir dir;
  const Trained graphed =
      train(dir, small_pix2pix(12), {device_override("cuda:0"), precision_override("bf16"), "experiment.cuda_graphs=true"});
  ASSERT_EQ(graphed.graph_events.size(), 1u);
  // Every loss of every step reached the summaries, finite.
  std::size_t seen = 0;
  for (const auto& [key, value] : graphed.losses) {
    EXPECT_TRUE(std::isfinite(value)) << key.first << " at step " << key.second;
    ++seen;
  }
  EXPECT_EQ(seen, 4u * 12u);
  // Each optimizer's steps of record: one per step, replays included.
  std::size_t counts = 0;
  for (const auto& [name, tensor] : graphed.state)
    if (name.rfind("optim/", 0) == 0 && name.size() > 5 && name.compare(name.size() - 5, 5, "/step") == 0) {
      EXPECT_EQ(tensor.item<std::int64_t>(), 12) << name;
      ++counts;
    }
  EXPECT_GT(counts, 10u);
}

TEST_F(cuda_graphs, what_a_graph_cannot_replay_is_refused_at_its_key) {
  struct Refusal {
    std::vector<std::string> overrides;
    std::string key;
    std::string says;
  };
  const std::vector<Refusal> refusals = {
      {{"optimizers.adam.type=\"sgd\""}, "optimizers.adam.type", "replays the fused step of adam and adamw"},
      {{"optimizers.adam.implementation=\"foreach\""}, "optimizers.adam.implementation", "fused step only"},
      {{"experiment.accumulate=2"}, "experiment.cuda_graphs", "accumulate = 2"},
      {{precision_override("fp16")}, "experiment.cuda_graphs", "fp16's gradient scaler"},
      {{"supervisor.on_nan=\"skip\""}, "experiment.cuda_graphs", "on_nan = \"skip\""},
  };
  for (const Refusal& refusal : refusals) {
    TempDir dir;
    std::vector<std::string> overrides = on_cuda(true, refusal.overrides);
    try {
      RunFixture fixture(dir, mlp_experiment("", 4), overrides);
      ADD_FAILURE() << refusal.key << ": not refused";
    } catch (const ConfigError& e) {
      const std::string what = e.what();
      EXPECT_NE(what.find(refusal.key), std::string::npos) << what;
      EXPECT_NE(what.find(refusal.says), std::string::npos) << what;
    }
  }
}

}  // namespace
}  // namespace kiln::test::gpu
