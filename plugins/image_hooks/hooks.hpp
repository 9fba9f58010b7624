// Hooks for image-to-image experiments: held-out evaluation and image-grid summaries.
#pragma once

#include <cstdint>
#include <string>

#include "kiln/kiln.hpp"

namespace kiln::plugins {

/// The first `count` examples of the experiment's [eval_data], batched, with fixed seeds so
/// every evaluation sees the same pairs.
std::vector<Batch> held_out_batches(RunContext& run, const Config& config, std::int64_t count, std::int64_t batch_size);

/// Evaluates the model (with its averaged weights, when the run has an EMA) on held-out
/// pairs: the mean L1 or MSE between an output and a batch entry, as the summary
/// `eval/<metric>`, at step 0, every `every_steps` and at the end.
///   [[hooks]]
///   plugin = "evaluate"
///   every_steps = 100
///   count = 32             # held-out examples (from [eval_data])
///   metric = "l1"          # or "mse"
///   prediction = "fake"    # a model output
///   target = "target"      # a batch entry
class Evaluate : public Hook {
 public:
  explicit Evaluate(const Config& config);
  /// After the EMA's update (500), so that the averages of this step are evaluated.
  int default_priority() const override { return 600; }
  /// Reads the held-out batches: an experiment without [eval_data] is an error at this
  /// hook's table before the run starts.
  void prepare(RunContext& run) override;
  void begin(RunContext& run) override;
  void after_step(Step& step) override;
  void end(RunContext& run) override;

  /// The metric on the held-out pairs now.
  double measure(RunContext& run);

 private:
  void record(RunContext& run);

  Config config_;
  std::int64_t every_steps_;
  std::int64_t count_;
  std::int64_t batch_size_;
  std::string metric_;
  std::string prediction_;
  std::string target_;
  bool averaged_;
  std::vector<Batch> batches_;
  std::int64_t last_step_ = -1;
};

/// Every `every_steps` (and at step 0 and the end) writes one PNG grid to the run
/// directory, one row per held-out example: input | output of the (averaged) model | target,
/// and records it in the run's `images` table.
///   [[hooks]]
///   plugin = "image_summaries"
///   every_steps = 200
///   count = 4
///   columns = ["input", "fake", "target"]   # batch entries or model outputs, C×H×W in [-1, 1]
class ImageSummaries : public Hook {
 public:
  explicit ImageSummaries(const Config& config);
  int default_priority() const override { return 600; }
  /// Reads the held-out batches: an experiment without [eval_data] is an error at this
  /// hook's table before the run starts.
  void prepare(RunContext& run) override;
  void begin(RunContext& run) override;
  void after_step(Step& step) override;
  void end(RunContext& run) override;

  /// Writes the grid for the current step; returns its path.
  std::filesystem::path write(RunContext& run);

 private:
  Config config_;
  std::int64_t every_steps_;
  std::int64_t count_;
  std::vector<std::string> columns_;
  std::string tag_;
  bool averaged_;
  std::vector<Batch> batches_;
  std::int64_t last_step_ = -1;
};

}  // namespace kiln::plugins
