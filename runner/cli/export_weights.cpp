// `kiln export weights`: a checkpoint's model weights as safetensors or a .pt for Python.
#include "cli/commands.hpp"

namespace kiln::runner::cli {

int export_weights(const ExportWeightsArgs&) { return fail(kExitUsage, "kiln export weights is not built yet"); }

}  // namespace kiln::runner::cli
