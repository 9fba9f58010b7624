// Sweeps (issue 16): a sweep's definition and trials, written by kiln sweep, read by sweep show.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "store/database.hpp"

namespace kiln::runner::store {

/// One row of `sweeps`.
struct SweepRow {
  std::int64_t id = 0;
  std::string name;
  std::string experiment;             ///< the experiment file as given to kiln sweep
  std::string spec;                   ///< the sweep as kiln sweep resolved it, a JSON object
  std::optional<std::string> metric;  ///< the tag that ranks the trials; none: not ranked
  std::optional<std::string> mode;    ///< "min" or "max"; none: the tag's direction in each run
  std::int64_t trials = 0;
  double created = 0;                 ///< unix seconds; record_sweep stamps 0 with the time it records
};

/// One trial: its `sweep_trials` row, then what `runs` and `sweep_best` say of its run.
struct TrialRow {
  std::int64_t trial = 0;                ///< 1, 2, ...
  std::string run;                       ///< its run's name: <sweep>-001, ...
  std::string overrides;                 ///< JSON object {"optimizers.adam.lr": "0.001"}: TOML text per key
  std::optional<std::int64_t> cut_step;  ///< where median stopping cut it; none: not cut
  // Read, not written by record_sweep:
  std::optional<std::int64_t> run_id;    ///< none before its run exists
  std::string status;                    ///< the run's status; empty before it exists
  std::optional<double> best_value;      ///< of the sweep's metric, by direction
  std::optional<std::int64_t> best_step;
  std::optional<std::int64_t> rank;      ///< 1 for the best; none without a value
  std::string direction;                 ///< "min" or "max"; empty while unknown
  std::string error;                     ///< the run's error, if it failed
};

/// Creates the sweep `wanted` (its id is ignored) with its trials, in one transaction, and
/// returns it with its id. A sweep of that name
/// already there with the same experiment, spec, metric, mode and trials is returned as it is
/// (kiln sweep resumes it); with another definition it is a StoreError (SQLITE_CONSTRAINT)
/// naming what differs and asking for another --name.
SweepRow record_sweep(Database& db, const SweepRow& wanted, const std::vector<TrialRow>& trials);

/// The sweep named `name`, if there is one (none in a database older than schema 8).
std::optional<SweepRow> find_sweep(Database& db, const std::string& name);

/// The sweep named `name`; none is a StoreError (SQLITE_NOTFOUND) naming the database and
/// suggesting the closest sweep name.
SweepRow require_sweep(Database& db, const std::string& name);

/// A sweep's trials from `sweep_best`, ranked: by rank, the unranked after, each by trial.
std::vector<TrialRow> sweep_trials(Database& db, std::int64_t sweep_id);

/// The names of the runs of sweep `name`'s trials that have one, best first (sweep_trials'
/// order): what `kiln compare --sweep` and `kiln report --sweep` read. An unknown sweep is
/// require_sweep's StoreError.
std::vector<std::string> sweep_runs(Database& db, const std::string& name);

/// Marks trial `trial` of a sweep cut at `step`, and adds a 'sweep_cut' event at `step` saying
/// `message` to its run, in one transaction. A trial that is not there, or whose run does not
/// exist yet, is a StoreError (SQLITE_NOTFOUND).
void record_cut(Database& db, std::int64_t sweep_id, std::int64_t trial, std::int64_t step,
                const std::string& message);

/// Throws a StoreError (SQLITE_NOTFOUND) naming KILN_SWEEP_ID when there is no sweep `sweep_id`.
void require_sweep_id(Database& db, std::int64_t sweep_id);

/// Records that run `run_id` is a trial of sweep `sweep_id` (runs.sweep_id). A sweep that is
/// not there is a StoreError (SQLITE_NOTFOUND).
void set_run_sweep(Database& db, std::int64_t run_id, std::int64_t sweep_id);

/// The sweep id in the environment variable KILN_SWEEP_ID, which kiln sweep sets for each
/// trial's kiln run: none when it is unset or empty; a value that is not a positive integer
/// is a kiln::Error naming it.
std::optional<std::int64_t> sweep_id_from_environment();

}  // namespace kiln::runner::store
