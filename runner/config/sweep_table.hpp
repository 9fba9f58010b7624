// The experiment file's [sweep] table: what `kiln sweep EXP.toml` runs when no flag says otherwise.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "kiln/config.hpp"

namespace kiln::runner {

/// One swept key and where it was declared: a flag ("--grid a.b=1,2") or a file position
/// ("exp.toml:14:3"), so that an error about the key can point there.
struct SweptKey {
  std::string key;                  ///< the dotted key, as --set takes it
  std::vector<std::string> values;  ///< grid and choice: each value as TOML text
  double lo = 0, hi = 0;            ///< uniform and log-uniform
  std::string origin;
};

struct SweepTable {
  std::optional<std::string> name, metric, mode;
  std::optional<std::int64_t> parallel, seed, random;
  std::optional<bool> median_stop;
  std::vector<SweptKey> grid, uniform, log_uniform, choice;
};

/// Reads [sweep] (every key, so that `kiln run` accepts the file and ignores the table); a
/// ConfigError at the bad key for a wrong type, an empty list, lo >= hi, a log range that
/// is not positive, or an unknown key (with did-you-mean).
///
///     [sweep]
///     name = "lr"
///     parallel = 2
///     grid = { "optimizers.adam.lr" = [1e-4, 2e-4], "data.batch_size" = [16, 32] }
///     log_uniform = { "optimizers.adam.weight_decay" = [1e-6, 1e-3] }
SweepTable read_sweep_table(const Config& sweep);

}  // namespace kiln::runner
