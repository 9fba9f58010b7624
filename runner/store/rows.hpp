// The rows of the run database's tables, as the store writes and reads them: one struct per table.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "plugins/plugin_record.hpp"

namespace kiln::runner::store {

/// One row of `runs`. Times are unix seconds. A run being created (RunStore::create_run)
/// fills in what a starting run knows; id, status, ended and error are the database's.
struct RunRow {
  std::int64_t id = 0;
  std::string name;
  std::string experiment;    ///< the experiment file
  std::string config;        ///< the resolved config, TOML
  std::string config_hash;
  std::string status;        ///< running, completed, stopped, failed or crashed
  double started = 0;
  std::optional<double> ended;
  std::string host;          ///< local_host_name(), so mark_crashed() can check the pid
  std::int64_t pid = 0;
  std::string kiln_version;
  std::string run_dir;
  std::string error;         ///< why a failed or crashed run ended; empty otherwise
};

/// The name RunStore's writes use for a run's row.
using RunRecord = RunRow;

/// One value of a summary: its step and value. SQLite stores NaN as NULL; it reads back as NaN.
struct Point {
  std::int64_t step = 0;
  double value = 0;
};

/// One row of `summaries`.
struct SummaryRow {
  std::int64_t run_id = 0;
  std::string tag;
  std::int64_t step = 0;
  double value = 0;  ///< NaN where the database holds NULL
  double wall_time = 0;
};

/// One row of `events`.
struct EventRow {
  std::int64_t run_id = 0;
  std::string kind;  ///< start, restore, fallback, save, signal, nan, failure, stop, ...
  std::optional<std::int64_t> step;
  std::string message;
  double time = 0;
};

/// One row of `images`: a file the run wrote for `tag` at `step`.
struct ImageRow {
  std::int64_t run_id = 0;
  std::string tag;
  std::int64_t step = 0;
  std::string path;
  double wall_time = 0;
};

/// One row of `checkpoints`.
struct CheckpointRow {
  std::int64_t run_id = 0;
  std::int64_t step = 0;
  std::string path;
  std::int64_t bytes = 0;
  std::string sha256;
  double created = 0;   ///< unix seconds (the saver's clock)
  std::string reason;   ///< why it was saved: steps, time, end, stop, snapshot
  std::string kept;     ///< why it is kept: max_to_keep, keep_every_hours; empty once deleted
  std::optional<double> deleted;
};

/// One row of `plugins`: a library a run loaded and what it registered from it.
using runner::PluginRecord;

}  // namespace kiln::runner::store
