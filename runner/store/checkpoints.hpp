// The `checkpoints` and `retention` tables: what the saver wrote, kept and deleted.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "store/database.hpp"
#include "store/rows.hpp"

namespace kiln::runner::store {

/// Records a written checkpoint; a second row for the same (run, step) replaces the first.
void insert_checkpoint(Database& db, const CheckpointRow& row);
/// Changes why a checkpoint is kept (max_to_keep → keep_every_hours).
void set_kept(Database& db, std::int64_t run_id, std::int64_t step, const std::string& kept);
/// Marks a checkpoint deleted at `when` (its file goes after this commits).
void mark_deleted(Database& db, std::int64_t run_id, std::int64_t step, double when);

/// A run's checkpoints, oldest first; `include_deleted` also lists the deleted ones.
std::vector<CheckpointRow> list_checkpoints(Database& db, std::int64_t run_id, bool include_deleted = false);

/// The saver's next keep_every_hours deadline for a run, if it has one.
std::optional<double> next_keep_time(Database& db, std::int64_t run_id);
void set_next_keep_time(Database& db, std::int64_t run_id, double when);

}  // namespace kiln::runner::store
