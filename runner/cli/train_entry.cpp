// libkiln_train.so's C entry point: the commands that load LibTorch or plugins, each turning
// its errors into one "error:" line as the front does with its own.
#include <exception>

#include "cli/commands.hpp"
#include "cli/train_library.hpp"
#include "hooks/status_line.hpp"
#include "kiln/error.hpp"
#include "kiln/version.hpp"
#include "train/error_text.hpp"

namespace kiln::runner::cli {
namespace {

template <typename Args, int (*command)(const Args&)>
int guarded(const Args& args) {
  // This library has its own status line: log lines must print above it, not the front's.
  install_stderr_logger("kiln");
  try {
    return command(args);
  } catch (const kiln::Error& e) {
    return fail(kExitUsage, e.what());
  } catch (const std::exception& e) {
    return fail(kExitFailed, error_text(e));
  }
}

constexpr TrainCommands kCommands{KILN_VERSION_STRING,
                                  sizeof(TrainCommands),
                                  &guarded<RunArgs, run>,
                                  &guarded<ValidateArgs, validate>,
                                  &guarded<InferArgs, infer>,
                                  &guarded<DataArgs, data>,
                                  &guarded<PluginsArgs, plugins>,
                                  &guarded<ExportWeightsArgs, export_weights>,
                                  &guarded<SweepArgs, sweep>};

}  // namespace
}  // namespace kiln::runner::cli

extern "C" __attribute__((visibility("default"))) const kiln::runner::cli::TrainCommands* kiln_train_commands() {
  return &kiln::runner::cli::kCommands;
}
