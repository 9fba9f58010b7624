// `kiln serve`: a live web dashboard over the run database (docs/serve.md).
#include "cli/commands.hpp"

namespace kiln::runner::cli {

int serve(const ServeArgs&) { return fail(kExitUsage, "kiln serve is not built yet"); }

}  // namespace kiln::runner::cli
