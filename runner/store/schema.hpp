// The run store's schema and the migrations that bring a database up to it.
#pragma once

#include "store/database.hpp"

namespace kiln::runner::store {

/// The schema version this kiln writes, kept in `PRAGMA user_version`.
inline constexpr int kSchemaVersion = 8;

/// The first schema version whose `runs` has the environment columns (device ... precision).
inline constexpr int kRunEnvironmentSince = 5;

/// The first schema version with `summary_directions` and metrics_best's direction columns.
inline constexpr int kSummaryDirectionsSince = 6;

/// The first schema version whose `runs` has the processes' columns (world_size, backend, hosts).
inline constexpr int kRunProcessesSince = 7;

/// The first schema version with `sweeps`, `sweep_trials`, `runs.sweep_id` and `sweep_best`.
inline constexpr int kSweepsSince = 8;

/// The database's `PRAGMA user_version` (0 for a new, empty database).
int schema_version(Database& db);

/// Throws a StoreError naming both versions when `version`, `db`'s user_version, is newer
/// than kSchemaVersion. Every open refuses such a database: migrate(), and Database's
/// read-only open, so that reading commands refuse it as kiln run does.
void refuse_newer_schema(const Database& db, int version);

/// Brings `db` to kSchemaVersion, one migration step at a time, in one transaction; a
/// no-op when it is already there. Throws StoreError for a database newer than this kiln.
void migrate(Database& db);

}  // namespace kiln::runner::store
