// `kiln sweep EXP.toml`: many trials of one experiment, each an ordinary run, K at a time.
#include "cli/commands.hpp"

namespace kiln::runner::cli {

int sweep(const SweepArgs&) { return fail(kExitUsage, "kiln sweep is not built yet"); }

}  // namespace kiln::runner::cli
