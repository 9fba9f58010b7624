// CheckpointKeeper: where RunContext::keep_checkpoint() goes (the saver implements it).
#pragma once

#include <cstdint>
#include <string_view>

namespace kiln::runner {

/// Implemented by the hook that writes checkpoints (the built-in saver). The trainer hands it
/// every RunContext::keep_checkpoint() request; without one such hook the request is an Error.
class CheckpointKeeper {
 public:
  virtual ~CheckpointKeeper() = default;
  /// Keep the checkpoint of `step` (the global step the request was made at, counted) for
  /// `reason`: write one at that step in this after_step() round unless one is written
  /// anyway, keep it while it is the newest kept for `reason`, record `reason` as why.
  virtual void keep(std::int64_t step, std::string_view reason) = 0;
};

}  // namespace kiln::runner
