// Where a run's summaries and events go: the run store in `kiln run`, memory in tests.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace kiln::runner {

/// Receives what a run records. Implementations must not block the training thread on
/// I/O: the store's implementation only queues.
class Recorder {
 public:
  virtual ~Recorder() = default;
  virtual void summary(std::string_view tag, std::int64_t step, double value) = 0;
  virtual void event(std::string_view kind, std::optional<std::int64_t> step, std::string_view message) = 0;
  virtual void image(std::string_view tag, std::int64_t step, const std::string& path) = 0;
  /// Throws when what was queued can no longer be recorded (the database's disk is full),
  /// so that the run fails at this step instead of training on unrecorded. Called once a
  /// step on the training thread: it must be cheap.
  virtual void check() {}
  /// Whether higher ("max") or lower ("min") values of `tag` are better, as a hook declared
  /// it (RunContext::summary_direction). Nothing by default.
  virtual void summary_direction(std::string_view tag, std::string_view direction) {}
};

/// A hook that is also handed what the run records, once its Recorder has it (the built-in
/// tensorboard hook): the Trainer finds it among its hooks. Called on the thread that
/// records, often the training thread: it must only queue.
class RecordListener {
 public:
  virtual ~RecordListener() = default;
  virtual void recorded_summary(std::string_view tag, std::int64_t step, double value) = 0;
  /// `path`: the image file, absolute.
  virtual void recorded_image(std::string_view tag, std::int64_t step, const std::string& path) = 0;
};

}  // namespace kiln::runner
