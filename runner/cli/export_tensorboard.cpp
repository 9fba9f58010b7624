// `kiln export tensorboard`: runs' summaries and images as TensorBoard event files.
#include "cli/commands.hpp"

namespace kiln::runner::cli {

int export_tensorboard(const ExportTensorboardArgs&) {
  return fail(kExitUsage, "kiln export tensorboard is not built yet");
}

}  // namespace kiln::runner::cli
