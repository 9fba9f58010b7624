// tf.train.Saver's retention rule, as a pure function the saver applies in the store.
#pragma once

#include <cstdint>
#include <vector>

namespace kiln::runner {

/// A checkpoint that retention may still delete (kept for max_to_keep), oldest first.
struct RecentCheckpoint {
  std::int64_t step;
  double created;  ///< unix seconds
};

struct RetentionDecision {
  std::vector<std::int64_t> remove;      ///< steps whose files go
  std::vector<std::int64_t> keep_hours;  ///< steps kept for good by keep_every_hours
  double next_keep_time;
};

/// tf.train.Saver: while more than `max_to_keep` recent checkpoints remain, the oldest leaves
/// the list; it is kept for good when keep_every_hours is set and it was created after the
/// next keep deadline (which then moves on by keep_every_hours), else deleted.
/// max_to_keep = 0 keeps everything.
RetentionDecision apply_retention(const std::vector<RecentCheckpoint>& recent, std::int64_t max_to_keep,
                                  double keep_every_hours, double next_keep_time);

}  // namespace kiln::runner
