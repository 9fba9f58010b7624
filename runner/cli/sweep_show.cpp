// `kiln sweep show NAME`: a sweep's trials ranked by its metric, with their overrides.
#include "cli/commands.hpp"

namespace kiln::runner::cli {

int sweep_show(const SweepShowArgs&) { return fail(kExitUsage, "kiln sweep show is not built yet"); }

}  // namespace kiln::runner::cli
