// The `image_summaries` hook: PNG grids of held-out examples, input | output | target.
#include <algorithm>

#include <torch/torch.h>

#include "image/image_io.hpp"
#include "hooks.hpp"

namespace kiln::plugins {

ImageSummaries::ImageSummaries(const Config& config)
    : config_(config),
      every_steps_(config.get_non_negative<std::int64_t>("every_steps", 200)),
      count_(config.get_positive<std::int64_t>("count", 4)),
      columns_(config.get_or<std::vector<std::string>>("columns", {"input", "fake", "target"})),
      tag_(config.get_or<std::string>("tag", "images/eval")),
      averaged_(config.get_or<bool>("averaged", true)) {
  if (columns_.empty()) config.fail("columns", "names no image to show");
}

void ImageSummaries::prepare(RunContext& run) {
  // Every rank reads them, so that a missing [eval_data] is the same error on each.
  batches_ = held_out_batches(run, config_, count_, count_);
}

// In a data-parallel run only rank 0 writes grids (the run directory and its images are rank
// 0's); the other ranks skip the evaluation too, which is safe: it calls no collective, and the
// trainer reseeds each rank's generator at every step.
void ImageSummaries::begin(RunContext& run) {
  // The untrained model's grid, once: a resumed run (restored before begin) has it already.
  if (run.global_step() == 0 && run.is_main_process()) write(run);
}

std::filesystem::path ImageSummaries::write(RunContext& run) {
  const std::int64_t step = run.global_step();
  last_step_ = step;
  std::vector<torch::Tensor> rows;
  for (const Batch& batch : batches_) {
    const Outputs outputs = run.evaluate(batch, averaged_);
    std::vector<torch::Tensor> cells;
    // Outputs come from the training device, possibly in bf16/fp16: the grid is float32 on the CPU.
    for (const std::string& name : columns_)
      cells.push_back((outputs.contains(name) ? outputs.at(name) : batch.at(name)).to(torch::kCPU, torch::kFloat));
    // Examples side by side along the width: N×C×H×W → N rows of C×H×(W·columns).
    const torch::Tensor row = torch::cat(cells, /*dim=*/3);
    for (std::int64_t i = 0; i < row.size(0); ++i) rows.push_back(row[i]);
  }
  const torch::Tensor grid = torch::cat(rows, /*dim=*/1).clamp(-1, 1);
  std::string name = tag_;
  std::replace(name.begin(), name.end(), '/', '-');
  const std::filesystem::path file = run.run_dir() / "images" / (name + "-" + std::to_string(step) + ".png");
  std::filesystem::create_directories(file.parent_path());
  image::write_png(file, grid);
  run.image(tag_, step, std::filesystem::absolute(file));
  return file;
}

void ImageSummaries::after_step(Step& step) {
  RunContext& run = step.run();
  if (every_steps_ > 0 && run.global_step() % every_steps_ == 0 && run.is_main_process()) write(run);
}

void ImageSummaries::end(RunContext& run) {
  if (run.global_step() != last_step_ && run.is_main_process()) write(run);
}

}  // namespace kiln::plugins
