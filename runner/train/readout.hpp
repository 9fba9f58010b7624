// Scalars read back from the device without stalling it: what a step computed (its losses,
// summaries of tensors) is gathered, copied to the host in one non-blocking copy, and handed
// out once the copy has landed, a step or two later. On the CPU nothing waits, so values are
// handed out at once.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>

namespace kiln::runner {

/// One step's gathered scalars, by name, in the order they were added.
struct StepScalars {
  std::int64_t step = 0;
  std::vector<std::pair<std::string, double>> values;
  /// As the trainer hands them to listeners: each phase's gradient norm before clipping, by
  /// phase name, where it was gathered (StepValuesListener::wants_grad_norms, a clip).
  std::vector<std::pair<std::string, double>> grad_norms;
};

class Readout {
 public:
  /// `hold`: a step's values are handed out only once collect() must (more than `lag` steps
  /// behind the newest), as if every copy were still in flight: the latest a GPU can hand
  /// them out, so that tests on the CPU see what a lagged consumer sees on CUDA. Test-only.
  explicit Readout(c10::Device device, bool hold = false);
  ~Readout();
  Readout(const Readout&) = delete;
  Readout& operator=(const Readout&) = delete;

  /// Adds a one-element tensor (on the readout's device) to the current step's gather.
  void add(std::string name, const at::Tensor& value);
  /// Ends the gather of step `step`: one stacked copy to pinned host memory, an event after
  /// it. A step that added nothing costs nothing.
  void end_step(std::int64_t step);
  /// The gathered steps whose copy has landed, oldest first, waiting for those more than
  /// `lag` steps behind the newest, so that at most `lag` steps are ever in flight (lag 0:
  /// everything, now).
  std::vector<StepScalars> collect(std::size_t lag);
  /// Steps ended and not yet collected.
  std::size_t in_flight() const { return pending_.size(); }
  c10::Device device() const { return device_; }
  /// Whether values were added since the last end_step().
  bool gathering() const { return !values_.empty(); }
  /// How many values were added since the last end_step().
  std::size_t gathered() const { return values_.size(); }
  /// Takes the values added since the first `from` of them out of the gather, as add() keeps
  /// them (float64, 0-d): a step captured in a CUDA graph keeps them, and adds them again
  /// after each replay, which refills them.
  std::vector<std::pair<std::string, at::Tensor>> take_since(std::size_t from);

 private:
  struct Pending;
  c10::Device device_;
  bool hold_;
  std::vector<std::string> names_;
  std::vector<at::Tensor> values_;
  std::deque<std::unique_ptr<Pending>> pending_;
};

}  // namespace kiln::runner
