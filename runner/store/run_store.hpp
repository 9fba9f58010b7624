// RunStore: the synchronous writes at the start and end of a run, and crash detection.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "store/database.hpp"
#include "store/rows.hpp"

namespace kiln::runner::store {

/// Run statuses finish_run() accepts; a run is 'running' until then.
inline constexpr std::string_view kFinalStatuses[] = {"completed", "stopped", "failed",
                                                      "crashed"};

/// Owns a read-write connection to the run database, migrated to the current schema.
/// Every write is one `BEGIN IMMEDIATE` transaction.
class RunStore {
 public:
  explicit RunStore(std::filesystem::path db);

  /// `base` if no run has that name, else the first free of base-2, base-3, ...
  std::string unique_run_name(const std::string& base);

  /// Inserts a 'running' run and returns its id. A taken name is a StoreError.
  int64_t create_run(const RunRecord& run);

  /// Inserts a 'running' run named unique_run_name(run.name), with run_dir
  /// `runs_dir / name`, and returns its id; `run` gets the name and directory. Choosing the
  /// name and inserting the row are one transaction, so processes that start fresh runs of
  /// one experiment at the same moment never choose the same name (`kiln run --fresh`).
  int64_t create_fresh_run(RunRecord& run, const std::filesystem::path& runs_dir);

  /// Records the flattened config; recording a key again replaces its value.
  void record_params(int64_t run_id,
                     const std::vector<std::pair<std::string, std::string>>& params);

  /// Records the plugins a run loaded; recording one again replaces its row.
  void record_plugins(int64_t run_id, const std::vector<PluginRecord>& plugins);

  /// Records the experiment's [summaries] rules, (pattern, "min" or "max") pairs: a tag, or
  /// a prefix ending in '*'. They replace the experiment's earlier rules for the run (a resumed
  /// run follows its file as it is now); hooks' declarations (Writer::summary_direction) stay.
  void record_summary_rules(int64_t run_id, const std::vector<std::pair<std::string, std::string>>& rules);

  /// Sets a run's final status (one of kFinalStatuses), its error (empty: none) and end.
  void finish_run(int64_t run_id, std::string_view status, std::string_view error,
                  double ended);

  /// Marks a run 'completed' whose process ended after writing its final checkpoint but
  /// before recording that the run finished, with a 'completed' event at `step` saying
  /// `message`; one transaction. The caller has verified the checkpoint.
  void complete_run(int64_t run_id, int64_t step, std::string_view message, double when);

  /// Marks 'running' runs of this host whose process is gone as 'crashed'; returns how
  /// many. Runs of other hosts are left alone: their pids mean nothing here.
  int mark_crashed();

  /// A run already in the database, found by name.
  struct ExistingRun {
    int64_t id = 0;
    std::string status;
    std::string host;
    int64_t pid = 0;
    std::string run_dir;
    std::int64_t world_size = 1;  ///< how many processes trained it (runs.world_size; NULL: 1)
    /// True when its status is 'running' and its process is alive on this host.
    bool alive = false;
  };
  std::optional<ExistingRun> find_run(const std::string& name);

  /// The config keys whose value differs between a run's recorded params and `now`
  /// (changed, added or removed), sorted.
  std::vector<std::string> changed_params(int64_t run_id,
                                          const std::vector<std::pair<std::string, std::string>>& now);

  /// Marks an existing run 'running' again in this process, with its new resolved config;
  /// its params are replaced by `params`.
  void resume_run(int64_t run_id, const RunRecord& run,
                  const std::vector<std::pair<std::string, std::string>>& params);

  /// Records where and with what the run trains now: its environment columns, which
  /// replace the ones it had. When it had one recorded and something differs (a run resumed
  /// on another device, with another LibTorch or in other processes), an 'environment' event
  /// at `when` says what changed, in the same transaction; its message (environment_changes())
  /// is returned, and is empty for a first record or no change. world_size is always written;
  /// an empty backend or hosts is NULL, hosts otherwise a JSON array ('["node1","node2"]').
  /// An empty device, a world size under 1, or hosts that are not one per rank is a
  /// StoreError (SQLITE_CONSTRAINT), so is a run_id with no run (SQLITE_NOTFOUND).
  std::string record_environment(int64_t run_id, const RunEnvironment& environment, double when);

  /// The connection, for the synchronous writes other parts of the runner own.
  Database& database() { return db_; }

 private:
  /// The INSERT of create_run, in the caller's transaction.
  int64_t insert_run(const RunRecord& run);

  Database db_;
};

/// This machine's host name, as RunRecord::host expects it.
std::string local_host_name();

/// An environment on one line, what it has of: "cuda:0 (NVIDIA H200, 139.8 GiB), torch 2.11.0,
/// CUDA 13.0, cuDNN 9.1, precision tf32"; "cpu, torch 1.13.1, precision fp32". Memory in GiB.
std::string describe_environment(const RunEnvironment& environment);

/// The processes that train a run, for `kiln show`: "4 (gloo) on node1 ×2, node2 ×2" (each
/// host once, in the order of its first rank, with its number of ranks), "2 (gloo) on node1"
/// on one host; empty for a single process (world_size 1).
std::string describe_processes(const RunEnvironment& environment);

/// What differs from `before` to `after`, field by field, "none" for an empty one:
/// "device cpu -> cuda:0; device memory none -> 139.8 GiB; precision fp32 -> tf32";
/// the number of processes with their backend: "processes 2 (gloo) -> 1". Hosts are not
/// compared: a run may resume on other machines, as its `host` may.
/// Empty when they are the same.
std::string environment_changes(const RunEnvironment& before, const RunEnvironment& after);

}  // namespace kiln::runner::store
