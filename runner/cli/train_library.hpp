// libkiln_train.so, the commands that load LibTorch or plugins, and how the front loads it.
#pragma once

#include <cstddef>

#include "cli/commands.hpp"

namespace kiln::runner::cli {

/// What libkiln_train.so gives the front through its one C entry point. Each command prints
/// its own errors (one "error:" line) and returns the exit code: no exception crosses over.
struct TrainCommands {
  const char* version;  ///< KILN_VERSION_STRING of the build that made the library
  std::size_t size;     ///< sizeof(TrainCommands) there: a library from another build is refused
  int (*run)(const RunArgs&);
  int (*validate)(const ValidateArgs&);
  int (*infer)(const InferArgs&);
  int (*data)(const DataArgs&);
  int (*plugins)(const PluginsArgs&);
  int (*export_weights)(const ExportWeightsArgs&);
  int (*sweep)(const SweepArgs&);
};

/// The train library's commands, loaded on first use and kept loaded until the process exits:
/// <exe dir>/runner/libkiln_train.so in the build tree, <prefix>/lib/libkiln_train.so when
/// installed. Throws std::runtime_error naming the file and why it cannot be used.
const TrainCommands& train_commands();

}  // namespace kiln::runner::cli

/// The entry point the front looks up with dlsym.
extern "C" const kiln::runner::cli::TrainCommands* kiln_train_commands();
