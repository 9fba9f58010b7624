// The `evaluate` hook: a held-out metric of the (averaged) model, as eval/<metric>.
#include <torch/torch.h>

#include "hooks.hpp"

namespace kiln::plugins {

std::vector<Batch> held_out_batches(RunContext& run, const Config& config, std::int64_t count, std::int64_t batch_size) {
  const Dataset* data = run.dataset("eval");
  if (!data) config.fail("", "needs held-out examples: add an [eval_data] table to the experiment");
  count = std::min(count, data->size());
  std::vector<Batch> batches;
  for (std::int64_t first = 0; first < count; first += batch_size) {
    std::vector<Sample> samples;
    for (std::int64_t i = first; i < std::min(first + batch_size, count); ++i)
      samples.push_back({i, static_cast<std::uint64_t>(i)});
    batches.push_back(data->get_batch(samples));
  }
  return batches;
}

Evaluate::Evaluate(const Config& config)
    : config_(config),
      every_steps_(config.get_non_negative<std::int64_t>("every_steps", 100)),
      count_(config.get_positive<std::int64_t>("count", 32)),
      batch_size_(config.get_positive<std::int64_t>("batch_size", 8)),
      metric_(config.get_choice("metric", "l1", {"l1", "mse"})),
      prediction_(config.get_or<std::string>("prediction", "fake")),
      target_(config.get_or<std::string>("target", "target")),
      averaged_(config.get_or<bool>("averaged", true)) {}

void Evaluate::prepare(RunContext& run) {
  batches_ = held_out_batches(run, config_, count_, batch_size_);
  if (batches_.empty()) return;
  // One held-out batch through the model now (eval mode: no update, no randomness), so that a
  // prediction or target that is missing or of another shape is an error at its key before
  // the run starts, and in kiln validate, not at the first evaluation.
  const Batch& batch = batches_.front();
  const auto listed = [](const TensorMap& map) {
    std::string names;
    for (const std::string& name : map.names()) names += (names.empty() ? "" : ", ") + name;
    return names;
  };
  if (!batch.contains(target_))
    config_.fail("target", "the eval data has no '" + target_ + "' (has: " + listed(batch) + ")");
  const Outputs outputs = run.evaluate(batch, /*averaged=*/false);
  if (!outputs.contains(prediction_))
    config_.fail("prediction", "the model outputs no '" + prediction_ + "' (outputs: " + listed(outputs) + ")");
  try {
    require_same_shape("model output '" + prediction_ + "'", outputs.at(prediction_), "eval batch entry '" + target_ + "'",
                       batch.at(target_));
  } catch (const Error& e) {
    config_.fail("target", e.what());
  }
}

void Evaluate::begin(RunContext& run) {
  // The first value is the model before training, what later values are measured against;
  // a resumed run (restored before begin) has it already.
  if (run.global_step() == 0) record(run);
}

double Evaluate::measure(RunContext& run) {
  double sum = 0;
  std::int64_t elements = 0;
  for (const Batch& batch : batches_) {
    const Outputs outputs = run.evaluate(batch, averaged_);
    // The outputs are on the training device (and in bf16/fp16 under autocast): compare there,
    // in float32.
    const torch::Tensor prediction = outputs.at(prediction_).to(torch::kFloat);
    const torch::Tensor& target = batch.at(target_);
    // Shapes that broadcast ([N] against [N, 1]) would average the wrong differences.
    require_same_shape("model output '" + prediction_ + "'", prediction, "eval batch entry '" + target_ + "'", target);
    const torch::Tensor diff = prediction - target.to(prediction.device(), torch::kFloat);
    sum += (metric_ == "l1" ? diff.abs() : diff.square()).sum().item<double>();
    elements += diff.numel();
  }
  return sum / static_cast<double>(std::max<std::int64_t>(elements, 1));
}

void Evaluate::record(RunContext& run) {
  const std::int64_t step = run.global_step();
  if (step == last_step_) return;
  last_step_ = step;
  run.summary("eval/" + metric_, step, measure(run));
}

void Evaluate::after_step(Step& step) {
  if (every_steps_ > 0 && step.run().global_step() % every_steps_ == 0) record(step.run());
}

void Evaluate::end(RunContext& run) { record(run); }

}  // namespace kiln::plugins
