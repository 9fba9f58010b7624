// tf.train.Saver's retention rule, as a pure function the saver applies in the store.
#include "hooks/retention.hpp"

namespace kiln::runner {

RetentionDecision apply_retention(const std::vector<RecentCheckpoint>& recent, std::int64_t max_to_keep,
                                  double keep_every_hours, double next_keep_time) {
  RetentionDecision decision{{}, {}, next_keep_time};
  if (max_to_keep <= 0) return decision;
  const std::size_t limit = static_cast<std::size_t>(max_to_keep);
  for (std::size_t i = 0; i + limit < recent.size(); ++i) {
    const RecentCheckpoint& oldest = recent[i];
    if (keep_every_hours > 0 && oldest.created > decision.next_keep_time) {
      decision.keep_hours.push_back(oldest.step);
      decision.next_keep_time += keep_every_hours * 3600.0;
    } else {
      decision.remove.push_back(oldest.step);
    }
  }
  return decision;
}

}  // namespace kiln::runner
