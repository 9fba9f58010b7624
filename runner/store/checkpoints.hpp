// The `checkpoints` and `retention` tables: what the saver wrote, kept and deleted.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "store/database.hpp"
#include "store/rows.hpp"

namespace kiln::runner::store {

/// Records a written checkpoint; a second row for the same (run, step) replaces the first.
void insert_checkpoint(Database& db, const CheckpointRow& row);
/// Changes why a checkpoint is kept (max_to_keep → keep_every_hours).
void set_kept(Database& db, std::int64_t run_id, std::int64_t step, const std::string& kept);

// `kept` says why a checkpoint is still there: "max_to_keep" (one of the recent ones,
// which retention may delete), or one or more reasons, comma-separated, that hold it
// whatever max_to_keep says: "keep_every_hours", and those hooks asked for through
// RunContext::keep_checkpoint ("best"). Only "max_to_keep" rows take part in retention.

/// The kept value of a checkpoint that only retention's recent window holds.
inline constexpr const char* kKeptRecent = "max_to_keep";
/// The reason early stopping keeps its best checkpoint for (kiln infer --best, init_from's best).
inline constexpr const char* kKeptBest = "best";
/// Whether `kept` holds `reason` ("best" in "keep_every_hours,best").
bool kept_for(std::string_view kept, std::string_view reason);
/// `kept` with `reason` added ("max_to_keep" + "best" = "best").
std::string with_reason(std::string_view kept, std::string_view reason);
/// `kept` without `reason`; "max_to_keep" when no reason is left.
std::string without_reason(std::string_view kept, std::string_view reason);

/// Makes the live checkpoint at `step` the one kept for `reason`: adds the reason to its
/// row and takes it from every other live row of the run, which go back to retention's
/// recent window (kept = "max_to_keep") when nothing else holds them. False, and nothing
/// changed, when the run has no live checkpoint at `step`.
bool keep_for(Database& db, std::int64_t run_id, std::int64_t step, std::string_view reason);
/// The newest live checkpoint of the run kept for `reason`, if it has one.
std::optional<CheckpointRow> kept_checkpoint(Database& db, std::int64_t run_id, std::string_view reason);
/// Marks a checkpoint deleted at `when` (its file goes after this commits).
void mark_deleted(Database& db, std::int64_t run_id, std::int64_t step, double when);

/// A run's checkpoints, oldest first; `include_deleted` also lists the deleted ones.
std::vector<CheckpointRow> list_checkpoints(Database& db, std::int64_t run_id, bool include_deleted = false);

/// The saver's next keep_every_hours deadline for a run, if it has one.
std::optional<double> next_keep_time(Database& db, std::int64_t run_id);
void set_next_keep_time(Database& db, std::int64_t run_id, double when);

}  // namespace kiln::runner::store
