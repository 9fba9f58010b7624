// The rows of the run database's tables, as the store writes and reads them: one struct per table.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "plugins/plugin_record.hpp"

namespace kiln::runner::store {

/// Where a run trains and with what: the environment columns of `runs` (schema 5; the
/// processes' from schema 7), which RunStore::record_environment writes when the run starts or
/// resumes. An empty string or list, or no memory, is stored as NULL: not applicable or unknown.
/// With several processes (data-parallel ranks) the device fields are rank 0's.
struct RunEnvironment {
  std::string device;                         ///< "cpu", "cuda:0"; never empty once recorded
  std::string device_name;                    ///< "NVIDIA H200"
  std::optional<std::int64_t> device_memory;  ///< bytes; none on the CPU
  std::string torch_version;                  ///< LibTorch's, "2.11.0"
  std::string cuda_version;                   ///< "13.0"; empty without CUDA
  std::string cudnn_version;                  ///< "9.1"; empty without cuDNN
  std::string precision;                      ///< "fp32", "tf32", "bf16", ...
  std::int64_t world_size = 1;                ///< processes that trained it; 1 also for older kilns' runs
  std::string backend;                        ///< "gloo", "nccl"; empty for one process
  std::vector<std::string> hosts;             ///< each rank's host name, in rank order; empty for one process
};

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
  /// Read, not written by create_run (RunStore::record_environment writes it); none when
  /// the run has none recorded (its kiln predates schema 5, or the database does).
  std::optional<RunEnvironment> environment;
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

/// One rule of `summary_directions`: lower ("min") or higher ("max") values are better for the
/// tag `pattern`, or for every tag starting with it when it ends in '*' ("acc/*").
struct SummaryDirectionRow {
  std::int64_t run_id = 0;
  std::string pattern;
  std::string direction;  ///< "min" or "max"
  std::string source;     ///< "experiment" ([summaries]) or "hook" (RunContext::summary_direction)
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
