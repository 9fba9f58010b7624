// kiln's sub-commands as one table: each entry's name, help, options and what it calls.
#pragma once

#include <functional>
#include <string>
#include <vector>

namespace CLI {
class App;
}

namespace kiln::runner::cli {

/// Runs a parsed command; returns its exit code.
using Action = std::function<int()>;

/// One sub-command of `kiln`. Adding a command is adding one entry to commands().
struct Command {
  std::string name;
  std::string description;
  /// True for the commands libkiln_train.so runs (they load LibTorch or plugins); the others
  /// run in the torch-free front.
  bool trains = false;
  /// Adds the command's arguments to its sub-app (`--db` too, for the commands whose
  /// arguments name a database) and returns what runs it once the command line is parsed.
  std::function<Action(CLI::App& command)> add;
};

/// Every command, in the order `kiln --help` lists them.
const std::vector<Command>& commands();

}  // namespace kiln::runner::cli
