// A sweep's plan: its keys from the flags and the [sweep] table, and every trial's overrides.
// Torch-free; `kiln sweep` (cli/sweep.cpp) checks the keys against the experiment and runs it.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "config/sweep_table.hpp"
#include "kiln/error.hpp"

namespace kiln::runner::sweep {

/// A bad flag or a plan that cannot be made: `kiln sweep` exits with its usage code.
class PlanError : public Error {
 public:
  using Error::Error;
};

/// The sweep's command-line flags as given (SweepArgs without the CLI).
struct SweepFlags {
  std::vector<std::string> set, grid, uniform, log_uniform, choice;
  std::int64_t random = 0;
  std::optional<std::int64_t> seed;
  std::int64_t parallel = 0;
  std::string name, metric, mode;
  bool median_stop = false;
};

/// One trial: its run's name and the swept keys' values (TOML text), in the plan's key order.
struct Trial {
  std::int64_t number = 0;  ///< 1..
  std::string run;          ///< "<sweep>-001"
  std::vector<std::pair<std::string, std::string>> overrides;
};

struct SweepPlan {
  std::string name;
  std::filesystem::path experiment;
  std::vector<std::string> set;  ///< every trial's --set, before its own keys
  std::vector<SweptKey> grid, uniform, log_uniform, choice;
  std::int64_t random = 0;  ///< draws per grid point; 0: no random search
  std::uint64_t seed = 0;
  std::int64_t parallel = 1;
  std::optional<std::string> metric, mode;
  bool median_stop = false;
  std::vector<Trial> trials;

  /// Every swept key, grid first, each with where it was declared.
  std::vector<const SweptKey*> keys() const;
  /// What the trials are made of, as JSON with sorted keys and no spaces: the same command
  /// gives the same text, so a rerun finds its sweep. Parallelism, the metric and median
  /// stopping are left out: a rerun may change them.
  std::string spec_json() const;
};

/// "a,b,[1, 2],\"x,y\"" as its values: split at commas outside quotes and brackets, each trimmed.
std::vector<std::string> split_values(const std::string& text);
/// `--grid KEY=V1,V2` or `--choice KEY=A,B` (flag names which, for errors).
SweptKey parse_list_flag(const std::string& flag, const std::string& text);
/// `--uniform KEY=LO:HI` or `--log-uniform KEY=LO:HI` (LO < HI; log: LO > 0).
SweptKey parse_range_flag(const std::string& flag, const std::string& text, bool log);

/// "<sweep>-001": three digits, more when the sweep has more than 999 trials.
std::string trial_name(const std::string& sweep, std::int64_t number, std::int64_t total);

/// The plan: flags override the table's values and extend its keys (a flag's key replaces
/// the table's same key in place). `experiment_name` and `experiment_seed` are the defaults
/// of the name and the seed. Trials: the grid's Cartesian product in key order, the last
/// key varying fastest; with --random N each grid point gets N draws (trial g*N + d + 1).
SweepPlan make_plan(const std::filesystem::path& experiment, const SweepFlags& flags, const SweepTable& table,
                    const std::string& experiment_name, std::uint64_t experiment_seed);

}  // namespace kiln::runner::sweep
